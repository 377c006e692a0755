"""Why did this call go here? The routing decision traces for supervisors: ``/admin/routing`` (the newest
routed calls, each explained) and ``/api/route/<call_id>`` (one trace as JSON)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, jsonify, render_template, request

from switchboard.routing import explain
from web.admin import _admin
from web.auth import login_required
from web.context import get_store

bp = Blueprint("routing_view", __name__)


@bp.get("/admin/routing")
@login_required
def routing_page() -> str:
    """The newest routed calls with who decided, where, and why (``?call=ID`` shows one call)."""
    _admin()
    store = get_store()
    call_id = request.args.get("call", "").strip()[:64]
    if call_id:
        trace = store.get_trace(call_id)
        traces = [trace] if trace else []
    else:
        traces = store.recent_traces(100)
    rows = [{"trace": t, "text": explain(t),
             "when": datetime.fromtimestamp(float(t.get("at") or 0)).strftime("%Y-%m-%d %H:%M:%S")} for t in traces]
    return render_template("admin_routing.html", rows=rows, call_id=call_id)


@bp.get("/api/route/<call_id>")
@login_required
def route_trace(call_id: str) -> Response:
    """One routed call's decision trace (supervisors and admins)."""
    _admin()
    trace = get_store().get_trace(call_id[:64])
    if trace is None:
        abort(404)
    return jsonify({**trace, "explanation": explain(trace)})
