"""The agent's availability (presence) and wrap-up code: JSON API for the web phone's presence panel.

The web never talks to Asterisk: each change goes to the orchestrator as a command over Redis, for
the logged-in agent only (the SIP user comes from the session, never from the request body).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import redis
from flask import Blueprint, Response, current_app, jsonify

from switchboard import contracts as c
from switchboard import presence as p
from switchboard import presence_db
from switchboard.commands import encode
from web.auth import current_user, login_required, require_csrf_header
from web.context import get_settings, get_store
from web.errors import ApiError, json_body

logger = logging.getLogger(__name__)

bp = Blueprint("presence", __name__)
SENT_KEY = "switchboard.sent_commands"  # commands kept in the app when there is no Redis (tests)


def _agent() -> str:
    """The logged-in agent's SIP user name."""
    user = current_user()
    if user is None or user.agent is None:
        raise ApiError("not_an_agent", "Only agents have a presence.", 403)
    return user.agent.sip_username


def publish(command: str, **args: Any) -> None:
    """Send a command to the orchestrator."""
    url = get_settings().redis_url
    if not url:
        current_app.extensions.setdefault(SENT_KEY, []).append({"command": command, **args})
        return
    client = redis.Redis.from_url(url)
    try:
        client.publish(c.COMMAND_CHANNEL, encode(command, **args))
    finally:
        client.close()


def _state(agent: str) -> p.AgentPresence:
    state = presence_db.load_one(get_store(), agent)
    if state is None:
        raise ApiError("unknown_agent", "Unknown agent.", 404)
    return state


def _time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), UTC)
        parsed = datetime.fromisoformat(str(value))
    except (ValueError, OverflowError, OSError) as exc:
        raise ApiError("bad_time", f"{name} is not a time.", 400) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _accepted(**extra: Any) -> Response:
    response = jsonify({"ok": True, **extra})
    response.status_code = 202
    return response


@bp.get("/api/presence")
@login_required
def get_presence() -> Response:
    """The agent's presence (as the ``presence`` event sends it) and the statuses to choose from."""
    agent = _agent()
    data = p.view(_state(agent), time.time())
    data["statuses"] = [{"id": s.id, "name": s.name, "kind": s.kind, "duration_minutes": s.duration_minutes}
                        for s in get_store().list_statuses()]
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/presence")
@login_required
def set_status() -> Response:
    """Choose a named status: ``{status_id}``."""
    require_csrf_header()
    agent, status_id = _agent(), json_body().get("status_id")
    if not any(s.id == status_id for s in get_store().list_statuses()):
        raise ApiError("unknown_status", "No such status.", 400)
    publish(c.PRESENCE_SET, agent=agent, status_id=status_id)
    return _accepted()


@bp.post("/api/presence/pool-calls")
@login_required
def set_pool_calls() -> Response:
    """Receive pool calls or not: ``{on}``."""
    require_csrf_header()
    publish(c.PRESENCE_POOL, agent=_agent(), on=bool(json_body().get("on")))
    return _accepted()


@bp.get("/api/presence/omni")
@login_required
def omni_mapping() -> Response:
    """The Omni-Channel mapping table, for the Lightning component beside the softphone (it writes the
    agent's Omni status from their Switchboard presence)."""
    _agent()
    rows = [{"omni_status_id": m.omni_status_id, "omni_developer_name": m.omni_developer_name,
             "omni_kind": m.omni_kind, "status": m.status, "kind": kinds.get(m.status, "system"),
             "direction": m.direction}
            for kinds in [{s.name: s.kind for s in get_store().list_statuses()}]
            for m in get_store().list_omni_mappings()]
    return jsonify({"mapping": rows, "sync": get_settings().omni_sync})


@bp.post("/api/presence/omni-logout")
@login_required
def omni_logout() -> Response:
    """The agent chose Offline in the Omni-Channel widget (the Lightning component saw it): the next
    Offline the server reads is their choice, so their voice queues are switched off."""
    require_csrf_header()
    publish(c.PRESENCE_OMNI_LOGOUT, agent=_agent())
    return _accepted()


@bp.post("/api/presence/queues/<name>")
@login_required
def set_queue(name: str) -> Response:
    """Switch one of the agent's own queues on or off: ``{active}``."""
    require_csrf_header()
    agent = _agent()
    if not any(q.name == name for q in _state(agent).queues):
        raise ApiError("not_a_member", "You are not a member of this queue.", 404)
    publish(c.PRESENCE_QUEUE, agent=agent, queue=name, active=bool(json_body().get("active")))
    return _accepted()


@bp.post("/api/presence/schedule")
@login_required
def add_schedule() -> Response:
    """Schedule an upcoming availability: ``{status_id, starts_at, ends_at}`` (ISO 8601 or epoch seconds)."""
    require_csrf_header()
    agent, body = _agent(), json_body()
    starts, ends = _time(body.get("starts_at"), "starts_at"), _time(body.get("ends_at"), "ends_at")
    if starts is None:
        raise ApiError("bad_time", "starts_at is required.", 400)
    if ends is not None and ends <= starts:
        raise ApiError("bad_time", "ends_at must be after starts_at.", 400)
    try:
        new_id = get_store().add_schedule(agent, int(body.get("status_id") or 0), starts, ends)
    except (LookupError, ValueError, TypeError) as exc:
        raise ApiError("unknown_status", "No such status.", 400) from exc
    publish(c.PRESENCE_REFRESH, agent=agent)
    response = jsonify({"ok": True, "id": new_id})
    response.status_code = 201
    return response


@bp.delete("/api/presence/schedule/<int:schedule_id>")
@login_required
def delete_schedule(schedule_id: int) -> Response:
    """Remove one of the agent's own scheduled availabilities."""
    require_csrf_header()
    agent = _agent()
    if not get_store().delete_schedules(agent, [schedule_id]):
        raise ApiError("not_found", "No such scheduled availability.", 404)
    publish(c.PRESENCE_REFRESH, agent=agent)
    return _accepted()


@bp.post("/api/calls/<call_id>/wrapup")
@login_required
def wrapup(call_id: str) -> Response:
    """Pick the wrap-up code of a call the agent took: ``{code}``."""
    require_csrf_header()
    agent, code = _agent(), json_body().get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 100:
        raise ApiError("bad_code", "Pick a wrap-up code.", 400)
    state = _state(agent)
    current = state.wrapup if state.wrapup is not None and state.wrapup.call_id == call_id else None
    record = get_store().get_call(call_id)
    if current is None and (record is None or record.agent != agent):
        logger.warning("agent %s tried to wrap up call %.80r they did not take", agent, call_id)
        raise ApiError("not_your_call", "You did not take this call.", 404)
    codes = list(current.codes) if current is not None else _queue_codes(record.queue if record else "")
    if codes and code not in codes:
        raise ApiError("bad_code", "Not a wrap-up code of this queue.", 400)
    publish(c.WRAPUP_CODE, agent=agent, call_id=call_id, code=code)
    return _accepted()


def _queue_codes(queue: str) -> list[str]:
    row = get_store().find_queue(queue) if queue else None
    return presence_db.wrapup_codes(row) if row is not None else []
