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
from orchestrator.lanes import Lane, Lanes
from orchestrator.livecalls import LiveCalls
from orchestrator.notifier import Notifier
from switchboard.contracts import (
    AGENT_STATE,
    CALL_ANSWERED,
    CALL_ENDED,
    CALL_LEFT,
    CALL_OFFERED,
    CALL_PLACED,
    OFFER_TTL,
    offer_key,
)
from switchboard.plugins import safe_call

logger = logging.getLogger(__name__)

PHONE_LANES = 16  # agents' events in parallel (each agent's in order)
BOARD_LANES = 4  # the board's events in parallel (each agent's and each call's in order)
JOB_LANES = 4  # RQ enqueues in parallel (each call's in order; each takes a thread of the default executor)


class Dispatcher:
    """Acts on each change: notify the agent, enqueue jobs, tell plugins — each kind in its own lane
    (orchestrator/lanes.py), so the model's loop hands changes over and goes on at once."""

    def __init__(self, notifier: Notifier, jobs: JobQueue, pm: pluggy.PluginManager, hook_timeout: float = 2.0,
                 *, ami: Callable[[dict[str, Any]], Awaitable[Any]] | None = None,
                 live: LiveCalls | None = None) -> None:
        self.notifier = notifier
        self.jobs = jobs
        self.pm = pm
        self.hook_timeout = hook_timeout
        self.ami = ami
        self.live = live
        # What agents' pages see, and taking a lost call back: latency first, in order per agent.
        self.phone = Lanes("phone", PHONE_LANES)
        self.board = Lanes("board", BOARD_LANES)  # the supervisors' board, in order per agent and per call
        self.work = Lanes("jobs", JOB_LANES)  # RQ jobs (Tasks, caller lookups), in order per call
        self.hooks = Lane("hooks")  # plugins, in order

    async def dispatch(self, changes: Iterable[m.Change]) -> None:
        """Hand ``changes`` to the lanes, in order; returns without waiting for their effects."""
        for change in changes:
            try:
                self._one(change)
            except Exception:
                logger.exception("dispatching %r failed", change)

    async def drain(self) -> None:
        """Wait until every effect handed over so far has run (tests; a clean stop)."""
        for lanes in (self.phone, self.board, self.work, self.hooks):
            await lanes.drain()

    def backlog(self) -> int:
        """How many effects wait in the lanes."""
        return self.phone.backlog + self.board.backlog + self.work.backlog + self.hooks.backlog

    def hook(self, hook: str, **kwargs: Any) -> None:
        """Call the plugins' ``hook`` with ``kwargs`` in the hook lane, in order; returns at once."""
        self.hooks.put(self._call_hook, hook, kwargs)

    async def _call_hook(self, hook: str, kwargs: dict[str, Any]) -> None:
        await safe_call(self.pm, hook, self.hook_timeout, **kwargs)

    def _one(self, change: m.Change) -> None:
        def phone(agent: str, effect: Any, *args: Any) -> None:
            self.phone.put(agent, effect, *args)

        match change:
            case m.CallOffered(agent=agent, call=call):
                phone(agent, self._record_offer, agent, call)  # before the page hears of it: it may act at once
                phone(agent, self.notifier.to_agent, agent, CALL_OFFERED, call)
                self.hook("call_offered", agent=agent, call=call)
            case m.CallPlaced(agent=agent, call=call):
                phone(agent, self._record_offer, agent, call)  # the agent's own call: the web may act on it
                phone(agent, self.notifier.to_agent, agent, CALL_PLACED, call)
                self.hook("call_placed", agent=agent, call=call)
            case m.CallAnswered(agent=agent, call_id=call_id, answered_at=at, call=call):
                if self.live is not None:
                    phone(agent, self.live.answered, agent, call)
                phone(agent, self.notifier.to_agent, agent, CALL_ANSWERED, {"call_id": call_id, "answered_at": at})
                self.hook("call_answered", agent=agent, call_id=call_id)
            case m.CallAdopted(agent=agent, call=call):
                if self.live is not None:  # a restarted orchestrator: the agent's reloaded page finds the call
                    phone(agent, self.live.answered, agent, call)
            case m.OfferWithdrawn(agent=agent, call_id=call_id, reason=reason):
                phone(agent, self.notifier.to_agent, agent, CALL_ENDED, {
                    "call_id": call_id, "disposition": "not answered", "reason": reason, "duration_seconds": 0})
                self.hook("call_withdrawn", agent=agent, call_id=call_id, reason=reason)
            case m.AgentLegLost(agent=agent, call_id=call_id, leg_channel=leg, agent_channel=browser):
                phone(agent, self.reconnect, agent, call_id, leg, browser)
            case m.AgentLeftCall(agent=agent, call_id=call_id):
                if self.live is not None:
                    phone(agent, self.live.ended, agent, call_id)
                # the page of a SIP-phone agent learns the call went on without them (a web phone sees its
                # own session end)
                phone(agent, self.notifier.to_agent, agent, CALL_LEFT, {"call_id": call_id})
                self.hook("call_left", agent=agent, call_id=call_id)
            case m.CallEnded(summary=summary):
                self.work.put(summary["call_id"], self.jobs.call_ended, summary)
                agent = summary.get("agent")
                if agent:
                    if self.live is not None:
                        phone(agent, self.live.ended, agent, summary["call_id"])
                    phone(agent, self.notifier.to_agent, agent, CALL_ENDED, {
                        "call_id": summary["call_id"], "disposition": summary["disposition"],
                        "duration_seconds": summary["duration_seconds"]})
                self.board.put(summary["call_id"], self.notifier.to_board, CALL_ENDED, summary)
                self.hook("call_ended", summary=summary)
            case m.AgentChanged(agent=agent, view=view):
                phone(agent, self.notifier.to_agent, agent, AGENT_STATE, view)
                self.board.put(agent, self.notifier.to_board, AGENT_STATE, view)
                self.hook("agent_changed", agent=agent, view=view)

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
        key = offer_key(str(call.get("call_id")), agent)
        try:
            if self.live is not None:
                await self.live.redis.set(key, value, ex=OFFER_TTL)  # no thread hop on the phone lane
            else:
                await asyncio.to_thread(self.jobs.queue.connection.set, key, value, ex=OFFER_TTL)
        except Exception:
            logger.exception("could not record the offer of %s to %s", call.get("call_id"), agent)

    def warm_caller(self, number: str, call_id: str = "") -> None:
        """Look the caller of ``call_id`` up in the background (cached) so the identity is ready when the
        phone rings (and the plugins hear ``caller_identified``)."""
        if number:
            self.work.put(number, self._enqueue_lookup, number, call_id)

    async def _enqueue_lookup(self, number: str, call_id: str = "") -> None:
        try:
            await asyncio.to_thread(self.jobs.warm, number, call_id)
        except Exception:
            logger.exception("could not enqueue the caller lookup of %s", number)
