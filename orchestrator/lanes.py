"""Lanes: side effects of one kind run in order by a task of their own, so the model's loop never waits.

The model applies Asterisk's events one at a time; what a change sets off (a Socket.IO emit, an RQ enqueue,
a plugin hook, a database write for wrap-up) takes Redis round trips and thread hops that, at 20 calls a
second on two busy cores, added up to more than the events' own rate: events queued up and phones rang
seconds before the page heard of it. Each lane keeps its own order (an agent's ``call_offered`` is emitted
before their ``call_ended``); lanes do not wait for one another.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

Effect = Callable[..., Awaitable[Any]]


class Lane:
    """One ordered queue of side effects and the task that runs them; a failing one is logged and skipped."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: asyncio.Queue[tuple[Effect, tuple[Any, ...]]] | None = None
        self._task: asyncio.Task[None] | None = None

    def put(self, effect: Effect, *args: Any) -> None:
        """Run ``effect(*args)`` after what was put before it (starts the lane's task on first use)."""
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"lane-{self.name}")
        self._queue.put_nowait((effect, args))

    @property
    def backlog(self) -> int:
        """How many effects wait."""
        return self._queue.qsize() if self._queue is not None else 0

    async def drain(self) -> None:
        """Wait until every effect put so far has run."""
        if self._queue is not None:
            await self._queue.join()

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            effect, args = await self._queue.get()
            try:
                await effect(*args)
            except Exception:
                logger.exception("lane %s: %s failed", self.name, getattr(effect, "__qualname__", effect))
            finally:
                self._queue.task_done()

    async def close(self) -> None:
        """Stop the lane's task (what still waits is dropped)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass


class Lanes:
    """``width`` lanes side by side: effects with the same key keep their order (one agent's events), others
    run in parallel, so one Redis round trip after another no longer sets the pace for everyone."""

    def __init__(self, name: str, width: int) -> None:
        self.lanes = [Lane(f"{name}-{i}") for i in range(max(1, width))]

    def put(self, key: str, effect: Effect, *args: Any) -> None:
        """Run ``effect(*args)`` after what was put before it under the same ``key``."""
        self.lanes[zlib.crc32(key.encode()) % len(self.lanes)].put(effect, *args)

    @property
    def backlog(self) -> int:
        """How many effects wait in all the lanes."""
        return sum(lane.backlog for lane in self.lanes)

    async def drain(self) -> None:
        """Wait until every effect put so far has run."""
        for lane in self.lanes:
            await lane.drain()
