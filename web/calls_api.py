"""The web phone's call APIs: the agent's own call history, display numbers, transfer targets, and the
/dial entry point (also the page's ``tel:`` protocol handler)."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

from flask import Blueprint, Response, jsonify, redirect, request, url_for

from switchboard.numbers import display_number
from switchboard.outbound import DisplayChoice, display_token
from switchboard.store import CallRecord, ServiceQueue, User
from web.auth import current_user, login_required
from web.context import get_settings, get_store
from web.directory import search_agents
from web.errors import ApiError

logger = logging.getLogger(__name__)

bp = Blueprint("calls_api", __name__)

HISTORY_LIMIT = 50
# What a dialler accepts: digits, + * #, and agent names (letters first) for internal calls.
_DIALABLE = re.compile(r"^(\+?[0-9*#]{1,32}|[A-Za-z][A-Za-z0-9._-]{0,79})$")


# A tel: URI (RFC 3966) as a protocol handler or a link hands it over: tel:+358-40-123;ext=1;phone-context=…
_TEL_SCHEME = re.compile(r"^\s*tel:", re.IGNORECASE)
MAX_AGENT_TARGETS = 500


def clean_number(raw: str) -> str:
    """A dialable string from what a user typed or a link carried ('' when it is not dialable).

    A ``tel:`` URI loses its scheme and its ``;parameters``; visual separators (spaces, ``-.()/``) go.
    """
    text = (raw or "").strip()
    if _TEL_SCHEME.match(text):
        text = unquote(_TEL_SCHEME.sub("", text).split(";", 1)[0]).strip()
        if re.match(r"^[A-Za-z]", text):
            return ""  # a tel: URI carries a number, never a name
    if not re.match(r"^[A-Za-z]", text):
        text = re.sub(r"[\s().\-/]", "", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    return text if _DIALABLE.match(text) else ""


def _agent_user() -> User:
    """The logged-in user, who must be an agent."""
    user = current_user()
    assert user is not None  # login_required
    if user.agent is None:
        raise ApiError("not_an_agent", f"User {user.username!r} has no phone: they are not an agent.", 403)
    return user


def history_entry(record: CallRecord, agent: str, labels: dict[str, str]) -> dict[str, Any]:
    """One call of the agent's history as JSON (the other party, result, duration, when, queue label)."""
    return {
        "call_id": record.call_id,
        "direction": record.direction,
        "number": record.caller_number,
        "display": display_number(record.caller_number),
        "name": record.caller_name,
        "queue": record.queue,
        "queue_label": labels.get(record.queue, record.queue),
        "disposition": record.disposition,
        "duration_seconds": record.duration_seconds,
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "ended_at": record.ended_at.isoformat() if record.ended_at else None,
        "agent": agent,
    }


def own_queues(sip_username: str) -> list[ServiceQueue]:
    """The queues the agent ``sip_username`` is a member of, by label."""
    for a in get_store().list_agents():
        if a.sip_username == sip_username:
            return sorted((m.queue for m in a.memberships), key=lambda q: q.label)
    return []


def display_choices(user: User) -> list[DisplayChoice]:
    """The caller IDs ``user`` may present: company number, hidden, work number, their queues' numbers."""
    settings = get_settings()
    assert user.agent is not None
    agent = user.agent.sip_username
    choices = [DisplayChoice("default", "Company number", settings.company_number),
               DisplayChoice("hidden", "Hidden number", "")]
    if user.work_number:
        choices.append(DisplayChoice("work", "My work number", user.work_number,
                                     display_token(settings.secret_key, agent, "work", user.work_number)))
    for q in own_queues(agent):
        kind = f"queue:{q.name}"
        choices.append(DisplayChoice(kind, q.label, q.number,
                                     display_token(settings.secret_key, agent, kind, q.number)))
    return choices


def transfer_targets(user: User) -> dict[str, list[dict[str, Any]]]:
    """Where ``user`` may transfer a call by name: every queue with a number (their own first), the other agents."""
    assert user.agent is not None
    mine = {q.name for q in own_queues(user.agent.sip_username)}
    queues = sorted((q for q in get_store().list_queues() if q.number),
                    key=lambda q: (q.name not in mine, q.label.casefold()))
    agents = search_agents("", exclude_user_id=user.id, limit=MAX_AGENT_TARGETS)
    return {
        "queues": [{"name": q.name, "label": q.label, "number": q.number, "mine": q.name in mine} for q in queues],
        "agents": [{"name": a["name"], "number": a["number"], "presence": a["presence"]} for a in agents],
    }


@bp.get("/api/history")
@login_required
def history() -> Response:
    """The logged-in agent's own calls, newest first."""
    user = _agent_user()
    assert user.agent is not None
    agent = user.agent.sip_username
    records = get_store().call_history(agent=agent, limit=HISTORY_LIMIT)
    labels = {q.name: q.label for q in get_store().list_queues()}
    response = jsonify({"calls": [history_entry(r, agent, labels) for r in records]})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/display-numbers")
@login_required
def display_numbers() -> Response:
    """The display numbers the agent may choose for outbound calls, each with its signed token."""
    user = _agent_user()
    response = jsonify({"choices": [c.to_dict() for c in display_choices(user)], "default": "default"})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/transfer-targets")
@login_required
def transfer_targets_api() -> Response:
    """The queues and agents the agent may pick as a transfer target, each with the number it dials."""
    response = jsonify(transfer_targets(_agent_user()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/dial")
@login_required
def dial() -> Any:
    """Click-to-dial: ``/dial?number=<number or tel: URI>`` opens the phone and calls (``call=0``: fills in)."""
    number = clean_number(request.args.get("number", ""))
    args: dict[str, str] = {"dial": number} if number else {}
    if number and request.args.get("call") == "0":
        args["call"] = "0"
    return redirect(url_for("phone.phone_page", **args))
