"""Each agent's current answered call, kept in Redis so a reloaded page can restore it; and which calls
the live model holds (for the ledger reconciler, switchboard.calls.HELD_CALLS_KEY)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis

from switchboard.calls import HELD_CALLS_KEY, HELD_CALLS_TTL

PREFIX = "switchboard:agent-call:"
TTL = 4 * 3600


def key(agent: str) -> str:
    """The Redis key of an agent's current call."""
    return PREFIX + agent


class LiveCalls:
    """Writes the current call of each agent (the web app reads it)."""

    def __init__(self, redis_url: str) -> None:
        self.redis = aioredis.from_url(redis_url)

    async def answered(self, agent: str, call: dict[str, Any]) -> None:
        """Remember the call an agent answered."""
        await self.redis.set(key(agent), json.dumps(call), ex=TTL)

    async def ended(self, agent: str, call_id: str) -> None:
        """Forget it when it ends (only if it is still that call)."""
        raw = await self.redis.get(key(agent))
        if raw is not None and json.loads(raw).get("call_id") == call_id:
            await self.redis.delete(key(agent))

    async def held(self, call_ids: Iterable[str]) -> None:
        """Say which calls the live model holds now (the key expires when we stop saying it)."""
        await self.redis.set(HELD_CALLS_KEY, json.dumps(sorted(call_ids)), ex=HELD_CALLS_TTL)
