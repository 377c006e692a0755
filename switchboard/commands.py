"""Commands from the web app and the CLI, over Redis pub/sub, checked before they reach Asterisk.

Most commands are fire-and-forget. A command that carries ``reply_to`` (a key under ``REPLY_PREFIX``,
made by ``request``) gets its handler's result back as one JSON object pushed on that list: call control
from the page answers this way, so the agent sees a clear error (``{"error": code, "message": ...}``).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio as aioredis

from switchboard.contracts import COMMAND_CHANNEL, REPLY_PREFIX, REPLY_TTL

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


def encode(command: str, **args: Any) -> str:
    """A command message as JSON."""
    return json.dumps({"command": command, **args})


class NoOrchestrator(RuntimeError):
    """No orchestrator listens on the command channel, or it did not answer in time."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


def request(client: redis.Redis, command: str, timeout: float = 5.0, **args: Any) -> dict[str, Any]:
    """Send a command and wait for the orchestrator's answer; raises NoOrchestrator."""
    key = REPLY_PREFIX + secrets.token_hex(16)
    if not client.publish(COMMAND_CHANNEL, encode(command, reply_to=key, **args)):
        raise NoOrchestrator("orchestrator_unavailable", "The call server is not running.")
    answer = client.blpop([key], timeout=timeout)
    if answer is None:
        raise NoOrchestrator("orchestrator_timeout", f"The call server did not answer in {timeout:g} s.")
    result = json.loads(answer[1])
    return result if isinstance(result, dict) else {"ok": True}


async def listen(redis_url: str, handlers: dict[str, Handler]) -> None:
    """Run handlers for commands published on the channel; bad messages are logged and dropped."""
    client = aioredis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(COMMAND_CHANNEL)
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
            result = await handler(data)
        except Exception:
            logger.exception("command %s failed", data.get("command"))
            result = {"error": "internal_error", "message": "The call server failed to carry out the command."}
        reply_to = data.get("reply_to")
        if isinstance(reply_to, str) and reply_to.startswith(REPLY_PREFIX):
            try:
                await client.rpush(reply_to, json.dumps(result if isinstance(result, dict) else {"ok": True}))
                await client.expire(reply_to, REPLY_TTL)
            except Exception:
                logger.exception("could not answer command %s", data.get("command"))
