"""The web phone's contact directory (seed 001 section 1.4) and the mini dashboard's refresh request.

``GET /api/directory?q=`` searches the company's agents (Switchboard users with a SIP identity: name,
SIP user name, work number, presence) and Salesforce Contacts by name or phone (SOSL built with
``sosl_escape`` only). Agents come first; at most 20 results. Salesforce being down leaves the agents
and says so (``salesforce: "unavailable"``) instead of failing the whole search.

``POST /api/dashboard/refresh`` asks the orchestrator to emit the agent's ``queue_stats`` now.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from switchboard import presence as p
from switchboard import presence_db
from switchboard.contracts import DASHBOARD_REFRESH
from switchboard.salesforce import ascii_digits, plain_record, sosl_escape
from switchboard.store import User
from web.auth import current_user, login_required, require_csrf_header
from web.context import get_store
from web.errors import ApiError
from web.presence import _agent, publish

logger = logging.getLogger(__name__)

bp = Blueprint("directory", __name__)

MIN_QUERY = 2
MAX_QUERY = 100
MAX_RESULTS = 20
PHONE_CHARS = frozenset("+-(). /")


def looks_like_number(text: str) -> bool:
    """Whether ``text`` is a phone number (digits and phone punctuation, three digits or more)."""
    return len(ascii_digits(text)) >= 3 and all(c.isdecimal() or c in PHONE_CHARS for c in text)


def _presence(sip_username: str, now: float) -> dict[str, str] | None:
    """The agent's availability (status and kind), or None when it cannot be read."""
    try:
        state = presence_db.load_one(get_store(), sip_username)
    except Exception:
        logger.exception("presence of %s unreadable", sip_username)
        return None
    if state is None:
        return None
    view = p.view(state, now)
    return {"status": str(view.get("status") or ""), "kind": str(view.get("kind") or "")}


def search_agents(text: str, exclude_user_id: int | None = None, limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
    """Agents whose name, user name, SIP user name or work number contains ``text``, by name."""
    needle = text.casefold()
    digits = ascii_digits(text) if looks_like_number(text) else ""
    with get_store().session() as s:
        users = list(s.scalars(select(User).options(selectinload(User.agent))))
    found = []
    for u in users:
        if u.agent is None or u.id == exclude_user_id:
            continue
        sip = u.agent.sip_username
        texts = (u.display_name or "", u.username or "", sip, u.work_number or "")
        if any(needle in t.casefold() for t in texts) or (digits and digits in ascii_digits(u.work_number or "")):
            found.append({"type": "agent", "name": u.display_name or u.username, "number": sip,
                          "sip_username": sip, "work_number": u.work_number or ""})
    found.sort(key=lambda r: r["name"].casefold())
    now = time.time()
    for row in found[:limit]:
        row["presence"] = _presence(row["sip_username"], now)
    return found[:limit]


def search_contacts(text: str, limit: int) -> list[dict[str, Any]]:
    """Salesforce Contacts by name, or by phone when ``text`` is a number (raises ApiError)."""
    from web.workflows import sf  # the shared connector with its one re-login

    term = sosl_escape(text)
    if limit <= 0 or len(term.replace("\\", "")) < MIN_QUERY:
        return []
    scope = "PHONE" if looks_like_number(text) else "NAME"
    sosl = (f"FIND {{{term}}} IN {scope} FIELDS RETURNING "
            f"Contact(Id, Name, Phone, MobilePhone ORDER BY Name LIMIT {int(limit)})")
    result = sf(lambda s: s.search(sosl)) or {}
    rows = []
    for record in (plain_record(r) for r in result.get("searchRecords", [])):
        number = record.get("Phone") or record.get("MobilePhone") or ""
        if record.get("type") == "Contact" and number:
            rows.append({"type": "contact", "name": record.get("Name") or "", "number": str(number),
                         "id": record.get("Id") or "", "mobile": record.get("MobilePhone") or ""})
    return rows[:limit]


@bp.get("/api/directory")
@login_required
def directory() -> Response:
    """Agents, then Salesforce Contacts, matching ``q`` (at least two characters, at most 20 results)."""
    text = " ".join((request.args.get("q") or "").split())[:MAX_QUERY]
    if len(text) < MIN_QUERY:
        raise ApiError("query_too_short", "Type at least two characters.", 400)
    user = current_user()
    results = search_agents(text, exclude_user_id=user.id if user is not None else None)
    salesforce = "ok"
    try:
        results += search_contacts(text, MAX_RESULTS - len(results))
    except ApiError as exc:
        logger.warning("directory: Salesforce search failed (%s)", exc.error)
        salesforce = "unavailable"
    response = jsonify({"query": text, "results": results[:MAX_RESULTS], "salesforce": salesforce})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/dashboard/refresh")
@login_required
def dashboard_refresh() -> Response:
    """Ask the orchestrator for the agent's queue figures now (they arrive as ``queue_stats``)."""
    require_csrf_header()
    publish(DASHBOARD_REFRESH, agent=_agent())
    response = jsonify({"ok": True})
    response.status_code = 202
    return response
