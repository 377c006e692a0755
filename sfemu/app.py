"""The emulator's Flask app factory: state, blueprints, request log, limit header and error shapes."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from sfemu import routes_auth, routes_control, routes_data
from sfemu.auth import Credentials
from sfemu.errors import ApiError
from sfemu.seed import apply_seed
from sfemu.state import DEFAULT_API_LIMIT, EmulatorConfig, EmulatorState, RequestLogEntry, get_state
from sfemu.store import Store

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/__emulator"
SALESFORCE_PREFIXES = ("/services/data", "/services/oauth2", "/services/Soap")


def create_app(
    seed: str | None = "demo", *, latency: float = 0, api_limit: int = DEFAULT_API_LIMIT,
    credentials: Credentials | None = None, store: Store | None = None,
) -> Flask:
    """A Salesforce-compatible REST emulator app, seeded with ``seed`` ("demo", "empty" or None)."""
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    credentials = credentials or Credentials()
    store = store or Store()
    user_id = apply_seed(store, seed, credentials)
    app.extensions["sfemu"] = EmulatorState(store, credentials, EmulatorConfig(latency, api_limit), user_id)
    app.register_blueprint(routes_auth.bp)
    app.register_blueprint(routes_data.bp)
    app.register_blueprint(routes_control.bp)
    app.before_request(_start_timer)
    app.after_request(_finish_request)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _start_timer() -> None:
    g.started = time.monotonic()


def _finish_request(response: Response) -> Response:
    state = get_state()
    counted = bool(g.get("api_counted"))
    if counted:
        response.headers["Sforce-Limit-Info"] = state.usage.header()
    if not request.path.startswith(CONTROL_PREFIX):
        state.log.add(RequestLogEntry(
            method=request.method, path=request.path, query=request.query_string.decode("latin-1"),
            status=response.status_code, time=time.time(),
            duration_ms=round((time.monotonic() - g.get("started", time.monotonic())) * 1000, 3), api=counted,
        ))
    return response


def _api_error(exc: ApiError) -> tuple[Response, int]:
    logger.debug("%s %s -> %s", request.method, request.path, exc)
    return jsonify(exc.body()), exc.status


def _http_error(exc: HTTPException) -> Response | tuple[Response, int]:
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
