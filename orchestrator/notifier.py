"""Socket.IO emits from the orchestrator, through the Redis message queue (write-only manager)."""

from __future__ import annotations

import logging
from typing import Any

import socketio

from switchboard.contracts import BOARD_NAMESPACE, BOARD_ROOM, PHONE_NAMESPACE, agent_room

logger = logging.getLogger(__name__)


class Notifier:
    """Emits events to web clients connected to any web process."""

    def __init__(self, redis_url: str, channel: str) -> None:
        self.manager = socketio.AsyncRedisManager(redis_url, channel=channel, write_only=True)

    async def to_agent(self, agent: str, event: str, data: dict[str, Any]) -> None:
        """Emit to one agent's phone only."""
        await self.manager.emit(event, data, room=agent_room(agent), namespace=PHONE_NAMESPACE)

    async def to_board(self, event: str, data: dict[str, Any]) -> None:
        """Emit to every supervisor board."""
        await self.manager.emit(event, data, room=BOARD_ROOM, namespace=BOARD_NAMESPACE)
