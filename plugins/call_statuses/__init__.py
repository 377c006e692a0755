"""Automatic statuses around calls (seed 1.3.2), on the public hooks: "In a Call" while the agent's phone
rings or they call out; after an answered call, wrap-up for the queue's configured time (after an
outbound or a direct call only as configured); then the status the agent had before the call, which a
system status never replaced. An unanswered call leaves no wrap-up.

Configuration (the ``plugins`` setting)::

    call_statuses:
      in_a_call: "In a Call"           # the name agents and supervisors see
      outbound_wrapup_seconds: 0       # wrap-up after an answered outbound call (0: none)
      direct_wrapup_seconds: 0         # ... after an answered direct call (a customer who called the agent)
"""

from __future__ import annotations

from typing import Any

from switchboard.hookspecs import Presence, hookimpl

IN_A_CALL = "In a Call"


def _seconds(config: dict[str, Any], name: str) -> int:
    try:
        return max(0, int(config.get(name) or 0))
    except (TypeError, ValueError):
        return 0


@hookimpl
def call_offered(agent: str, presence: Presence, config: dict[str, Any]) -> None:
    """The agent's phone rings: In a Call."""
    presence.set_system_status(agent, str(config.get("in_a_call") or IN_A_CALL), "busy")


@hookimpl
def call_placed(agent: str, presence: Presence, config: dict[str, Any]) -> None:
    """The agent calls out: In a Call."""
    presence.set_system_status(agent, str(config.get("in_a_call") or IN_A_CALL), "busy")


@hookimpl
def call_withdrawn(agent: str, presence: Presence) -> None:
    """The phone stopped ringing unanswered: the agent's own status again."""
    presence.clear_system_status(agent)


@hookimpl
def call_left(agent: str, presence: Presence) -> None:
    """The agent transferred the call away: the agent's own status again."""
    presence.clear_system_status(agent)


@hookimpl
def call_ended(summary: dict[str, Any], presence: Presence, config: dict[str, Any]) -> None:
    """Wrap-up after an answered call (as its queue says, or as configured without one), else the
    agent's own status again."""
    agent = summary.get("agent")
    if not agent:
        return
    queue = summary.get("queue") or ""
    if summary.get("disposition") == "answered":
        outbound = summary.get("direction") == "outbound"
        seconds = _seconds(config, "outbound_wrapup_seconds" if outbound else "direct_wrapup_seconds")
        if queue or seconds:
            presence.start_wrapup(agent, summary["call_id"], queue=queue, seconds=seconds)
            return
    presence.clear_system_status(agent)
