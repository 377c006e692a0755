"""The agent's profile (queues with a skill level each, switchboard.profiles): chosen on the login form or on
the phone page. The store makes the agent's memberships follow it; a ``provision`` command has the
orchestrator render the queue members again, so Asterisk offers calls by the new skills at once.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify

from switchboard import contracts as c
from switchboard.store import User
from switchboard.store.db import UnknownAgentError
from web.auth import current_user, login_required, require_csrf_header
from web.context import get_store
from web.errors import ApiError, json_body
from web.presence import _agent, publish

logger = logging.getLogger(__name__)

bp = Blueprint("profiles", __name__)


def use_profile(agent: str, name: str | None) -> None:
    """``agent`` works under the profile ``name`` (None: no profile, queues as they are); Asterisk follows."""
    try:
        get_store().use_profile(agent, name)
    except UnknownAgentError as exc:
        raise ApiError("unknown_agent", "Unknown agent.", 404) from exc
    except LookupError as exc:
        raise ApiError("unknown_profile", f"There is no profile {name!r}.", 400) from exc
    publish(c.PROVISION)
    logger.info("%s works under profile %s", agent, name or "(none)")


def use_at_login(user: User, name: str) -> None:
    """The profile chosen on the login form ('' keeps the agent's); a bad choice never stops the login."""
    if not name or user.agent is None:
        return
    try:
        use_profile(user.agent.sip_username, name)
    except ApiError as exc:
        logger.warning("profile %.100r chosen at login by %s not used: %s", name, user.username, exc.message)


def choice(agent: str | None) -> dict[str, Any]:
    """The profiles to choose from (name, pick mode, queues with skill levels) and ``agent``'s current one."""
    store = get_store()
    current = store.profile_of(agent) if agent else None
    return {"profile": current.name if current else None, "profiles": [
        {"name": p.name, "pick_mode": p.pick_mode,
         "skills": [{"queue": k.queue.name, "label": k.queue.label, "skill": k.skill}
                    for k in sorted(p.skills, key=lambda k: (-k.skill, k.queue.name))]}
        for p in store.list_profiles()]}


def _page_choice() -> dict[str, Any]:
    """The phone page's choice: none for a user without a phone."""
    user = current_user()
    if user is None or user.agent is None:
        return {"profile": None, "profiles": []}
    return choice(user.agent.sip_username)


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"profile_names": lambda: [p.name for p in get_store().list_profiles()], "profile_choice": _page_choice}


@bp.get("/api/profile")
@login_required
def get_profile() -> Response:
    """The agent's profile and the profiles to choose from."""
    response = jsonify(choice(_agent()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/profile")
@login_required
def set_profile() -> Response:
    """Work under another profile: ``{profile}`` (a name, or null for none)."""
    require_csrf_header()
    name = json_body().get("profile")
    if name is not None and not isinstance(name, str):
        raise ApiError("bad_request", "profile is a name or null.", 400)
    agent = _agent()
    use_profile(agent, name or None)
    response = jsonify({"ok": True, **choice(agent)})
    response.status_code = 202  # stored; Asterisk's members follow within a moment
    return response
