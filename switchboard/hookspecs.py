"""Every hook a Switchboard plugin can implement.

Hooks take ordinary named arguments: callers pass them by name, an implementation names only those it
uses, and pluggy refuses at registration an implementation that names one the hook does not have.
Arguments are only ever added, never renamed.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "switchboard"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def route_call(call: dict[str, Any]) -> str | None:
    """Choose the queue for a new inbound call (synchronous, hard deadline); None keeps the dialplan's."""


@hookspec
def call_offered(agent: str, call: dict[str, Any]) -> None:
    """An agent's phone started ringing for a call: a queue call, a direct call or a transfer to them."""


@hookspec
def call_answered(agent: str, call_id: str) -> None:
    """An agent's call was answered: by them (a queue, direct or transferred call) or by whom they called."""


@hookspec
def call_ended(summary: dict[str, Any]) -> None:
    """A customer call ended; ``summary`` is the call activity written to Salesforce."""


@hookspec
def agent_changed(agent: str, view: dict[str, Any]) -> None:
    """An agent's presence (device state, registration, queue membership, pause) changed."""
