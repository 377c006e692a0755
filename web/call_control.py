"""Call control from the page, carried out by the orchestrator (AMI): hang up, blind and consult transfer
of the agent's own call, and the state of the agent's phone. A SIP-phone agent's page has no SIP session, so
this is how it hangs up and transfers; the web process itself never talks to Asterisk.

Each request goes to the orchestrator as a command over Redis with a reply key
(``switchboard.commands.request``); the orchestrator checks the agent (from the login session, never
from the request) is on that call and answers ``{"ok": true}`` or an error, returned here as JSON with
a stable ``error`` code.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Blueprint, Response, jsonify

from switchboard import contracts as c
from switchboard.commands import NoOrchestrator, request
from web.auth import current_user, login_required, require_csrf_header
from web.calls_api import clean_number
from web.context import get_settings
from web.errors import ApiError, json_body

logger = logging.getLogger(__name__)

bp = Blueprint("call_control", __name__)

ANSWER_TIMEOUT = 5.0
# HTTP status of each error code the orchestrator answers with
STATUS = {"not_on_call": 409, "not_answered": 409, "bad_target": 400, "unknown_target": 404,
          "unknown_agent": 404, "asterisk_refused": 502, "internal_error": 500, "consulting": 409,
          "not_consulting": 409,
          # pick mode (web/pick.py)
          "already_picked": 409, "not_waiting": 409, "offered": 409, "not_available": 409, "not_pick_mode": 403,
          "not_your_queue": 403}


def _agent() -> str:
    user = current_user()
    if user is None or user.agent is None:
        raise ApiError("not_an_agent", "Only agents have calls.", 403)
    return user.agent.sip_username


def ask(command: str, **args: Any) -> dict[str, Any]:
    """The orchestrator's answer to a command, or an ApiError (its error, or none running)."""
    url = get_settings().redis_url
    if not url:
        raise ApiError("orchestrator_unavailable", "The call server is not running.", 503)
    client = redis.Redis.from_url(url, socket_timeout=ANSWER_TIMEOUT + 2)
    try:
        answer = request(client, command, ANSWER_TIMEOUT, **args)
    except NoOrchestrator as exc:
        raise ApiError(exc.error, str(exc), 503 if exc.error == "orchestrator_unavailable" else 504) from exc
    except redis.RedisError as exc:
        logger.warning("call control %s: Redis failed: %s", command, exc)
        raise ApiError("orchestrator_unavailable", "The call server cannot be reached.", 503) from exc
    finally:
        client.close()
    if "error" in answer:
        code = str(answer["error"])
        raise ApiError(code, str(answer.get("message") or code), STATUS.get(code, 400))
    return answer


@bp.post("/api/calls/<call_id>/hangup")
@login_required
def hangup(call_id: str) -> Response:
    """Hang up the agent's own leg of the call (a ringing one is declined)."""
    require_csrf_header()
    return jsonify(ask(c.CALL_HANGUP, agent=_agent(), call_id=call_id))


def _target() -> str:
    raw = json_body().get("target")
    target = clean_number(raw if isinstance(raw, str) else "")
    if not target:
        raise ApiError("bad_target", "Transfer to a queue, an agent or a number.", 400)
    return target


@bp.post("/api/calls/<call_id>/transfer")
@login_required
def transfer(call_id: str) -> Response:
    """Blind-transfer the other party to ``{"target": agent name | queue number | number}``."""
    require_csrf_header()
    return jsonify(ask(c.CALL_TRANSFER, agent=_agent(), call_id=call_id, target=_target()))


@bp.post("/api/calls/<call_id>/consult")
@login_required
def consult(call_id: str) -> Response:
    """Consult transfer, step 1: the other party on hold, the agent's phone calls ``{"target": ...}``."""
    require_csrf_header()
    return jsonify(ask(c.CALL_CONSULT, agent=_agent(), call_id=call_id, target=_target()))


@bp.get("/api/calls/<call_id>/consult")
@login_required
def consult_state(call_id: str) -> Response:
    """The call's consultation: ``{"state": "dialing" | "in_call" | ""}`` ('' when there is none)."""
    response = jsonify(ask(c.CALL_CONSULT_STATE, agent=_agent(), call_id=call_id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/calls/<call_id>/consult/<action>")
@login_required
def consult_end(call_id: str, action: str) -> Response:
    """Consult transfer, step 2: ``complete`` (the other party joins the consulted one) or ``cancel``."""
    require_csrf_header()
    commands = {"complete": c.CALL_CONSULT_COMPLETE, "cancel": c.CALL_CONSULT_CANCEL}
    if action not in commands:
        raise ApiError("not_found", "Complete or cancel a consultation.", 404)
    return jsonify(ask(commands[action], agent=_agent(), call_id=call_id))


@bp.get("/api/device")
@login_required
def device() -> Response:
    """The agent's phone as Asterisk sees it now (registered, device state): the ``agent_state`` view."""
    response = jsonify(ask(c.AGENT_DEVICE_STATE, agent=_agent()))
    response.headers["Cache-Control"] = "no-store"
    return response
