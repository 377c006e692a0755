"""The emulator's Flask app factory: state, blueprints, request gate and log, limit header and error shapes."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from sfemu import (
    routes_auth,
    routes_collections,
    routes_composite,
    routes_control,
    routes_data,
    routes_flows,
)
from sfemu.api_guard import is_subrequest
from sfemu.auth import DEFAULT_SESSION_TIMEOUT, Credentials
from sfemu.errors import ApiError
from sfemu.flow_sources import FlowSource, load_flow_sources
from sfemu.gate import admit, request_kind
from sfemu.seed import apply_seed
from sfemu.state import DEFAULT_API_LIMIT, EmulatorConfig, EmulatorState, RequestLogEntry, get_state
from sfemu.store import Store

logger = logging.getLogger(__name__)

SALESFORCE_PREFIXES = ("/services/data", "/services/oauth2", "/services/Soap")


def create_app(
    seed: str | None = "demo", *, latency: float = 0, api_limit: int = DEFAULT_API_LIMIT,
    credentials: Credentials | None = None, store: Store | None = None,
    flows: FlowSource | Sequence[FlowSource] = None, jwt_public_key: str | None = None,
    unavailable_for: float = 0, limit_exceeded_for: float = 0, invalid_session_for: float = 0,
    faults_include_logins: bool = False, session_timeout: float = DEFAULT_SESSION_TIMEOUT,
) -> Flask:
    """A Salesforce-compatible REST emulator app, seeded with ``seed`` ("demo", "large", "empty" or None).

    ``flows`` is a rules file, a ``.flow-meta.xml`` file, a folder of them, "demo" (``sfemu/flows/demo.yaml``),
    "package" (the Salesforce package's flows), a parsed rules mapping, or a list of these;
    ``jwt_public_key`` the connected app's PEM public key or certificate for the JWT bearer flow;
    ``unavailable_for`` / ``limit_exceeded_for`` / ``invalid_session_for`` open fault windows (seconds) from the
    start; ``session_timeout`` is how long a session lives without a request (seconds, 2 h by default).
    """
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    credentials = credentials or Credentials()
    if jwt_public_key:
        credentials = dataclasses.replace(credentials, jwt_public_key=jwt_public_key)
    store = store or Store()
    user_id = apply_seed(store, seed, credentials)
    config = EmulatorConfig(latency, api_limit, unavailable_for=unavailable_for,
                            limit_exceeded_for=limit_exceeded_for, invalid_session_for=invalid_session_for,
                            faults_include_logins=faults_include_logins, session_timeout=session_timeout)
    app.extensions["sfemu"] = EmulatorState(store, credentials, config, user_id, load_flow_sources(flows))
    for module in (routes_auth, routes_data, routes_collections, routes_composite, routes_flows, routes_control):
        app.register_blueprint(module.bp)
    app.before_request(admit)
    app.after_request(_finish_request)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _finish_request(response: Response) -> Response:
    if is_subrequest():
        return response
    state = get_state()
    counted = bool(g.get("api_counted"))
    if counted:
        response.headers["Sforce-Limit-Info"] = state.usage.header()
    state.log.add(RequestLogEntry(
        method=request.method, path=request.path, query=request.query_string.decode("latin-1"),
        status=response.status_code, time=time.time(),
        duration_ms=round((time.monotonic() - g.get("started", time.monotonic())) * 1000, 3), api=counted,
        kind=g.get("kind") or request_kind(request.path),
    ))
    return response


def _api_error(exc: ApiError) -> tuple[Response, int]:
    logger.debug("%s %s -> %s", request.method, request.path, exc)
    return jsonify(exc.body()), exc.status


def _http_error(exc: HTTPException) -> WerkzeugResponse | tuple[Response, int]:
    if not request.path.startswith(SALESFORCE_PREFIXES):
        return exc.get_response()
    if exc.code == 405:
        err = ApiError("METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed.", status=405)
    elif exc.code == 404:
        err = ApiError("NOT_FOUND", "The requested resource does not exist", status=404)
    else:
        err = ApiError("UNKNOWN_EXCEPTION", exc.description or str(exc), status=exc.code or 500)
    return _api_error(err)


def _unexpected_error(exc: Exception) -> tuple[Response, int]:
    logger.exception("unexpected error answering %s %s", request.method, request.path)
    return jsonify(ApiError("UNKNOWN_EXCEPTION", f"An unexpected error occurred: {exc}").body()), 500
