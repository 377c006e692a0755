"""Caller identification for the web phone: who is calling, asked when the phone rings.

The web process uses the same Salesforce connector as the worker, in-process (``switchboard.sfservices``;
the session is shared through Redis) and the same cached lookup (``switchboard.callerid``), which the
orchestrator warms as soon as the caller joins a queue. A call is visible only to the agent it was
offered to (the orchestrator's ``switchboard.contracts.offer_key`` record) or who took it (the call history).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any

from flask import current_app
from sqlalchemy import select

from switchboard.config import OUTBOUND_OTHER_OBJECT, Settings
from switchboard.contracts import CONTEXT_FIELDS, CONTEXT_KEY, CONTEXT_TTL, SUMMARY_KEY, call_context, offer_key
from switchboard.salesforce import ascii_digits
from switchboard.sfservices import SalesforceServices
from switchboard.store import User
from web.auth import current_user
from web.context import get_settings, get_store
from web.errors import ApiError

logger = logging.getLogger(__name__)

SERVICES_KEY = "switchboard.workflow_services"
CALL_ID = re.compile(r"^[0-9]{1,20}\.[0-9]{1,10}$")  # an Asterisk linkedid
DIRECT_LABEL = "Direct"
WORKFLOWS = ("case", "case_dialog", "contact_account", "contact_lead")
_lock = threading.Lock()


def services() -> SalesforceServices:
    """The app's Salesforce connector, Redis and caller directory (built once, on first use)."""
    ext = current_app.extensions
    if SERVICES_KEY not in ext:
        with _lock:
            if SERVICES_KEY not in ext:
                settings = get_settings()
                if not settings.redis_url:
                    raise ApiError("unavailable", "Caller identification needs Redis.", 503)
                ext[SERVICES_KEY] = SalesforceServices(settings)
    return ext[SERVICES_KEY]


def agent_call(call_id: str) -> dict[str, Any]:
    """The call ``call_id`` if it was offered to (or taken by) the logged-in agent; 404 otherwise."""
    user = current_user()
    if not CALL_ID.match(call_id or "") or user is None or user.agent is None:
        raise ApiError("not_found", "No such call.", 404)
    agent = user.agent.sip_username
    conn = services().redis
    raw = conn.get(offer_key(call_id, agent))
    if raw:
        call = json.loads(raw)
    else:
        record = get_store().get_call(call_id)
        if record is None or record.agent != agent:
            raise ApiError("not_found", "No such call.", 404)
        call = {"call_id": call_id, "caller_number": record.caller_number, "caller_name": record.caller_name,
                "queue": record.queue, "queue_label": "", "direction": record.direction}
        summary = conn.get(SUMMARY_KEY.format(call_id))
        if summary:
            call["queue_label"] = json.loads(summary).get("queue_label") or ""
    call["call_id"] = call_id
    call["agent"] = agent
    return call


def queue_label(call: dict[str, Any]) -> str:
    """The service pool queue's label, or 'Direct' for a call that did not come through a queue."""
    return str(call.get("queue_label") or call.get("queue") or DIRECT_LABEL)


def directory_match(number: str) -> dict[str, str] | None:
    """Another agent of the company whose SIP user name or work number is ``number``, or None."""
    number = (number or "").strip()
    if not number:
        return None
    digits = ascii_digits(number)
    with get_store().session() as s:
        users = list(s.scalars(select(User)))
        for u in users:
            sip = u.agent.sip_username if u.agent is not None else ""
            work = ascii_digits(u.work_number or "")
            if (sip and sip == number) or (work and len(digits) >= 3 and work == digits):
                return {"name": u.display_name, "username": u.username, "sip_username": sip}
    return None


def workflow_of(user: User | None) -> str:
    """The user's phone workflow (seed section 2), Contact&Account when unset or unknown."""
    value = getattr(user, "phone_workflow", "") or ""
    return value if value in WORKFLOWS else "contact_account"


def live_settings() -> Settings:
    """The settings with the admin's run-time changes (``switchboard admin workflow set``)."""
    return services().live_settings.get()


def second_object(workflow: str) -> str:
    """The object a workflow identifies besides Contacts: Lead for Contact&Lead, else Account."""
    return "Lead" if workflow == "contact_lead" else "Account"


def workflow_match(match: dict[str, Any], workflow: str) -> dict[str, Any]:
    """The caller's match as ``workflow`` sees it: Contacts and Accounts (seed 2.3), or Contacts and Leads
    (Contact&Lead, seed 2.4); the kind (none, single, multiple) counts only those."""
    if match.get("kind") == "error":
        return match
    keep = {"Contact", second_object(workflow)}
    records = [r for r in match.get("records", []) if r.get("type") in keep]
    kind = "none" if not records else "single" if len(records) == 1 else "multiple"
    return {"kind": kind, "records": records}


def outbound_other_object(user: User | None) -> str:
    """Whether an outbound call dialled from a non-contact record relates to it: the user's setting, else
    the tenant's ("ignore" by default, seed 2.2.4)."""
    own = getattr(user, "outbound_other_object", "") or ""
    return own if own in OUTBOUND_OTHER_OBJECT else live_settings().outbound_other_object


def save_context(call_id: str, **ids: str | None) -> dict[str, str]:
    """Merge the agent's choice (``who_id``, ``what_id``, ``case_id``) into the call's context."""
    conn = services().redis
    current = call_context(conn, call_id)
    for key, value in ids.items():
        if key in CONTEXT_FIELDS and value is not None:
            if value:
                current[key] = value
            else:
                current.pop(key, None)
    conn.set(CONTEXT_KEY.format(call_id), json.dumps(current), ex=CONTEXT_TTL)
    return current


def identity(call: dict[str, Any]) -> dict[str, Any]:
    """What the ringing phone shows: Salesforce match, directory match, queue label, workflow."""
    ctx = services()
    number = str(call.get("caller_number") or "")
    try:
        match = ctx.directory.identify(number)
    except Exception:
        logger.exception("caller lookup of call %s failed", call.get("call_id"))
        match = {"kind": "error", "records": []}
    settings = get_settings()
    workflow = workflow_of(current_user())
    return {
        "call_id": call["call_id"],
        "caller_number": number,
        "caller_name": call.get("caller_name") or "",
        "direction": call.get("direction") or "inbound",
        "queue_label": queue_label(call),
        "salesforce": workflow_match(match, workflow),
        "directory": directory_match(number),
        "workflow": workflow,
        "case_search_fields": list(live_settings().workflow_case_search_fields),
        "context": call_context(ctx.redis, call["call_id"]),
        "lightning_url": settings.sf_lightning_url.rstrip("/"),
    }
