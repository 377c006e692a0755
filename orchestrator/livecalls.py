"""Each agent's current answered call, kept in Redis so a reloaded page can restore it; and which calls
the live model holds (for the ledger reconciler, switchboard.contracts.HELD_CALLS_KEY); and every agent's
presence as shown (for ``switchboard presence``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis

from switchboard.contracts import HELD_CALLS_KEY, HELD_CALLS_TTL, LIVE_CALL_TTL, LIVE_PRESENCE_KEY, live_call_key


class LiveCalls:
    """Writes the current call of each agent (the web app reads it)."""

    def __init__(self, redis_url: str) -> None:
        self.redis = aioredis.from_url(redis_url)

    async def answered(self, agent: str, call: dict[str, Any]) -> None:
        """Remember the call an agent answered."""
        await self.redis.set(live_call_key(agent), json.dumps(call), ex=LIVE_CALL_TTL)

    async def ended(self, agent: str, call_id: str) -> None:
        """Forget it when it ends (only if it is still that call)."""
        raw = await self.redis.get(live_call_key(agent))
        if raw is not None and json.loads(raw).get("call_id") == call_id:
            await self.redis.delete(live_call_key(agent))

    async def presence(self, agent: str, view: dict[str, Any], at: float) -> None:
        """Keep the agent's presence as their page got it (for the CLI)."""
        await self.redis.hset(LIVE_PRESENCE_KEY, agent, json.dumps({**view, "at": at}))

    async def held(self, call_ids: Iterable[str]) -> None:
        """Say which calls the live model holds now (the key expires when we stop saying it)."""
        await self.redis.set(HELD_CALLS_KEY, json.dumps(sorted(call_ids)), ex=HELD_CALLS_TTL)
