"""The emulator's own endpoints under ``/__emulator``: health, request log, session expiry."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sfemu.state import get_state

bp = Blueprint("sfemu_control", __name__, url_prefix="/__emulator")


@bp.get("/health")
def health() -> Response:
    """200 with API usage and login counts."""
    state = get_state()
    return jsonify({"status": "ok", "apiUsage": {"used": state.usage.used, "max": state.usage.limit},
                    "logins": state.sessions.logins})


@bp.get("/requests")
def requests_log() -> Response:
    """Every logged request (method, path, status, time); ``?api=1`` keeps only counted API requests."""
    entries = get_state().log.entries()
    if request.args.get("api") in ("1", "true"):
        entries = [e for e in entries if e.api]
    return jsonify({"count": len(entries), "requests": [e.as_dict() for e in entries]})


@bp.post("/reset-log")
def reset_log() -> tuple[str, int]:
    """Forget the request log: 204."""
    get_state().log.clear()
    return "", 204


@bp.post("/expire-sessions")
def expire_sessions() -> Response:
    """Invalidate every issued session (new logins keep working), as a 2-hour timeout would."""
    return jsonify({"expired": get_state().sessions.expire_all()})
