"""Socket.IO namespace ``/phone``: each agent's page joins only its own room ``agent:<sip_username>``.

The orchestrator emits into these rooms from its own process (``AsyncRedisManager`` with
``write_only=True`` on the same channel). Events (``switchboard.contracts.PHONE_EVENTS``), all on
namespace ``/phone``:

- ``call_offered`` {call_id, caller_number, caller_name, queue, queue_label, direction, offered_at}
- ``call_answered`` {call_id, answered_at}
- ``call_ended`` {call_id, disposition, duration_seconds}
- ``call_left`` {call_id}: the call went on without this agent (transferred away)
- ``agent_state`` {agent, device_state, paused, queues}

Clients send nothing that names a room: the room comes from the login session alone.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, Namespace, SocketIO, join_room

from switchboard.contracts import PHONE_NAMESPACE, agent_room
from web.auth import current_user

logger = logging.getLogger(__name__)

def _refusal(error: str, message: str) -> ConnectionRefusedError:
    """A connection refusal the client sees as ``connect_error`` with message ``error`` and data."""
    return ConnectionRefusedError(error, {"error": error, "message": message})


class PhoneNamespace(Namespace):
    """The web phone's event channel; read-only for the browser."""

    def on_connect(self, auth: Any = None) -> None:
        """Accept a logged-in agent and put the connection in that agent's room."""
        user = current_user()
        if user is None:
            logger.info("refused /phone socket without login from %s", request.remote_addr)
            raise _refusal("not_logged_in", "Log in first.")
        if user.agent is None:
            logger.info("refused /phone socket for %s: not an agent", user.username)
            raise _refusal("not_an_agent", f"User {user.username!r} is not an agent.")
        room = agent_room(user.agent.sip_username)
        join_room(room)
        logger.info("phone socket %s of %s joined %s", request.sid, user.username, room)  # type: ignore[attr-defined]

    def on_disconnect(self, reason: Any = None) -> None:
        """Log the end of a phone connection."""
        logger.info("phone socket %s closed (%s)", request.sid, reason)  # type: ignore[attr-defined]


def register_namespaces(socketio: SocketIO) -> None:
    """Add the web phone namespace to ``socketio``."""
    socketio.on_namespace(PhoneNamespace(PHONE_NAMESPACE))
