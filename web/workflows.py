"""Phone workflows (seed section 2): JSON endpoints the web phone's workflow panel calls.

Every endpoint works on one call the logged-in agent was offered or took (``web.identity.agent_call``);
every SOQL/SOSL statement is built with ``soql_quote``/``soql_like``/``sosl_escape`` only; POSTs need the
session's CSRF token in an ``X-CSRF-Token`` header. The agent's choice for a call is kept in Redis
(``switchboard:call:<id>:context``) and ``worker.tasks.finish_call`` relates the call Task to it; a
choice made after the Task was queued re-runs ``finish_call`` so the same Task is updated.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from rq import Queue

from switchboard.callerid import ACCOUNT_NAME, admin_columns, with_account_name
from switchboard.config import FIELD_NAME, SEARCH_SCOPES
from switchboard.contracts import AUTOCASE_KEY, FINISH_CALL, RETRY, SUMMARY_KEY, finish_call_job_id
from switchboard.salesforce import plain_record, soql_like, soql_quote, sosl_escape
from web.auth import current_user, login_required, require_csrf_header
from web.context import get_settings
from web.errors import ApiError, json_body
from web.framing import salesforce_framable_csp
from web.identity import (
    agent_call,
    identity,
    live_settings,
    outbound_other_object,
    queue_label,
    save_context,
    second_object,
    services,
    workflow_match,
    workflow_of,
)
from web.phone import BUILD_HINT, missing_vendor_files

logger = logging.getLogger(__name__)

bp = Blueprint("workflows", __name__)

PREFIXES = {"Account": "001", "Contact": "003", "Lead": "00Q", "Case": "500"}
SF_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
MAX_QUERY = 100
RECENT_CASES = 5
LIST_LIMIT = 10
CASE_COLUMNS = ("CaseNumber", "Subject", "CreatedDate", "LastModifiedDate")


# helpers -------------------------------------------------------------------------------------------
def sf_id(value: Any, sobject: str | None = None) -> str:
    """A Salesforce record id (of ``sobject`` when given, by its key prefix), else 400."""
    text = str(value or "")
    if not SF_ID.match(text) or (sobject and not text.startswith(PREFIXES[sobject])):
        raise ApiError("bad_id", f"Not a {sobject or 'record'} id.", 400)
    return text


def object_of(record_id: str) -> str | None:
    """The object (Account, Contact, Lead, Case) of an id by its key prefix."""
    return next((name for name, prefix in PREFIXES.items() if record_id.startswith(prefix)), None)


def fields_of(sobject: str, base: tuple[str, ...]) -> list[str]:
    """``base`` plus the admin's extra columns of ``sobject`` (no duplicates)."""
    return list(dict.fromkeys([*base, *extra_columns(sobject)]))


def sf(op: Any) -> Any:
    """Run ``op(salesforce)`` with the shared session (one re-login, short backoff)."""
    try:
        return services().client.call(op, budget=5)
    except ApiError:
        raise
    except Exception as exc:
        logger.warning("Salesforce request failed: %s", exc)
        raise ApiError("salesforce", "Salesforce did not answer; try again.", 502) from exc


def extra_columns(sobject: str) -> list[str]:
    """The admin's extra result columns of an object, as configured now."""
    return admin_columns(live_settings(), sobject)


def records_of(result: dict[str, Any] | None, key: str = "records") -> list[dict[str, Any]]:
    """The plain records of a query (``records``) or search (``searchRecords``) result, account names flat."""
    return [with_account_name(plain_record(r)) for r in (result or {}).get(key, [])]


def rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Display rows: type, Id, Name, AccountId, AccountName, Phone and the admin's columns."""
    out = []
    for r in records:
        kind = r.get("type") or object_of(str(r.get("Id", ""))) or ""
        extra = {c: r.get(c) for c in extra_columns(kind)} if kind in PREFIXES else {}
        out.append({"type": kind, "Id": r.get("Id"), "Name": r.get("Name") or "",
                    "AccountId": r.get("AccountId") or "", "Phone": r.get("Phone") or "",
                    "AccountName": r.get("AccountName") or "" if kind == "Contact" else "", "extra": extra})
    return out


def returning(sobject: str, base: tuple[str, ...]) -> str:
    """``Contact(Id, Name, ... LIMIT 10)`` with the admin's columns."""
    return f"{sobject}({', '.join(fields_of(sobject, base))} LIMIT {LIST_LIMIT})"


