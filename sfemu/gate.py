"""Every request's first stop: classify it (api, login, control) and apply the outage and latency faults."""

from __future__ import annotations

import logging
import time

from flask import Response, g, jsonify, request

from sfemu.api_guard import is_subrequest
from sfemu.auth import soap_fault
from sfemu.errors import server_unavailable
from sfemu.state import get_state

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/__emulator"
LOGIN_PREFIXES = ("/services/Soap/", "/services/oauth2/")
UNAVAILABLE_LOGIN = "The server is temporarily unavailable. Please try again later."


def request_kind(path: str) -> str:
    """The request-log kind of a path: control (``/__emulator``), login (SOAP login, OAuth) or api."""
    if path.startswith(CONTROL_PREFIX):
        return "control"
    if path.startswith(LOGIN_PREFIXES):
        return "login"
    return "api"


def _unavailable_login() -> Response:
    if request.path.startswith("/services/Soap/"):
        return Response(soap_fault("SERVER_UNAVAILABLE", UNAVAILABLE_LOGIN), status=500, content_type="text/xml")
    response = jsonify({"error": "temporarily_unavailable", "error_description": UNAVAILABLE_LOGIN})
    response.status_code = 503
    return response


def admit() -> Response | None:
    """App-level ``before_request``: note kind and start time; answer 503 or wait as the faults say."""
    g.started = time.monotonic()
    g.kind = request_kind(request.path)
    if is_subrequest() or g.kind == "control":
        return None
    faults = get_state().faults
    login = g.kind == "login"
    if faults.unavailable(login=login):
        if login:
            return _unavailable_login()
        raise server_unavailable()
    delay = faults.latency(login=login)
    if delay:
        time.sleep(delay)
    return None
