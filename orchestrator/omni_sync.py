"""Omni-Channel presence read side in the orchestrator: the worker's poller (``worker/omnisync.py``)
reports each linked agent's Omni status and workload (command ``presence_omni``); ``switchboard.omni``
decides, and the presence service applies it (Asterisk, the page, the plugins). The plugins hear every
report (``omni_changed``): the workload rule ("In a Case") is the built-in plugin ``in_a_case``.

The agent choosing Offline in the Omni widget is told apart from a browser closed or a network lost by
the Lightning component: it reports the widget's logout through the web phone (``presence_omni_logout``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from orchestrator.presence_service import PresenceService
from switchboard import omni
from switchboard import presence as p
from switchboard.contracts import PRESENCE_OMNI, PRESENCE_OMNI_LOGOUT
from switchboard.store import Store

logger = logging.getLogger(__name__)


def load_mappings(store: Store) -> list[omni.OmniMapping]:
    """The admin's Omni-Channel mapping table."""
    return [omni.OmniMapping(m.omni_developer_name, m.status, m.omni_kind, m.omni_status_id, m.omni_label,
                             m.direction) for m in store.list_omni_mappings()]


class OmniSync:
    """Keeps each agent's last Omni state and applies what a new one means."""

    def __init__(self, presence: PresenceService, store: Store, *, workload_limit: int = 0,
                 voice_queues: tuple[str, ...] = (), clock: Callable[[], float] = time.time,
                 hook: Callable[..., None] | None = None) -> None:
        self.presence = presence
        self.hook = hook
        self.store = store
        self.workload_limit = workload_limit
        self.voice_queues = voice_queues
        self.clock = clock
        self.states: dict[str, omni.OmniState] = {}
        self.logouts: dict[str, float] = {}
        self.mappings: list[omni.OmniMapping] = []
        self.loaded_at = 0.0

    async def _mappings(self) -> list[omni.OmniMapping]:
        if self.clock() - self.loaded_at > 10:  # an admin's change counts within 10 s
            self.mappings = await asyncio.to_thread(load_mappings, self.store)
            self.loaded_at = self.clock()
        return self.mappings

    async def logout(self, command: dict[str, Any]) -> None:
        """``presence_omni_logout`` {agent}: the agent chose Offline in the Omni widget."""
        agent = command.get("agent")
        if isinstance(agent, str) and agent:
            self.logouts[agent] = self.clock()
            logger.info("%s chose Offline in Omni-Channel", agent)

    async def report(self, command: dict[str, Any]) -> None:
        """``presence_omni`` {agent, status, workload}: an agent's Omni state as the poller read it."""
        agent, status, workload = command.get("agent"), command.get("status"), command.get("workload", 0)
        if not isinstance(agent, str) or agent not in self.presence.agents \
                or not (status is None or isinstance(status, str)) or not isinstance(workload, int | float):
            logger.warning("rejected presence_omni: %.200r", command)
            return
        after = omni.OmniState(status or None, float(workload))
        before = self.states.get(agent)
        self.states[agent] = after
        explicit = self.clock() - self.logouts.get(agent, float("-inf")) <= omni.EXPLICIT_LOGOUT_SECONDS
        view = p.view(self.presence.agents[agent], self.clock())
        decision = omni.decide(before, after, view, await self._mappings(), explicit_logout=explicit)
        if decision.queues is False:
            self.logouts.pop(agent, None)
        changed = await self.presence.switch(agent, status=decision.status, offwork=decision.offwork,
                                             queues=decision.queues, queue_names=self.voice_queues)
        if decision.why and (changed or before is None or before.status != after.status):
            logger.info("%s: Omni %s (workload %g): %s", agent, after.status or "Offline", after.workload,
                        decision.why)
        if self.hook is not None:  # each report (a level: the built-in in_a_case plugin follows the workload)
            self.hook("omni_changed", agent=agent, status=after.status, workload=after.workload,
                      workload_limit=self.workload_limit)

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        """The command handlers this adds to the orchestrator's command channel."""
        return {PRESENCE_OMNI: self.report, PRESENCE_OMNI_LOGOUT: self.logout}
