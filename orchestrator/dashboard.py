"""The agent's mini dashboard (seed 001 sections 1.4 and 7.2.1): live figures of each service pool queue.

``queue_stats(model, now)`` reads the live model and does no I/O. ``DashboardService`` computes it once a
second and emits ``queue_stats`` to each agent's phone with only the queues that agent is a member of,
when that agent's figures changed and whenever the page asks (command ``dashboard_refresh``).

The longest current wait is sent as ``max_wait_seconds`` at ``now`` plus ``waiting_since`` (epoch); the
page ticks it locally, so a waiting caller alone does not cause an emit every second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from orchestrator.model import AgentPresence, Model
from orchestrator.notifier import Notifier
from switchboard.contracts import DASHBOARD_REFRESH, QUEUE_STATS_EVENT

logger = logging.getLogger(__name__)

OFFLINE_STATES = frozenset({"unavailable", "unknown", "invalid"})
ON_CALL_STATES = frozenset({"inuse", "busy", "onhold"})
TICKING = ("max_wait_seconds",)  # fields that change every second by themselves: not a reason to emit


def logged_in(agent: AgentPresence) -> bool:
    """Whether the agent's phone is registered (or, before any contact event, not offline)."""
    if agent.registered is not None:
        return agent.registered
    return agent.device_state not in OFFLINE_STATES


def _empty(name: str, label: str) -> dict[str, Any]:
    return {"queue": name, "label": label, "members": 0, "serving": 0, "free": 0, "active": 0,
            "active_calls": 0, "waiting": 0, "max_wait_seconds": 0, "waiting_since": None}


def queue_stats(model: Model, now: float) -> dict[str, dict[str, Any]]:
    """Per queue: members, serving (logged in, not paused), free (serving, not on a call), active (agents
    on a call), active_calls, waiting (callers in queue), max_wait_seconds and waiting_since."""
    names = set(model.queue_labels)
    for agent in model.agents.values():
        names.update(agent.queues)
    names.update(c.queue for c in model.calls.values() if c.queue)
    stats = {n: _empty(n, model.queue_labels.get(n, n)) for n in sorted(names)}
    for agent in model.agents.values():
        online = logged_in(agent)
        busy = agent.device_state in ON_CALL_STATES
        for name, membership in agent.queues.items():
            row = stats[name]
            row["members"] += 1
            on_call = online and (busy or membership.in_call)
            row["active"] += on_call
            if online and not membership.paused:
                row["serving"] += 1
                row["free"] += not on_call and agent.device_state != "ringing"
    for call in model.calls.values():
        if not call.queue:
            continue
        row = stats[call.queue]
        if call.answered_at is not None:
            row["active_calls"] += 1
        elif call.left_queue_at is None:
            row["waiting"] += 1
            since = row["waiting_since"]
            row["waiting_since"] = call.joined_at if since is None else min(since, call.joined_at)
    for row in stats.values():
        if row["waiting_since"] is not None:
            row["max_wait_seconds"] = max(0, int(now - row["waiting_since"]))
    return stats


def agent_queues(model: Model, agent: str) -> list[str]:
    """The queues an agent is a member of, as Asterisk reports them."""
    presence = model.agents.get(agent)
    return sorted(presence.queues) if presence is not None else []


class DailyTally:
    """Calls answered and abandoned per queue today, counted as calls leave the live model."""

    def __init__(self) -> None:
        self.day = ""
        self.answered: dict[str, int] = {}
        self.abandoned: dict[str, int] = {}
        self._seen: dict[str, tuple[str, bool]] = {}  # call id -> (queue, answered)

    def observe(self, model: Model, now: float) -> None:
        """Count the queue calls that ended since the last look; reset at local midnight."""
        day = datetime.fromtimestamp(now).date().isoformat()
        if day != self.day:
            self.day, self.answered, self.abandoned = day, {}, {}
        current = {cid: (c.queue, c.answered_at is not None) for cid, c in model.calls.items() if c.queue}
        for cid, (queue, answered) in self._seen.items():
            if cid not in current:
                counts = self.answered if answered else self.abandoned
                counts[queue] = counts.get(queue, 0) + 1
        self._seen = current

    def add_to(self, stats: dict[str, dict[str, Any]]) -> None:
        """Put ``answered_today`` and ``abandoned_today`` into each queue's row."""
        for name, row in stats.items():
            row["answered_today"] = self.answered.get(name, 0)
            row["abandoned_today"] = self.abandoned.get(name, 0)


def agent_payload(stats: dict[str, dict[str, Any]], queues: list[str], now: float) -> dict[str, Any]:
    """The ``queue_stats`` event of one agent: only their queues, ordered by label."""
    rows = sorted((stats[q] for q in queues if q in stats), key=lambda r: (r["label"].casefold(), r["queue"]))
    return {"at": now, "queues": rows}


def _steady(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The payload without the fields that tick by themselves, for change detection."""
    return [{k: v for k, v in row.items() if k not in TICKING} for row in payload["queues"]]


class DashboardService:
    """Emits each agent's queue figures when they change, and on request."""

    def __init__(self, model: Model, notifier: Notifier | None,
                 clock: Callable[[], float] = time.time) -> None:
        self.model = model
        self.notifier = notifier
        self.clock = clock
        self.tally = DailyTally()
        self.sent: dict[str, list[dict[str, Any]]] = {}

    def _stats(self) -> tuple[dict[str, dict[str, Any]], float]:
        now = self.clock()
        self.tally.observe(self.model, now)
        stats = queue_stats(self.model, now)
        self.tally.add_to(stats)
        return stats, now

    async def _emit(self, agent: str, payload: dict[str, Any]) -> None:
        self.sent[agent] = _steady(payload)
        if self.notifier is not None:
            await self.notifier.to_agent(agent, QUEUE_STATS_EVENT, payload)

    async def tick(self) -> None:
        """Compute the figures and emit to every agent whose queues' figures changed."""
        stats, now = self._stats()
        for agent in sorted(self.model.agents):
            payload = agent_payload(stats, agent_queues(self.model, agent), now)
            if _steady(payload) != self.sent.get(agent):
                await self._emit(agent, payload)

    async def refresh(self, command: dict[str, Any]) -> None:
        """Command ``dashboard_refresh`` {agent}: emit that agent's figures now."""
        agent = command.get("agent")
        if not isinstance(agent, str) or not agent:
            return
        stats, now = self._stats()
        await self._emit(agent, agent_payload(stats, agent_queues(self.model, agent), now))

    async def run_timer(self, interval: float = 1.0) -> None:
        """Tick forever."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tick()
            except Exception:
                logger.exception("dashboard tick failed")

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        """The command handlers this service adds to the orchestrator's command channel."""
        return {DASHBOARD_REFRESH: self.refresh}
