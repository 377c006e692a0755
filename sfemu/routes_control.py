"""The emulator's own endpoints under ``/__emulator``: health, request log, session expiry, fault switches,
hidden fields and Omni-Channel (presence and work)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sfemu import omni
from sfemu.state import REQUEST_KINDS, get_state

logger = logging.getLogger(__name__)

bp = Blueprint("sfemu_control", __name__, url_prefix="/__emulator")

DEFAULT_KINDS = ("api", "login")


@bp.get("/health")
def health() -> Response:
    """200 with API usage, login count and the current faults."""
    state = get_state()
    return jsonify({"status": "ok", "apiUsage": {"used": state.usage.used, "max": state.usage.limit},
                    "logins": state.sessions.logins, "faults": state.faults.as_dict()})


@bp.get("/requests")
def requests_log() -> Response | tuple[Response, int]:
    """Logged requests, oldest first. ``?kind=api,login,control`` (or ``all``; default ``api,login``) selects
    kinds; ``?api=1`` keeps only requests counted against the API limit."""
    wanted = request.args.get("kind", ",".join(DEFAULT_KINDS))
    kinds = set(REQUEST_KINDS) if wanted == "all" else {k.strip() for k in wanted.split(",") if k.strip()}
    if not kinds <= set(REQUEST_KINDS):
        return jsonify({"error": f"kind must be 'all' or a list of {', '.join(REQUEST_KINDS)}"}), 400
    entries = [e for e in get_state().log.entries() if e.kind in kinds]
    if request.args.get("api") in ("1", "true"):
        entries = [e for e in entries if e.api]
    counts = {k: sum(e.kind == k for e in entries) for k in REQUEST_KINDS}
    return jsonify({"count": len(entries), "counts": counts, "requests": [e.as_dict() for e in entries]})


@bp.post("/reset-log")
def reset_log() -> tuple[str, int]:
    """Forget the request log: 204."""
    get_state().log.clear()
    return "", 204


@bp.post("/expire-sessions")
def expire_sessions() -> Response:
    """Invalidate every issued session now (new logins keep working), as the session timeout would."""
    return jsonify({"expired": get_state().sessions.expire_all()})


@bp.get("/faults")
def faults() -> Response:
    """The current fault switches."""
    return jsonify(get_state().faults.as_dict())


@bp.post("/faults")
def set_faults() -> Response | tuple[Response, int]:
    """Switch faults: a JSON object with any of ``latency``, ``unavailable_for``, ``limit_exceeded_for``,
    ``invalid_session_for`` (seconds) and ``include_logins`` (bool); 200 with the resulting switches, 400 for a
    bad body."""
    body = request.get_json(silent=True)
    try:
        get_state().faults.update(body if body is not None else "not json")  # type: ignore[arg-type]
    except ValueError as exc:
        return jsonify({"error": str(exc)}), 400
    return jsonify(get_state().faults.as_dict())


@bp.post("/reset-faults")
def reset_faults() -> Response:
    """Clear every fault: 200 with the (now idle) switches."""
    state = get_state()
    state.faults.reset()
    return jsonify(state.faults.as_dict())


@bp.get("/hidden-fields")
def hidden_fields() -> Response:
    """The fields hidden from the API, by object."""
    return jsonify(get_state().store.hidden_fields)


@bp.post("/hidden-fields")
def set_hidden_fields() -> Response | tuple[Response, int]:
    """Hide fields from the API as missing field-level access would (``{"Task": ["Call_Result__c"]}``; ``{}``
    shows them all again): 200 with the hidden fields, 400 for a bad body."""
    body = request.get_json(silent=True)
    try:
        return jsonify(get_state().store.hide_fields(body if body is not None else "not json"))  # type: ignore[arg-type]
    except ValueError as exc:
        return jsonify({"error": str(exc)}), 400


# Omni-Channel ------------------------------------------------------------------------------------------
def _json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise omni.OmniError("the body must be a JSON object")
    return body


@bp.get("/omni")
def omni_state() -> Response:
    """Every user's current Omni-Channel status (DeveloperName, or null for Offline) and open workload."""
    return jsonify({"users": omni.summary(get_state().store)})


@bp.post("/omni/presence")
def omni_presence() -> Response | tuple[Response, int]:
    """Change a user's presence as Omni-Channel would: ``{"user": Id or Username, "status": DeveloperName or null,
    "configured_capacity": optional number}``; 200 with the new UserServicePresence row plus ``status`` (or
    ``{"status": null}`` for Offline), 400 for an unknown user or status."""
    try:
        body = _json_object()
        if "status" not in body:
            raise omni.OmniError("'status' is required: a presence status DeveloperName, or null for Offline")
        row = omni.set_presence(get_state().store, body.get("user"), body["status"],
                                configured_capacity=body.get("configured_capacity",
                                                             omni.DEFAULT_CONFIGURED_CAPACITY))
    except omni.OmniError as exc:
        return jsonify({"error": str(exc)}), 400
    if row is None:
        return jsonify({"status": None})
    status = get_state().store.lookup(row["ServicePresenceStatusId"])
    return jsonify({**row, "status": status[1]["DeveloperName"] if status else None})


@bp.post("/omni/work")
def omni_add_work() -> tuple[Response, int]:
    """Route work to a user: ``{"user", "capacity_weight", "status": "Opened" (default), "work_item_id"}``; 201
    with ``{"id": "0Bz...", "row": {...}}``, 400 for a bad body."""
    try:
        body = _json_object()
        row = omni.add_work(get_state().store, body.get("user"), body.get("capacity_weight"),
                            body.get("status", "Opened"), body.get("work_item_id"))
    except omni.OmniError as exc:
        return jsonify({"error": str(exc)}), 400
    return jsonify({"id": row["Id"], "row": row}), 201


@bp.patch("/omni/work/<work_id>")
def omni_update_work(work_id: str) -> Response | tuple[Response, int]:
    """Change a work item's status: ``{"status": "Closed"}``; 200 with the row, 400 for a bad status, 404 for an
    unknown id."""
    try:
        row = omni.set_work_status(get_state().store, work_id, _json_object().get("status"))
    except omni.OmniError as exc:
        return jsonify({"error": str(exc)}), 400
    except LookupError as exc:
        return jsonify({"error": str(exc)}), 404
    return jsonify(row)
