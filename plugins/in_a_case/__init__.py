""""In a Case" (seed 1.3.2): an agent whose Omni-Channel workload is at or above the admin's limit
(``omni_workload_limit``) shows "In a Case", an OffWork system status (no queue calls; direct calls still
ring), until the workload drops. A call's own system status ("In a Call") goes first; the rule is a level,
checked at each of the poller's reports, so it catches up after the call."""

from __future__ import annotations

from switchboard.hookspecs import Presence, hookimpl

IN_A_CASE = "In a Case"


@hookimpl
def omni_changed(agent: str, workload: float, workload_limit: int, presence: Presence) -> None:
    """Show or end In a Case as the workload says."""
    if workload_limit <= 0:
        return
    now = presence.status(agent)
    if now is None:
        return
    system = now.get("system")
    if workload >= workload_limit and system is None:
        presence.set_system_status(agent, IN_A_CASE, "offwork")
    elif workload < workload_limit and system is not None and system.get("name") == IN_A_CASE:
        presence.clear_system_status(agent)
