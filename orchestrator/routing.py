"""Routing hand-off: a Stasis channel asks the plugins for a queue, then goes back to the dialplan."""

from __future__ import annotations

import logging
from typing import Any

import pluggy

from orchestrator.ari import AriClient
from orchestrator.plugins import safe_call

logger = logging.getLogger(__name__)


def route_request(message: dict[str, Any]) -> dict[str, Any] | None:
    """The routing request carried by an ARI StasisStart for ``Stasis(app,route,QUEUE)``, else None."""
    if message.get("type") != "StasisStart":
        return None
    args = message.get("args") or []
    if not args or args[0] != "route":
        return None
    channel = message.get("channel") or {}
    caller = channel.get("caller") or {}
    return {
        "channel_id": channel.get("id", ""),
        "caller_number": caller.get("number", ""),
        "caller_name": caller.get("name", ""),
        "dialed": (channel.get("dialplan") or {}).get("exten", ""),
        "queue": args[1] if len(args) > 1 else "",
    }


class Router:
    """Answers StasisStart(route) events within a hard deadline; on any failure the dialplan decides."""

    def __init__(self, ari: AriClient, pm: pluggy.PluginManager, timeout: float, queues: set[str]) -> None:
        self.ari = ari
        self.pm = pm
        self.timeout = timeout
        self.queues = queues

    async def on_ari(self, message: dict[str, Any]) -> None:
        """Handle one ARI event."""
        request = route_request(message)
        if request is None:
            return
        channel_id = request["channel_id"]
        try:
            chosen = await safe_call(self.pm, "route_call", self.timeout, call=request)
            if chosen and chosen != request["queue"]:
                if chosen in self.queues:
                    await self.ari.set_variable(channel_id, "__SB_QUEUE", chosen)
                    logger.info("routed %s to %s", request["caller_number"], chosen)
                else:
                    logger.error("route_call chose unknown queue %r; keeping %r", chosen, request["queue"])
        except Exception:
            logger.exception("routing failed; the dialplan's queue is kept")
        finally:
            await self.ari.continue_in_dialplan(channel_id)