def case_search(text: str) -> str:
    """``(CaseNumber LIKE '%text' OR Subject LIKE '%text%' ...)``: a case by its number (the end of it, so
    "1026" finds 00001026) or by the admin's case search fields (filterable text fields)."""
    fields = [f for f in live_settings().workflow_case_search_fields if FIELD_NAME.match(f) and f != "CaseNumber"]
    parts = [f"CaseNumber LIKE {soql_like(text, after='')}", *(f"{f} LIKE {soql_like(text)}" for f in fields)]
    return f"({' OR '.join(parts)})"


def reapply_to_task(call_id: str) -> bool:
    """If the call's activity was already queued, run finish_call again so the same Task is updated."""
    conn = services().redis
    raw = conn.get(SUMMARY_KEY.format(call_id))
    if not raw:
        return False
    summary = json.loads(raw)
    job_id = f"{finish_call_job_id(call_id)}-ctx-{int(time.time() * 1000)}"
    Queue(get_settings().rq_queue, connection=conn).enqueue(FINISH_CALL, summary, job_id=job_id, retry=RETRY)
    logger.info("call %s: workflow choice after the activity was queued; re-queued as %s", call_id, job_id)
    return True


def choose(call_id: str, sobject: str, record_id: str, account_id: str = "") -> dict[str, str]:
    """Relate the call's Task to a chosen record; returns the saved context."""
    if sobject in ("Contact", "Lead"):
        ctx = save_context(call_id, who_id=record_id, what_id=account_id if sobject == "Contact" else "")
    elif sobject == "Account":
        ctx = save_context(call_id, what_id=record_id)
    else:
        ctx = save_context(call_id, case_id=record_id)
    reapply_to_task(call_id)
    return ctx


def subject_of(call: dict[str, Any]) -> str:
    """A new Case's subject."""
    number = call.get("caller_number") or "unknown number"
    direction = "Outbound call to" if call.get("direction") == "outbound" else "Inbound call from"
    return f"{direction} {number} ({queue_label(call)})"


# endpoints -----------------------------------------------------------------------------------------
@bp.get("/api/calls/<call_id>/identity")
@login_required
def call_identity(call_id: str) -> Response:
    """Who is calling: Salesforce match, directory match, queue or 'Direct', the agent's workflow."""
    started = time.perf_counter()
    # ?wait=1 (the ringing phone): the INVITE may beat the offer record by a moment; wait up to 2 s,
    # then answer 204 (nothing to show) rather than an error the browser logs.
    deadline = started + (2.0 if request.args.get("wait") else 0)
    while True:
        try:
            call = agent_call(call_id)
            break
        except ApiError as exc:
            if exc.status != 404 or time.perf_counter() >= deadline:
                if exc.status == 404 and request.args.get("wait"):
                    return Response(status=204)
                raise
            time.sleep(0.05)
    result = identity(call)
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Server-Timing"] = f"identify;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


@bp.get("/api/calls/<call_id>/matches")
@login_required
def call_matches(call_id: str) -> Response:
    """The caller's matching records as display rows (Type, Full Name, Account Name, admin columns)."""
    call = agent_call(call_id)
    # The cached lookup carries the admin's columns: no Salesforce request here.
    match = workflow_match(services().directory.identify(str(call.get("caller_number") or "")),
                           workflow_of(current_user()))
    return jsonify({"kind": match["kind"], "rows": rows(match["records"]), "columns": column_heads()})


def column_heads() -> dict[str, list[str]]:
    """The admin's extra columns per object, for table headers."""
    return {o: extra_columns(o) for o in ("Contact", "Account", "Lead", "Case")}


@bp.get("/api/calls/<call_id>/search")
@login_required
def call_search(call_id: str) -> Response:
    """Search contacts and accounts (or leads) by name (SOSL, escaped)."""
    agent_call(call_id)
    text = (request.args.get("q") or "").strip()[:MAX_QUERY]
    term = sosl_escape(text)
    if len(text.replace("*", "")) < 2 or not term:
        raise ApiError("query_too_short", "Type at least two characters.", 400)
    where = live_settings().workflow_search_in.upper()
    where = where if where in SEARCH_SCOPES else "NAME"
    other = request.args.get("scope") or second_object(workflow_of(current_user()))
    other = "Lead" if other == "Lead" else "Account"
    second = returning("Lead", ("Id", "Name", "Phone", "Company")) if other == "Lead" else \
        returning("Account", ("Id", "Name", "Phone"))
    sosl = (f"FIND {{{term}}} IN {where} FIELDS RETURNING "
            f"{returning('Contact', ('Id', 'Name', 'Phone', 'AccountId', ACCOUNT_NAME))}, {second}")
    records = records_of(sf(lambda s: s.search(sosl)), "searchRecords")
    return jsonify({"rows": rows(records), "columns": column_heads()})


