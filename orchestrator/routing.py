"""Routing hand-off: a Stasis channel asks the plugins for a queue, then goes back to the dialplan."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import pluggy

from orchestrator import events as ev
from orchestrator.ari import AriClient
from orchestrator.plugins import safe_call
from orchestrator.translate import MalformedFrame, translate_ari

logger = logging.getLogger(__name__)


def route_call_args(request: ev.RouteRequested) -> dict[str, Any]:
    """The ``call`` a ``route_call`` hook receives: the request's fields without the receive time."""
    return {k: v for k, v in dataclasses.asdict(request).items() if k != "at"}


class Router:
    """Answers StasisStart(route) events within a hard deadline; on any failure the dialplan decides."""

    def __init__(self, ari: AriClient, pm: pluggy.PluginManager, timeout: float, queues: set[str]) -> None:
        self.ari = ari
        self.pm = pm
        self.timeout = timeout
        self.queues = queues

    async def on_ari(self, message: dict[str, Any]) -> None:
        """Handle one ARI event."""
        try:
            request = translate_ari(message, time.time())
        except MalformedFrame as exc:
            logger.warning("skipped malformed ARI message: %s", exc)
            return
        if isinstance(request, ev.RouteRequested):
            await self.route(request)

    async def route(self, request: ev.RouteRequested) -> None:
        """Ask the plugins for a queue (within the deadline), then hand the channel back to the dialplan."""
        try:
            chosen = await safe_call(self.pm, "route_call", self.timeout, call=route_call_args(request))
            if chosen and chosen != request.queue:
                if chosen in self.queues:
                    await self.ari.set_variable(request.channel_id, "__SB_QUEUE", chosen)
                    logger.info("routed %s to %s", request.caller_number, chosen)
                else:
                    logger.error("route_call chose unknown queue %r; keeping %r", chosen, request.queue)
        except Exception:
            logger.exception("routing failed; the dialplan's queue is kept")
        finally:
            await self.ari.continue_in_dialplan(request.channel_id)
