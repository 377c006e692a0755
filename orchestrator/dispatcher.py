"""Turns model changes into Socket.IO emits, RQ jobs and plugin hooks."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pluggy

from orchestrator import model as m
from orchestrator.jobs import JobQueue
from orchestrator.livecalls import LiveCalls
from orchestrator.notifier import Notifier
from orchestrator.plugins import safe_call

logger = logging.getLogger(__name__)

OFFER_PREFIX = "switchboard:offer:"
OFFER_TTL = 12 * 3600  # the web authorizes an agent's workflow actions on a call while this lives
IDENTIFY_CALLER = "worker.tasks.identify_caller"


def offer_key(call_id: str, agent: str) -> str:
    """Redis key recording that ``call_id`` was offered to ``agent`` (read by web/identity.py)."""
    return f"{OFFER_PREFIX}{call_id}:{agent}"


class Dispatcher:
    """Acts on each change: notify the agent, enqueue jobs, tell plugins."""

    def __init__(self, notifier: Notifier, jobs: JobQueue, pm: pluggy.PluginManager, hook_timeout: float = 2.0,
                 *, ami: Callable[[dict[str, Any]], Awaitable[Any]] | None = None,
                 live: LiveCalls | None = None) -> None:
        self.notifier = notifier
        self.jobs = jobs
        self.pm = pm
        self.hook_timeout = hook_timeout
        self.ami = ami
        self.live = live

    async def dispatch(self, changes: Iterable[m.Change]) -> None:
        """Act on changes in order; a failure on one is logged and does not stop the rest."""
        for change in changes:
            try:
                await self._one(change)
            except Exception:
                logger.exception("dispatching %r failed", change)

    async def _one(self, change: m.Change) -> None:
        match change:
            case m.CallOffered(agent=agent, call=call):
                await self.notifier.to_agent(agent, "call_offered", call)
                await self._record_offer(agent, call)
                await safe_call(self.pm, "call_offered", self.hook_timeout, agent=agent, call=call)
            case m.CallPlaced(agent=agent, call=call):
                await self._record_offer(agent, call)  # the agent's own call: the web may act on it
                await self.notifier.to_agent(agent, "call_placed", call)
            case m.CallAnswered(agent=agent, call_id=call_id, answered_at=at, call=call):
                if self.live is not None:
                    await self.live.answered(agent, call)
                await self.notifier.to_agent(agent, "call_answered", {"call_id": call_id, "answered_at": at})
                await safe_call(self.pm, "call_answered", self.hook_timeout, agent=agent, call_id=call_id)
            case m.CallAdopted(agent=agent, call=call):
                if self.live is not None:  # a restarted orchestrator: the agent's reloaded page finds the call
                    await self.live.answered(agent, call)
            case m.OfferWithdrawn(agent=agent, call_id=call_id, reason=reason):
                await self.notifier.to_agent(agent, "call_ended", {
                    "call_id": call_id, "disposition": "not answered", "reason": reason, "duration_seconds": 0})
            case m.AgentLegLost(agent=agent, call_id=call_id, leg_channel=leg, agent_channel=browser):
                await self.reconnect(agent, call_id, leg, browser)
            case m.AgentLeftCall(agent=agent, call_id=call_id):
                if self.live is not None:
                    await self.live.ended(agent, call_id)
                # the page of a SIP-phone agent learns the call went on without them (a web phone sees its
                # own session end)
                await self.notifier.to_agent(agent, "call_left", {"call_id": call_id})
            case m.CallEnded(summary=summary):
                await self.jobs.call_ended(summary)
                if self.live is not None and summary.get("agent"):
                    await self.live.ended(summary["agent"], summary["call_id"])
                if summary.get("agent"):
                    await self.notifier.to_agent(summary["agent"], "call_ended", {
                        "call_id": summary["call_id"], "disposition": summary["disposition"],
                        "duration_seconds": summary["duration_seconds"]})
                await self.notifier.to_board("call_ended", summary)
                await safe_call(self.pm, "call_ended", self.hook_timeout, summary=summary)
            case m.AgentChanged(agent=agent, view=view):
                await self.notifier.to_agent(agent, "agent_state", view)
                await self.notifier.to_board("agent_state", view)
                await safe_call(self.pm, "agent_changed", self.hook_timeout, agent=agent, view=view)

    async def reconnect(self, agent: str, call_id: str, leg: str, browser: str) -> None:
        """Mark the channel that keeps the call ([sb-reconnect]: hold music, re-ring ``agent``); drop the dead leg."""
        if self.ami is None:
            return
        logger.info("agent %s lost call %s (page reload or network): %s takes it back", agent, call_id, leg)
        await self.ami({"Action": "Setvar", "Channel": leg, "Variable": "SB_RECONNECT", "Value": agent})
        await self.ami({"Action": "Hangup", "Channel": browser, "Cause": "44"})

    async def _record_offer(self, agent: str, call: dict) -> None:
        """Remember (with a TTL) that this call was offered to this agent, so the web can authorize."""
        value = json.dumps({k: call.get(k) for k in ("call_id", "caller_number", "caller_name", "queue",
                                                     "queue_label", "direction", "offered_at", "rang_at")})
        try:
            conn = self.jobs.queue.connection
            await asyncio.to_thread(conn.set, offer_key(str(call.get("call_id")), agent), value, ex=OFFER_TTL)
        except Exception:
            logger.exception("could not record the offer of %s to %s", call.get("call_id"), agent)

    async def warm_caller(self, number: str) -> None:
        """Look the caller up in the background (cached) so the identity is ready when the phone rings."""
        if not number:
            return
        try:
            await asyncio.to_thread(self.jobs.queue.enqueue, IDENTIFY_CALLER, number, result_ttl=0,
                                    failure_ttl=3600, at_front=True)
        except Exception:
            logger.exception("could not enqueue the caller lookup of %s", number)
