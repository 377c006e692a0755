"""Routing hand-off: a Stasis channel asks the plugins for a queue, then goes back to the dialplan."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any

import pluggy

from orchestrator import events as ev
from orchestrator.ari import AriClient
from orchestrator.translate import MalformedFrame, translate_ari
from switchboard.plugins import safe_call

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
        self.routing: set[str] = set()  # channels whose StasisStart this process is answering

    async def on_ari(self, message: dict[str, Any]) -> None:
        """Handle one ARI event."""
        try:
            request = translate_ari(message, time.time())
        except MalformedFrame as exc:
            logger.warning("skipped malformed ARI message: %s", exc)
            return
        if isinstance(request, ev.RouteRequested):
            await self.route(request)

    async def recover(self, settle: float = 1.0) -> None:
        """After (re)connecting: hand back to the dialplan every channel left in routing, one that entered
        ``Stasis()`` while a previous orchestrator was connected and died before it answered (Asterisk keeps
        such a channel in the application and sends its StasisStart to nobody again). Waits ``settle``
        seconds first, so that a call arriving now is answered through its own StasisStart."""
        await asyncio.sleep(settle)
        for channel_id in await self.ari.app_channels():
            if channel_id in self.routing:
                continue
            logger.warning("channel %s was left in routing; the dialplan's queue takes it", channel_id)
            try:
                await self.ari.continue_in_dialplan(channel_id)
            except Exception as exc:  # routed meanwhile by its own StasisStart (this connection's): fine
                logger.info("channel %s not continued: %s", channel_id, exc)

    async def route(self, request: ev.RouteRequested) -> None:
        """Ask the plugins for a queue (within the deadline), then hand the channel back to the dialplan."""
        self.routing.add(request.channel_id)
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
            try:
                await self.ari.continue_in_dialplan(request.channel_id)
            finally:
                self.routing.discard(request.channel_id)
