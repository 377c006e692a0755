"""Login and logout: password check through the store, a CSRF token kept in the session."""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, abort, g, redirect, render_template, request, session, url_for

from switchboard.store import User
from web.context import get_store
from web.errors import ApiError, is_api_request
from web.framing import SOFTPHONE_PATH, salesforce_framable_csp

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

USER_KEY = "user_id"
CSRF_KEY = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LOGIN_FAILED = "Unknown user or wrong password"

F = TypeVar("F", bound=Callable[..., Any])


def csrf_token() -> str:
    """The CSRF token of this session, created on first use."""
    token = session.get(CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def csrf_valid() -> bool:
    """True when the submitted form carries this session's CSRF token."""
    expected = session.get(CSRF_KEY)
    given = request.form.get(CSRF_FIELD, "")
    return bool(expected) and hmac.compare_digest(str(expected), given)


def require_csrf_header() -> None:
    """Refuse a JSON API call without this session's CSRF token in the ``X-CSRF-Token`` header."""
    expected = session.get(CSRF_KEY)
    given = request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(str(expected), given):
        raise ApiError("csrf_failed", "Missing or wrong CSRF token.", 403)


def current_user() -> User | None:
    """The logged-in user of this request, or None."""
    if "current_user" not in g:
        user_id = session.get(USER_KEY)
        g.current_user = get_store().get_user(user_id) if isinstance(user_id, int) else None
    return cast(User | None, g.current_user)


def login_required(view: F) -> F:
    """Send anonymous visitors to the login page (or a 401 JSON error under /api/)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if is_api_request():
                raise ApiError("not_logged_in", "Log in first.", 401)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def _safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else becomes the phone page."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("phone.phone_page")


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "current_user": current_user}


@bp.get("/login")
def login() -> str:
    """The login form."""
    return render_template("login.html", error=None, username="", next=request.args.get("next", ""))


@bp.post("/login")
def login_submit() -> Any:
    """Check the CSRF token and the password, then start a fresh session."""
    username = request.form.get("username", "").strip()
    next_url = request.form.get("next", "")
    if not csrf_valid():
        logger.warning("login form without a valid CSRF token from %s", request.remote_addr)
        error = "Your login form expired. Please try again."
        return render_template("login.html", error=error, username=username, next=next_url), 400
    user = get_store().authenticate(username, request.form.get("password", ""))
    if user is None:
        logger.info("failed login for %r from %s", username, request.remote_addr)
        # 200, like any re-shown form: the page itself says what went wrong.
        return render_template("login.html", error=LOGIN_FAILED, username=username, next=next_url)
    session.clear()
    session[USER_KEY] = user.id
    session.permanent = True
    csrf_token()
    logger.info("user %s logged in", user.username)
    from web.profiles import use_at_login  # (web.profiles imports this module)

    use_at_login(user, request.form.get("profile", ""))
    return redirect(_safe_next(next_url))


@bp.after_request
def _framable_login_for_the_softphone(response: Response) -> Response:
    """The login of the Open CTI softphone shows inside Salesforce's panel: let Salesforce frame it."""
    next_url = request.args.get("next") or request.form.get("next") or ""
    if request.path == "/login" and next_url.startswith(SOFTPHONE_PATH):
        response.headers["Content-Security-Policy"] = salesforce_framable_csp(load_opencti=False)
    return response


@bp.post("/logout")
def logout() -> Response:
    """End the session (CSRF-checked)."""
    if not csrf_valid():
        abort(400, description="Missing or wrong CSRF token.")
    user = current_user()
    session.clear()
    if user is not None:
        logger.info("user %s logged out", user.username)
    return redirect(url_for("auth.login"))
