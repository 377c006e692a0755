"""``/api/calls/current``: the call the server holds for the logged-in agent (restored after a reload)."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from flask import Blueprint, jsonify

from switchboard.contracts import live_call_key
from web.auth import current_user, login_required
from web.context import get_settings
from web.errors import ApiError
from web.identity import agent_call

logger = logging.getLogger(__name__)

bp = Blueprint("current_call", __name__)


@bp.get("/api/calls/current")
@login_required
def current_call() -> Any:
    """The agent's own answered call still up in Asterisk, or ``{"call": null}``."""
    user = current_user()
    if user is None or user.agent is None:
        raise ApiError("not_an_agent", "Only agents have calls.", 403)
    url = get_settings().redis_url
    raw = redis.Redis.from_url(url, socket_timeout=2).get(live_call_key(user.agent.sip_username)) if url else None
    return jsonify({"call": json.loads(raw) if raw else None})


@bp.get("/api/calls/<call_id>/offer")
@login_required
def call_offer(call_id: str) -> Any:
    """The queue call offered to the logged-in agent (caller, queue): for a page that missed the event."""
    return jsonify(agent_call(call_id))
