"""Commands from the web app and the CLI, over Redis pub/sub, checked before they reach Asterisk."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

logger = logging.getLogger(__name__)

CHANNEL = "switchboard:commands"
Handler = Callable[[dict[str, Any]], Awaitable[None]]


def encode(command: str, **args: Any) -> str:
    """A command message as JSON."""
    return json.dumps({"command": command, **args})


async def listen(redis_url: str, handlers: dict[str, Handler]) -> None:
    """Run handlers for commands published on the channel; bad messages are logged and dropped."""
    client = aioredis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    async for message in pubsub.listen():
        if message.get("type") != "message":
            continue
        try:
            data = json.loads(message["data"])
            handler = handlers[data["command"]]
        except (ValueError, KeyError, TypeError):
            logger.warning("rejected command %.200r", message.get("data"))
            continue
        try:
            await handler(data)
        except Exception:
            logger.exception("command %s failed", data.get("command"))
