"""The gate of every ``/services/data`` blueprint: session check, request-limit fault and API usage count.

Composite subrequests are dispatched inside the emulator with the outer request's session in the WSGI
environ (``SUBREQUEST_SESSION``); they are neither counted, logged nor delayed: the outer request is the one
API request Salesforce counts.
"""

from __future__ import annotations

import logging

from flask import g, request

from sfemu.errors import invalid_session, request_limit_exceeded
from sfemu.state import get_state

logger = logging.getLogger(__name__)

SUBREQUEST_SESSION = "sfemu.subrequest_session"


def is_subrequest() -> bool:
    """True while answering a composite subrequest."""
    return SUBREQUEST_SESSION in request.environ


def authenticate_and_count() -> None:
    """``before_request`` of the data blueprints: 401 without a live session (or while the invalid-session fault
    refuses every one), 403 over the limit, else count one."""
    if is_subrequest():
        g.sf_session = request.environ[SUBREQUEST_SESSION]
        return
    state = get_state()
    session = state.sessions.check(request.headers.get("Authorization"))
    if session is None or state.faults.sessions_refused():
        raise invalid_session()
    g.sf_session = session
    if state.faults.limit_exceeded():
        raise request_limit_exceeded()
    g.api_counted = True
    if state.usage.count() > state.usage.limit:
        raise request_limit_exceeded()