@bp.get("/api/calls/<call_id>/cases")
@login_required
def call_cases(call_id: str) -> Response:
    """The five last-modified Cases of a contact, or Cases found by number or the admin's search fields
    (``q``; SOQL LIKE, so it works on any org: Subject is not a SOSL name field of Case)."""
    agent_call(call_id)
    contact = request.args.get("contact_id")
    contact_id = sf_id(contact, "Contact") if contact else ""
    extra = extra_columns("Case")
    fields = fields_of("Case", ("Id", *CASE_COLUMNS, "ContactId", "AccountId", ACCOUNT_NAME))
    text = (request.args.get("q") or "").strip()[:MAX_QUERY]
    of_contact = f"ContactId = {soql_quote(contact_id)}" if contact_id else ""
    if text:
        where, limit = " AND ".join(filter(None, [of_contact, case_search(text)])), LIST_LIMIT
    elif contact_id:
        where, limit = of_contact, RECENT_CASES
    else:
        raise ApiError("bad_request", "Give a contact_id or a search text.", 400)
    q = f"SELECT {', '.join(fields)} FROM Case WHERE {where} ORDER BY LastModifiedDate DESC LIMIT {limit}"
    records = records_of(sf(lambda s: s.query(q)))
    cases = [{"Id": r["Id"], **{c: r.get(c) for c in CASE_COLUMNS}, "AccountName": r.get("AccountName") or "",
              "extra": {c: r.get(c) for c in extra}} for r in records]
    return jsonify({"cases": cases, "columns": extra})


@bp.get("/api/calls/<call_id>/contact/<contact_id>")
@login_required
def call_contact(call_id: str, contact_id: str) -> Response:
    """A contact's details for the CaseDialog's contact header."""
    agent_call(call_id)
    cid = sf_id(contact_id, "Contact")
    fields = fields_of("Contact", ("Id", "Name", "Phone", "AccountId", ACCOUNT_NAME))
    q = f"SELECT {', '.join(fields)} FROM Contact WHERE Id = {soql_quote(cid)}"
    found = records_of(sf(lambda s: s.query(q)))
    if not found:
        raise ApiError("not_found", "No such contact.", 404)
    return jsonify(rows(found)[0])


@bp.post("/api/calls/<call_id>/case")
@login_required
def create_case(call_id: str) -> Any:
    """Create a Case for the call (with the contact when given); ``auto`` makes it once per call."""
    require_csrf_header()
    call = agent_call(call_id)
    data = json_body()
    contact_id = sf_id(data["contact_id"], "Contact") if data.get("contact_id") else ""
    account_id = sf_id(data["account_id"], "Account") if data.get("account_id") else ""
    conn = services().redis
    auto_key = AUTOCASE_KEY.format(call_id)
    if data.get("auto"):
        existing = conn.get(auto_key)
        if existing:
            return jsonify({"id": existing.decode(), "type": "Case", "created": False})
    if contact_id and not account_id:
        q = f"SELECT Id, AccountId FROM Contact WHERE Id = {soql_quote(contact_id)}"
        found = sf(lambda s: s.query(q))["records"]
        account_id = (found[0].get("AccountId") or "") if found else ""
    fields: dict[str, Any] = {"Subject": subject_of(call), "Origin": "Phone", "Status": "New",
                              "SuppliedPhone": str(call.get("caller_number") or "")[:40]}
    if contact_id:
        fields["ContactId"] = contact_id
    if account_id:
        fields["AccountId"] = account_id
    if data.get("auto") and not conn.set(auto_key, "pending", nx=True, ex=86400):
        raise ApiError("conflict", "The case of this call is being created.", 409)
    created = sf(lambda s: s.Case.create(fields))
    case_id = str(created["id"])
    if data.get("auto"):
        conn.set(auto_key, case_id, ex=86400)
    save_context(call_id, who_id=contact_id or None, what_id=account_id or None)
    ctx = choose(call_id, "Case", case_id)
    logger.info("call %s: case %s created by %s", call_id, case_id, call["agent"])
    return jsonify({"id": case_id, "type": "Case", "created": True, "context": ctx}), 201


