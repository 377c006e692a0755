"""Phone workflows (seed section 2): JSON endpoints the web phone's workflow panel calls.

Every endpoint works on one call the logged-in agent was offered or took (``web.identity.agent_call``);
every SOQL/SOSL statement is built with ``soql_quote``/``sosl_escape`` only; POSTs need the session's
CSRF token in an ``X-CSRF-Token`` header. The agent's choice for a call is kept in Redis
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

from web.auth import current_user, login_required, require_csrf_header
from web.context import get_settings
from web.errors import ApiError, json_body
from web.framing import salesforce_framable_csp
from web.identity import agent_call, identity, queue_label, save_context, services, workflow_of
from web.phone import BUILD_HINT, missing_vendor_files
from worker.salesforce import plain_record, soql_quote, sosl_escape
from worker.tasks import SUMMARY_KEY, finish_call_job_id

logger = logging.getLogger(__name__)

bp = Blueprint("workflows", __name__)

PREFIXES = {"Account": "001", "Contact": "003", "Lead": "00Q", "Case": "500"}
SF_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
SEARCH_IN = {"NAME", "ALL", "EMAIL", "PHONE"}
MAX_QUERY = 100
RECENT_CASES = 5
LIST_LIMIT = 10
CASE_COLUMNS = ("CaseNumber", "Subject", "CreatedDate", "LastModifiedDate")
FINISH_CALL = "worker.tasks.finish_call"


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


def columns(setting: tuple[str, ...], base: tuple[str, ...]) -> list[str]:
    """``base`` plus the admin's extra columns (valid field names only, no duplicates)."""
    extra = [c for c in setting if FIELD.match(c)]
    return list(dict.fromkeys([*base, *extra]))


def sf(op: Any) -> Any:
    """Run ``op(salesforce)`` with the shared session (one re-login, short backoff)."""
    try:
        return services().client.call(op, budget=5)
    except ApiError:
        raise
    except Exception as exc:
        logger.warning("Salesforce request failed: %s", exc)
        raise ApiError("salesforce", "Salesforce did not answer; try again.", 502) from exc


def account_names(ids: list[str]) -> dict[str, str]:
    """Names of these accounts (one query)."""
    ids = sorted({i for i in ids if i and SF_ID.match(i)})
    if not ids:
        return {}
    q = f"SELECT Id, Name FROM Account WHERE Id IN ({', '.join(soql_quote(i) for i in ids)})"
    return {r["Id"]: r.get("Name") or "" for r in sf(lambda s: s.query(q))["records"]}


def extra_columns(sobject: str) -> list[str]:
    """The admin's extra result columns of an object."""
    s = get_settings()
    setting = {"Contact": s.workflow_contact_columns, "Account": s.workflow_account_columns,
               "Lead": s.workflow_lead_columns, "Case": s.workflow_case_columns}[sobject]
    return columns(setting, ())


def rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Display rows: type, Id, Name, AccountId, AccountName, Phone and the admin's columns."""
    names = account_names([r.get("AccountId") or "" for r in records if r.get("type") == "Contact"])
    out = []
    for r in records:
        kind = r.get("type") or object_of(str(r.get("Id", ""))) or ""
        extra = {c: r.get(c) for c in extra_columns(kind)} if kind in PREFIXES else {}
        out.append({"type": kind, "Id": r.get("Id"), "Name": r.get("Name") or "",
                    "AccountId": r.get("AccountId") or "", "Phone": r.get("Phone") or "",
                    "AccountName": names.get(r.get("AccountId") or "", "") if kind == "Contact" else "",
                    "extra": extra})
    return out


def returning(sobject: str, base: tuple[str, ...]) -> str:
    """``Contact(Id, Name, ... LIMIT 10)`` with the admin's columns."""
    return f"{sobject}({', '.join(columns(tuple(extra_columns(sobject)), base))} LIMIT {LIST_LIMIT})"


def second_object() -> str:
    """Account, or Lead for the Contact&Lead workflow."""
    return "Lead" if workflow_of(current_user()) == "contact_lead" else "Account"


