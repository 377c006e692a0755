"""The SLA arbiter: keeps every agent held back (paused, reason "SLA: another queue first") in those of
their queues whose waiting caller scores lower than the best one among their queues (switchboard/sla.py),
so that a freed agent is offered the caller with the highest SLA score. Asterisk does the rest: the one
queue left open rings the agent, best skill first and round robin among equals (docs/routing.md).

The holds are recomputed every ``interval`` seconds from the live model (who waits where, since when)
and the agents' presence (which queues may ring them at all), for free and busy agents alike: app_queue
rings a member the moment they are free, so the holds must already be in place then.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping

from orchestrator.dashboard import logged_in
from orchestrator.model import Model
from orchestrator.picking import BUSY_STATES, waiting
from orchestrator.presence_service import PresenceService
from switchboard import presence as p
from switchboard.sla import assign, heads, hold_back

logger = logging.getLogger(__name__)


class SlaArbiter:
    """Computes and applies the SLA holds of every agent."""

    def __init__(self, model: Model, presence: PresenceService, *, thresholds: Mapping[str, int] | None = None,
                 penalties: Mapping[str, Mapping[str, int]] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.model = model
        self.presence = presence
        self.thresholds: Mapping[str, int] = thresholds or {}  # queue -> SLA seconds
        self.penalties: Mapping[str, Mapping[str, int]] = penalties or {}  # agent -> queue -> penalty
        self.clock = clock

    def holds(self, now: float) -> dict[str, frozenset[str]]:
        """Agent -> the queues to hold them back in now: a free agent given a caller (``assign``) in their
        other open queues with callers; a busy one where a better-scored caller waits (``hold_back``)."""
        queued = [(c.queue, c.joined_at) for c in self.model.calls.values() if waiting(c)]
        heads_now = heads(queued, self.thresholds, now)
        if len(heads_now) < 2:
            return {}
        open_queues: dict[str, list[str]] = {}
        for agent, state in self.presence.agents.items():
            unheld = dataclasses.replace(state, held=frozenset())
            open_queues[agent] = [q.name for q in state.queues if not p.pause_reason(unheld, q, now)]
        free = {a: qs for a, qs in open_queues.items() if self.free(a)}
        given = assign(free, queued, self.thresholds, now, self.penalties)
        out: dict[str, frozenset[str]] = {}
        for agent, queues in open_queues.items():
            if agent in given:
                held = frozenset(q for q in queues if q in heads_now and q != given[agent])
            elif agent in free:
                held = frozenset()  # more free agents than callers they could take: needed by nobody
            else:
                held = hold_back(queues, heads_now, self.penalties.get(agent))
            if held:
                out[agent] = held
        return out

    def free(self, agent: str) -> bool:
        """Whether the agent's phone is registered and on no call (Asterisk's device state)."""
        state = self.model.agents.get(agent)
        return state is not None and logged_in(state) and state.device_state not in BUSY_STATES

    async def step(self) -> int:
        """Recompute and apply once; how many agents' holds changed."""
        return await self.presence.hold(self.holds(self.clock()))

    async def run(self, interval: float = 0.5) -> None:
        """Keep the holds current until cancelled."""
        while True:
            try:
                await self.step()
            except Exception:
                logger.exception("SLA arbiter step failed")
            await asyncio.sleep(interval)