def _record_request(call_id: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The agent's own call, the JSON body and its Contact/Account/Lead ``type`` (CSRF-checked)."""
    require_csrf_header()
    call = agent_call(call_id)
    data = json_body()
    sobject = str(data.get("type") or "")
    if sobject not in ("Contact", "Account", "Lead"):
        raise ApiError("bad_type", "type must be Contact, Account or Lead.", 400)
    return call, data, sobject


@bp.post("/api/calls/<call_id>/records")
@login_required
def create_record(call_id: str) -> Any:
    """Create a Contact, Account or Lead with the caller's number as its phone, and choose it."""
    call, data, sobject = _record_request(call_id)
    number = str(call.get("caller_number") or "")[:40]

    def text(key: str, limit: int) -> str:
        return str(data.get(key) or "").strip()[:limit]

    fields: dict[str, Any] = {"Phone": number}
    if sobject == "Account":
        fields["Name"] = text("name", 255)
        if not fields["Name"]:
            raise ApiError("missing_name", "Give the account's name.", 400)
    else:
        fields.update(FirstName=text("first_name", 40), LastName=text("last_name", 80))
        if not fields["LastName"]:
            raise ApiError("missing_name", "Give the last name.", 400)
        if sobject == "Lead":
            fields["Company"] = text("company", 255) or "[not provided]"
        elif data.get("account_id"):
            fields["AccountId"] = sf_id(data["account_id"], "Account")
    created = sf(lambda s: getattr(s, sobject).create(fields))
    record_id = str(created["id"])
    services().directory.invalidate(number)
    ctx = choose(call_id, sobject, record_id, fields.get("AccountId", ""))
    logger.info("call %s: %s %s created by %s", call_id, sobject, record_id, call["agent"])
    return jsonify({"id": record_id, "type": sobject, "context": ctx}), 201


@bp.post("/api/calls/<call_id>/phone")
@login_required
def update_phone(call_id: str) -> Response:
    """Set the caller's number as the phone of a chosen record and forget the cached lookups of both its
    old number and the new one."""
    call, data, sobject = _record_request(call_id)
    record_id = sf_id(data.get("id"), sobject)
    number = str(call.get("caller_number") or "")[:40]
    if not number:
        raise ApiError("no_number", "The call has no caller number.", 400)
    q = f"SELECT Id, Phone FROM {sobject} WHERE Id = {soql_quote(record_id)}"
    found = sf(lambda s: s.query(q))["records"]
    if not found:
        raise ApiError("not_found", f"No such {sobject}.", 404)
    sf(lambda s: getattr(s, sobject).update(record_id, {"Phone": number}))
    services().directory.invalidate(found[0].get("Phone") or "", number)
    logger.info("call %s: phone of %s %s updated by %s", call_id, sobject, record_id, call["agent"])
    return jsonify({"id": record_id, "type": sobject, "phone": number})


@bp.post("/api/calls/<call_id>/choose")
@login_required
def choose_record(call_id: str) -> Response:
    """The agent chose a record (Contact, Account, Lead or Case) for the call: the Task relates to it."""
    require_csrf_header()
    call = agent_call(call_id)
    data = json_body()
    record_id = sf_id(data.get("id"))
    sobject = object_of(record_id)
    if sobject is None or (data.get("type") and data["type"] != sobject):
        raise ApiError("bad_type", "Choose a Contact, Account, Lead or Case.", 400)
    if (call.get("direction") == "outbound" and sobject not in ("Contact", "Lead")
            and outbound_other_object(current_user()) == "ignore"):
        return jsonify({"id": record_id, "type": sobject, "context": None, "ignored": True})
    account_id = sf_id(data["account_id"], "Account") if data.get("account_id") else ""
    return jsonify({"id": record_id, "type": sobject, "context": choose(call_id, sobject, record_id, account_id)})


# Open CTI shell ------------------------------------------------------------------------------------
@bp.get("/softphone")
@login_required
def softphone() -> Any:
    """The web phone for Salesforce's Open CTI softphone panel (may be framed by Salesforce)."""
    missing = missing_vendor_files(current_app.static_folder or "")
    if missing:
        logger.error("web phone bundles missing: %s; %s", ", ".join(missing), BUILD_HINT)
        return render_template("bundle_missing.html", missing=missing, hint=BUILD_HINT), 500
    response = Response(render_template("phone.html", user=current_user(), shell="opencti"))
    response.headers["Content-Security-Policy"] = opencti_csp()
    return response


def opencti_csp() -> str:
    """The app's CSP, but framable by Salesforce and loading opencti_min.js from the org's domain."""
    return salesforce_framable_csp(load_opencti=True)
