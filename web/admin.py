"""The admin's Omni-Channel page (``/admin/omni``): the status mapping table of seed 1.3 (an Omni presence
status and its type beside a Switchboard status and its type) and each agent's Salesforce user.

Plain forms (each with the session's CSRF token), for users whose role is admin or supervisor. The
org's Omni statuses are read from Salesforce (one query, kept a minute) so the admin picks, not types.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from switchboard import omni
from switchboard.salesforce import find_user_id, omni_statuses
from web.auth import csrf_valid, current_user, login_required
from web.context import get_store
from web.identity import services

logger = logging.getLogger(__name__)

bp = Blueprint("admin", __name__)
ADMIN_ROLES = ("admin", "supervisor")
STATUSES_TTL = 60.0
_omni_statuses: dict[str, Any] = {"at": float("-inf"), "rows": []}


def _admin() -> None:
    user = current_user()
    if user is None or user.role not in ADMIN_ROLES:
        abort(403)
    if request.method == "POST" and not csrf_valid():
        abort(403)


def org_statuses() -> tuple[list[dict[str, str]], str]:
    """The org's Omni presence statuses (Id, DeveloperName, MasterLabel), and an error text if unreadable."""
    if time.monotonic() - _omni_statuses["at"] < STATUSES_TTL:
        return _omni_statuses["rows"], ""
    try:
        rows = services().client.call(omni_statuses, budget=0)
    except Exception as exc:  # the page still works: the admin types the DeveloperName
        logger.warning("could not read the Omni statuses: %s", exc)
        return [], "Salesforce's Omni-Channel statuses could not be read; type the status's API name."
    _omni_statuses.update(at=time.monotonic(), rows=rows)
    return rows, ""


@bp.get("/admin/omni")
@login_required
def omni_page() -> str:
    """The mapping table, the form to add a row, and the agents' Salesforce users."""
    _admin()
    store = get_store()
    statuses, error = org_statuses()
    return render_template("admin_omni.html", mappings=store.list_omni_mappings(), org_statuses=statuses,
                           org_error=error, statuses=store.list_statuses(), system=omni.SYSTEM_STATUSES,
                           kinds={s.name: s.kind for s in store.list_statuses()}, omni_kinds=omni.OMNI_KINDS,
                           directions=omni.DIRECTIONS, agents=store.list_agents())


@bp.post("/admin/omni/map")
@login_required
def omni_map() -> Response:
    """Add or change the row of one Omni status."""
    _admin()
    store = get_store()
    form = request.form
    row = omni.OmniMapping(form.get("omni_status", "").strip(), form.get("status", ""),
                           form.get("omni_kind", ""), direction=form.get("direction", ""))
    problems = omni.check_mapping(row, [s.name for s in store.list_statuses()])
    if problems:
        flash("; ".join(problems), "error")
        return redirect(url_for("admin.omni_page"))
    known = {s["DeveloperName"]: s for s in org_statuses()[0]}.get(row.omni, {})
    store.upsert_omni_mapping(row.omni, omni_status_id=known.get("Id", ""), omni_label=known.get("MasterLabel", ""),
                              omni_kind=row.omni_kind, status=row.status, direction=row.direction)
    flash(f"{row.omni} ↔ {row.status} saved", "ok")
    return redirect(url_for("admin.omni_page"))


@bp.post("/admin/omni/unmap")
@login_required
def omni_unmap() -> Response:
    """Remove the row of one Omni status."""
    _admin()
    name = request.form.get("omni_status", "")
    flash(f"{name} removed" if get_store().delete_omni_mapping(name) else f"{name} was not mapped", "ok")
    return redirect(url_for("admin.omni_page"))


@bp.post("/admin/omni/link")
@login_required
def omni_link() -> Response:
    """Link an agent to a Salesforce user (an Id or a Username, looked up), or unlink them."""
    _admin()
    agent, user = request.form.get("agent", ""), request.form.get("sf_user", "").strip()
    user_id: str | None = ""
    if user:
        try:
            user_id = services().client.call(lambda sf: find_user_id(sf, user), budget=0)
        except Exception as exc:
            logger.warning("could not look up the Salesforce user %.80r: %s", user, exc)
            flash("Salesforce could not be reached.", "error")
            return redirect(url_for("admin.omni_page"))
        if user_id is None:
            flash(f"No Salesforce user {user!r}.", "error")
            return redirect(url_for("admin.omni_page"))
    try:
        get_store().set_sf_user(agent, user_id)
    except LookupError:
        flash(f"Unknown agent {agent!r}.", "error")
        return redirect(url_for("admin.omni_page"))
    flash(f"{agent}: Salesforce user {user_id or 'none'}", "ok")
    return redirect(url_for("admin.omni_page"))