def reapply_to_task(call_id: str) -> bool:
    """If the call's activity was already queued, run finish_call again so the same Task is updated."""
    conn = services().redis
    raw = conn.get(SUMMARY_KEY.format(call_id))
    if not raw:
        return False
    summary = json.loads(raw)
    job_id = f"{finish_call_job_id(call_id)}-ctx-{int(time.time() * 1000)}"
    Queue(get_settings().rq_queue, connection=conn).enqueue(FINISH_CALL, summary, job_id=job_id)
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
    match = services().directory.identify(str(call.get("caller_number") or ""))
    by_type: dict[str, list[str]] = {}
    for r in match["records"]:
        by_type.setdefault(r.get("type") or "", []).append(r["Id"])
    records: list[dict[str, Any]] = []
    for sobject, ids in by_type.items():
        if sobject not in ("Contact", "Account", "Lead") or not ids:
            continue
        base = ("Id", "Name", "Phone", "AccountId") if sobject == "Contact" else ("Id", "Name", "Phone")
        fields = columns(tuple(extra_columns(sobject)), base)
        q = (f"SELECT {', '.join(fields)} FROM {sobject} WHERE Id IN "
             f"({', '.join(soql_quote(i) for i in ids[:LIST_LIMIT])}) ORDER BY Name LIMIT {LIST_LIMIT}")
        records += [plain_record(r) for r in sf(lambda s, q=q: s.query(q))["records"]]
    return jsonify({"kind": match["kind"], "rows": rows(records), "columns": column_heads()})


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
    where = get_settings().workflow_search_in.upper()
    where = where if where in SEARCH_IN else "NAME"
    other = request.args.get("scope") or second_object()
    other = "Lead" if other == "Lead" else "Account"
    second = returning("Lead", ("Id", "Name", "Phone", "Company")) if other == "Lead" else \
        returning("Account", ("Id", "Name", "Phone"))
    sosl = (f"FIND {{{term}}} IN {where} FIELDS RETURNING "
            f"{returning('Contact', ('Id', 'Name', 'Phone', 'AccountId'))}, {second}")
    result = sf(lambda s: s.search(sosl)) or {}
    records = [plain_record(r) for r in result.get("searchRecords", [])]
    return jsonify({"rows": rows(records), "columns": column_heads()})


@bp.get("/api/calls/<call_id>/cases")
@login_required
def call_cases(call_id: str) -> Response:
    """The five last-modified Cases of a contact, or Cases found by number/subject (``q``)."""
    agent_call(call_id)
    contact = request.args.get("contact_id")
    contact_id = sf_id(contact, "Contact") if contact else ""
    extra = extra_columns("Case")
    fields = columns(tuple(extra), ("Id", *CASE_COLUMNS, "ContactId", "AccountId"))
    text = (request.args.get("q") or "").strip()[:MAX_QUERY]
    if text:
        term = sosl_escape(text)
        if not term:
            raise ApiError("query_too_short", "Type a case number or subject.", 400)
        where = f" WHERE ContactId = {soql_quote(contact_id)}" if contact_id else ""
        sosl = (f"FIND {{{term}}} IN NAME FIELDS RETURNING Case({', '.join(fields)}{where} "
                f"ORDER BY LastModifiedDate DESC LIMIT {LIST_LIMIT})")
        result = sf(lambda s: s.search(sosl)) or {}
        records = [plain_record(r) for r in result.get("searchRecords", [])]
    else:
        if not contact_id:
            raise ApiError("bad_request", "Give a contact_id or a search text.", 400)
        q = (f"SELECT {', '.join(fields)} FROM Case WHERE ContactId = {soql_quote(contact_id)} "
             f"ORDER BY LastModifiedDate DESC LIMIT {RECENT_CASES}")
        records = [plain_record(r) for r in sf(lambda s: s.query(q))["records"]]
    names = account_names([r.get("AccountId") or "" for r in records])
    cases = [{"Id": r["Id"], **{c: r.get(c) for c in CASE_COLUMNS},
              "AccountName": names.get(r.get("AccountId") or "", ""), "extra": {c: r.get(c) for c in extra}}
             for r in records]
    return jsonify({"cases": cases, "columns": extra})


@bp.get("/api/calls/<call_id>/contact/<contact_id>")
@login_required
def call_contact(call_id: str, contact_id: str) -> Response:
    """A contact's details for the CaseDialog's contact header."""
    agent_call(call_id)
    cid = sf_id(contact_id, "Contact")
    fields = columns(tuple(extra_columns("Contact")), ("Id", "Name", "Phone", "AccountId"))
    q = f"SELECT {', '.join(fields)} FROM Contact WHERE Id = {soql_quote(cid)}"
    found = [plain_record(r) for r in sf(lambda s: s.query(q))["records"]]
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
    auto_key = f"switchboard:call:{call_id}:autocase"
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
    """Set the caller's number as the phone of a chosen record and forget the cached lookup."""
    call, data, sobject = _record_request(call_id)
    record_id = sf_id(data.get("id"), sobject)
    number = str(call.get("caller_number") or "")[:40]
    if not number:
        raise ApiError("no_number", "The call has no caller number.", 400)
    sf(lambda s: getattr(s, sobject).update(record_id, {"Phone": number}))
    services().directory.invalidate(number)
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
            and get_settings().outbound_other_object == "ignore"):
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
