"""Invocable autolaunched flows under ``/services/data/vXX.X/actions/custom/flow`` (rules from ``--flows``)."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sfemu.api_guard import authenticate_and_count
from sfemu.errors import ApiError, not_found
from sfemu.flow_rules import FlowInputError, InvocableFlow
from sfemu.state import get_state

logger = logging.getLogger(__name__)

bp = Blueprint("sfemu_flows", __name__, url_prefix="/services/data/v<version>/actions/custom")
bp.before_request(authenticate_and_count)


def _flow(name: str) -> InvocableFlow:
    flow = get_state().flows.get(name)
    if flow is None:
        raise not_found()
    return flow


@bp.get("/", strict_slashes=False)
def custom_actions(version: str) -> Response:
    """The custom action types this org has (only flows here)."""
    return jsonify({"flow": f"/services/data/v{version}/actions/custom/flow"})


@bp.get("/flow", strict_slashes=False)
def list_flows(version: str) -> Response:
    """``{"actions": [{"label", "name", "type": "FLOW", "url"}]}``."""
    actions = [{"label": f.label, "name": f.name, "type": "FLOW",
                "url": f"/services/data/v{version}/actions/custom/flow/{f.name}"}
               for f in get_state().flows.flows.values()]
    return jsonify({"actions": actions})


@bp.get("/flow/<name>", strict_slashes=False)
def describe_flow(version: str, name: str) -> Response:
    """A flow's inputs and outputs."""
    return jsonify(_flow(name).describe(version))


def _interview(flow: InvocableFlow, inputs: Any, version: str) -> dict[str, Any]:
    result: dict[str, Any] = {"actionName": flow.name, "errors": None, "invocationId": None, "isSuccess": True,
                              "outputValues": None, "sortOrder": -1, "version": flow.version}
    try:
        result["outputValues"] = flow.run(get_state().store, inputs, version=version)
    except FlowInputError as exc:
        result.update(errors=[exc.error], isSuccess=False)
    except ApiError as exc:
        result.update(errors=[exc.record_error()], isSuccess=False)
    return result


@bp.post("/flow/<name>", strict_slashes=False)
def run_flow(version: str, name: str) -> tuple[Response, int]:
    """Run one interview per element of ``inputs``: 200 with a result each, 400 when any failed."""
    flow = _flow(name)
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError as exc:
        raise ApiError("JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}") from None
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise ApiError("JSON_PARSER_ERROR", "Missing required 'inputs' list in the request body")
    with get_state().store.lock:
        results = [_interview(flow, item, version) for item in inputs]
    failed = sum(not r["isSuccess"] for r in results)
    if failed:
        logger.info("flow %s: %s of %s interviews failed", flow.name, failed, len(results))
    return jsonify(results), 400 if failed else 200
