"""Advanced call details: a finished call and its recording (the link on the call's Salesforce Task)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, render_template, send_file

from switchboard.numbers import display_number
from switchboard.store import CallRecord
from web.auth import current_user, login_required
from web.context import get_settings, get_store

logger = logging.getLogger(__name__)

bp = Blueprint("calls", __name__)
_CALL_ID = re.compile(r"^[0-9]+\.[0-9]+$")  # an Asterisk linkedid


def _visible_call(call_id: str) -> CallRecord:
    """The call if the logged-in user may see it (the agent who took it, or a supervisor), else 404."""
    if not _CALL_ID.match(call_id):
        abort(404)
    record = get_store().get_call(call_id)
    user = current_user()
    if record is None or user is None:
        abort(404)
    own = user.agent is not None and record.agent == user.agent.sip_username
    if not (own or user.role in ("supervisor", "admin")):
        abort(404)
    return record


def recording_path(call_id: str) -> Path | None:
    """The recording file of a call, if there is one."""
    folder = get_settings().recordings_dir
    path = Path(folder) / f"{call_id}.wav" if folder else None
    return path if path is not None and path.is_file() else None


@bp.get("/calls/<call_id>")
@login_required
def call_details(call_id: str) -> Any:
    """The call's details and, when recorded, a player."""
    record = _visible_call(call_id)
    return render_template("call_details.html", call=record, has_recording=recording_path(call_id) is not None,
                           display_number=display_number)


@bp.get("/calls/<call_id>/recording.wav")
@login_required
def call_recording(call_id: str) -> Any:
    """The call's recording."""
    _visible_call(call_id)
    path = recording_path(call_id)
    if path is None:
        abort(404)
    return send_file(path, mimetype="audio/wav", conditional=True)
