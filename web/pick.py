"""Pick mode on the web phone (docs/routing.md, "Pick mode"): an agent under a pick-mode profile sees their
queues' waiting calls live (event ``waiting_calls``, sent by the orchestrator) and picks one.

``POST /api/calls/<call_id>/pick`` asks the orchestrator (``call_pick``, for the session's agent only) and
answers at once: ``{"ok": true, ...}`` when the agent won the call (their phone rings now), else an error
with a stable code, e.g. 409 ``already_picked`` "Already picked by Anna Agent.".
``POST /api/pick/refresh`` has the orchestrator send the agent's list now (the page just connected).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from switchboard import contracts as c
from web.auth import login_required, require_csrf_header
from web.call_control import _agent, ask
from web.presence import publish

logger = logging.getLogger(__name__)

bp = Blueprint("pick", __name__)


@bp.post("/api/calls/<call_id>/pick")
@login_required
def pick(call_id: str) -> Response:
    """Pick a waiting call: it rings the agent's phone, or the answer says who was faster (or why not)."""
    require_csrf_header()
    return jsonify(ask(c.CALL_PICK, agent=_agent(), call_id=call_id))


@bp.post("/api/pick/refresh")
@login_required
def refresh() -> Response:
    """Ask the orchestrator for the agent's waiting list now (it arrives as ``waiting_calls``)."""
    require_csrf_header()
    publish(c.PICK_REFRESH, agent=_agent())
    response = jsonify({"ok": True})
    response.status_code = 202
    return response
