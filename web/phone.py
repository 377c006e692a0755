"""The web phone page and the agent's own SIP configuration."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, url_for

from switchboard.config import Settings
from switchboard.sip import SIP, WEBRTC, derive_sip_password, phone_account
from switchboard.store import User
from web.auth import current_user, login_required
from web.context import get_settings
from web.errors import ApiError

logger = logging.getLogger(__name__)

bp = Blueprint("phone", __name__)

# Built by web/build.sh from npm packages; not in git.
VENDOR_FILES = ("jssip.min.js", "socket.io.min.js")
BUILD_HINT = "run web/build.sh (needs Node.js and npm) to build the browser bundles"


def missing_vendor_files(static_folder: str | Path) -> list[str]:
    """The bundles under ``static/vendor/`` that have not been built."""
    vendor = Path(static_folder) / "vendor"
    return [name for name in VENDOR_FILES if not (vendor / name).is_file()]


def sip_config(settings: Settings, user: User) -> dict[str, Any]:
    """The phone configuration of ``user``: who they are, their device, and how their phone registers."""
    agent = user.agent
    if agent is None:
        raise ApiError("not_an_agent", f"User {user.username!r} has no phone: they are not an agent.", 403)
    device = agent.device or WEBRTC
    out = {
        "username": user.username,
        "display_name": user.display_name,
        # webrtc: the page registers itself (JsSIP) and carries the audio; sip: the agent's SIP phone does,
        # and the page follows the call from the server's events (and hangs up / transfers through it).
        "device": device,
        "sip": {
            "ws_url": settings.sip_ws_url,
            "uri": f"sip:{agent.sip_username}@{settings.sip_domain}",
            "username": agent.sip_username,
            "password": derive_sip_password(settings.secret_key, agent.sip_username, agent.sip_generation),
            "display_name": user.display_name,
        },
    }
    if device == SIP:
        out["phone"] = phone_account(settings, agent.sip_username, agent.sip_generation).to_dict()
    return out


@bp.get("/")
def index() -> Response:
    """The start page is the phone."""
    return redirect(url_for("phone.phone_page"))


@bp.get("/phone")
@login_required
def phone_page() -> Any:
    """The standalone web phone."""
    missing = missing_vendor_files(current_app.static_folder or "")
    if missing:
        logger.error("web phone bundles missing: %s; %s", ", ".join(missing), BUILD_HINT)
        return render_template("bundle_missing.html", missing=missing, hint=BUILD_HINT), 500
    return render_template("phone.html", user=current_user())


@bp.get("/api/me")
@login_required
def me() -> Response:
    """The logged-in user and, for an agent, the SIP credentials of their own endpoint only."""
    user = current_user()
    assert user is not None  # login_required
    response = jsonify(sip_config(get_settings(), user))
    response.headers["Cache-Control"] = "no-store"
    return response
