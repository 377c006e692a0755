"""``/metrics``: Prometheus figures (Salesforce API budget, call activities) for monitoring."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, abort, request

from switchboard.meter import Meter, prometheus
from web.context import get_settings

logger = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    """The API budget meter in Prometheus text format (answered on loopback only)."""
    if request.remote_addr not in ("127.0.0.1", "::1"):
        abort(404)
    url = get_settings().redis_url
    if not url:
        return Response("", mimetype="text/plain; version=0.0.4")
    snapshot = Meter(redis.Redis.from_url(url, socket_timeout=2)).snapshot()
    return Response(prometheus(snapshot), mimetype="text/plain; version=0.0.4")
