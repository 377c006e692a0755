"""What plugins may do to agents' presence: the hooks' ``presence`` argument (``PresenceControl``).

Plugins run in threads of their own; each request is handed to the orchestrator's event loop and done
there in the order it was made (the presence service's lock is fair), without the plugin waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any

from orchestrator.presence_service import PresenceService
from switchboard import presence as p

logger = logging.getLogger(__name__)


class PresenceControl:
    """Set and clear system statuses and start wrap-ups from any thread (see ``docs/plugins.md``)."""

    def __init__(self, service: PresenceService, loop: asyncio.AbstractEventLoop) -> None:
        self.service = service
        self.loop = loop

    def _submit(self, what: str, coroutine: Coroutine[Any, Any, None]) -> None:
        def done(future: Future[None]) -> None:
            if not future.cancelled() and future.exception() is not None:
                logger.error("presence: %s failed", what, exc_info=future.exception())

        asyncio.run_coroutine_threadsafe(coroutine, self.loop).add_done_callback(done)

    def set_system_status(self, agent: str, name: str, kind: str = p.BUSY) -> None:
        """Show ``name`` (a status of type ``kind``: available, busy, dnd, offwork) over the agent's own."""
        self._submit(f"{name} for {agent}", self.service.set_system(agent, name, kind))

    def clear_system_status(self, agent: str) -> None:
        """End the agent's system status: their own status shows (and holds) again."""
        self._submit(f"clearing the system status of {agent}", self.service.set_system(agent, None))

    def start_wrapup(self, agent: str, call_id: str, queue: str = "", seconds: int = 0) -> None:
        """Put the agent in wrap-up after ``call_id``: as ``queue`` configures it, else ``seconds`` long."""
        self._submit(f"wrap-up of {agent}", self.service.start_wrapup(agent, queue, call_id, seconds))

    def status(self, agent: str) -> dict[str, Any] | None:
        """The agent's presence as their page shows it, or None for an unknown agent."""
        state = self.service.agents.get(agent)
        return None if state is None else p.view(state, self.service.clock())
