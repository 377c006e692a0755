"""Turns model changes into Socket.IO emits, RQ jobs and plugin hooks."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pluggy

from orchestrator import model as m
from orchestrator.jobs import JobQueue
from orchestrator.notifier import Notifier
from orchestrator.plugins import safe_call

logger = logging.getLogger(__name__)


class Dispatcher:
    """Acts on each change: notify the agent, enqueue jobs, tell plugins."""

    def __init__(self, notifier: Notifier, jobs: JobQueue, pm: pluggy.PluginManager, hook_timeout: float = 2.0):
        self.notifier = notifier
        self.jobs = jobs
        self.pm = pm
        self.hook_timeout = hook_timeout

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
                await safe_call(self.pm, "call_offered", self.hook_timeout, agent=agent, call=call)
            case m.CallAnswered(agent=agent, call_id=call_id, answered_at=at):
                await self.notifier.to_agent(agent, "call_answered", {"call_id": call_id, "answered_at": at})
                await safe_call(self.pm, "call_answered", self.hook_timeout, agent=agent, call_id=call_id)
            case m.OfferWithdrawn(agent=agent, call_id=call_id, reason=reason):
                await self.notifier.to_agent(agent, "call_ended", {
                    "call_id": call_id, "disposition": "not answered", "reason": reason, "duration_seconds": 0})
            case m.CallEnded(summary=summary):
                await self.jobs.call_ended(summary)
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
