"""Every hook a Switchboard plugin can implement.

Hooks take ordinary named arguments: callers pass them by name, an implementation names only those it
uses, and pluggy refuses at registration an implementation that names one the hook does not have.
Arguments are only ever added, never renamed. Every hook offers ``config``: the implementing plugin's
own section of the ``plugins`` setting (a fresh copy, without ``enabled``; ``{}`` when it has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pluggy

PROJECT = "switchboard"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True)
class Veto:
    """``status_change_requested``'s answer refusing the status; the agent sees ``reason``."""

    reason: str


@dataclass(frozen=True)
class Rewrite:
    """``status_change_requested``'s answer giving the agent ``status`` (a status name) instead."""

    status: str
    reason: str = ""


class Presence(Protocol):
    """The ``presence`` argument of the orchestrator's hooks: what a plugin may do to agents' presence.
    Each call returns at once; the orchestrator does them in the order they were made."""

    def set_system_status(self, agent: str, name: str, kind: str = "busy") -> None:
        """Show ``name`` (a status of type ``kind``: available, busy, dnd, offwork) over the agent's own."""

    def clear_system_status(self, agent: str) -> None:
        """End the agent's system status: their own status shows (and holds) again."""

    def start_wrapup(self, agent: str, call_id: str, queue: str = "", seconds: int = 0) -> None:
        """Put the agent in wrap-up after ``call_id``: as ``queue`` configures it, else ``seconds`` long."""

    def status(self, agent: str) -> dict[str, Any] | None:
        """The agent's presence as their page shows it, or None for an unknown agent."""


class SalesforceData(Protocol):
    """The ``salesforce`` argument of ``route_call``: the caller's Salesforce data, read within the routing
    deadline (cached; a call that cannot be answered in time raises, and the call takes the default path)."""

    def caller(self, number: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
        """The records a phone number identifies: ``{"kind": "none"|"single"|"multiple", "contact",
        "account", "lead", "case"}`` (each a record dict or None; ``case`` is the contact's or account's
        most recent open Case), with the extra ``fields`` asked for per object (``{"Contact": [...],
        "Account": [...], "Case": [...]}``)."""

    def invoke_flow(self, api_name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run the autolaunched Flow ``api_name`` (REST invocable action) with ``inputs``; its outputs."""

    def agent_for_user(self, user_id: str) -> str | None:
        """The agent (SIP user name) linked to a Salesforce user id (005…), or None."""


@hookspec
def startup(process: str, config: dict[str, Any]) -> None:
    """A process that runs plugins started (``orchestrator`` or ``worker``), before its first event."""


@hookspec
def shutdown(process: str, config: dict[str, Any]) -> None:
    """A process that runs plugins is stopping."""


@hookspec(firstresult=True)
def route_call(call: dict[str, Any], salesforce: SalesforceData, presence: Presence,
               config: dict[str, Any]) -> Any:
    """Decide where a new inbound call goes (a ``switchboard.routing.Decision``); None lets the next plugin decide."""


@hookspec
def caller_identified(call_id: str, caller_number: str, match: dict[str, Any], config: dict[str, Any]) -> None:
    """The caller of a queue call was looked up in Salesforce as the call entered the queue (a worker)."""


@hookspec
def call_offered(agent: str, call: dict[str, Any], presence: Presence, config: dict[str, Any]) -> None:
    """An agent's phone started ringing for a call: a queue call, a direct call or a transfer to them."""


@hookspec
def call_placed(agent: str, call: dict[str, Any], presence: Presence, config: dict[str, Any]) -> None:
    """An agent called out (a customer or a colleague) from their web phone or SIP phone."""


@hookspec
def call_withdrawn(agent: str, call_id: str, reason: str, presence: Presence, config: dict[str, Any]) -> None:
    """An agent's phone stopped ringing for a call they did not answer (another answered, the caller left)."""


@hookspec
def call_left(agent: str, call_id: str, presence: Presence, config: dict[str, Any]) -> None:
    """An agent left a call that goes on without them (they transferred it)."""


@hookspec
def call_answered(agent: str, call_id: str, presence: Presence, config: dict[str, Any]) -> None:
    """An agent's call was answered: by them (a queue, direct or transferred call) or by whom they called."""


@hookspec
def call_ended(summary: dict[str, Any], presence: Presence, config: dict[str, Any]) -> None:
    """A customer call ended; ``summary`` is the call activity written to Salesforce."""


@hookspec
def call_activity(summary: dict[str, Any], sobject: str, fields: dict[str, Any],
                  config: dict[str, Any]) -> dict[str, Any] | None:
    """A call's activity is about to be written to Salesforce: return the fields to add or change."""


@hookspec
def agent_changed(agent: str, view: dict[str, Any], presence: Presence, config: dict[str, Any]) -> None:
    """An agent's presence (device state, registration, queue membership, pause) changed."""


@hookspec
def omni_changed(agent: str, status: str | None, workload: float, workload_limit: int, presence: Presence,
                 config: dict[str, Any]) -> None:
    """The Omni-Channel poller read an agent's Omni status (None: Offline) and workload (each report)."""


@hookspec(firstresult=True)
def status_change_requested(agent: str, status: dict[str, Any], current: dict[str, Any],
                            config: dict[str, Any]) -> Veto | Rewrite | None:
    """An agent chose a status: return Veto(reason) to refuse it, Rewrite(status, reason) to replace it."""


@hookspec
def status_changed(agent: str, status: dict[str, Any], previous: dict[str, Any], presence: Presence,
                   config: dict[str, Any]) -> None:
    """An agent's status changed (their choice, a schedule, a timed status running out)."""


@hookspec
def wrapup_started(agent: str, call_id: str, queue: str, until: float | None, presence: Presence,
                   config: dict[str, Any]) -> None:
    """An agent went into wrap-up after an answered call; ``until`` is None while a code is required."""


@hookspec
def wrapup_finished(agent: str, call_id: str, code: str, reason: str, presence: Presence,
                    config: dict[str, Any]) -> None:
    """An agent's wrap-up ended: ``reason`` is ``code`` (with ``code``), ``time`` or ``status``."""
