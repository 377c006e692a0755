"""Omni-Channel presence sync (seed 1.3) as pure rules: what an agent's Omni status and workload mean for
their Switchboard presence, and which Omni status their Switchboard presence asks for.

Salesforce lets no server write Omni presence (UserServicePresence is read-only over the API): the
Lightning component in ``salesforce/`` writes it in the agent's browser, with ``target_omni``'s rule
(its JavaScript twin). The server reads it: a worker polls (``worker/omnisync.py``) and the orchestrator
applies ``decide``'s answer. A status the component just wrote comes back in the next poll: it is
recognised as our own (``target_omni``) and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OMNI_KINDS = ("online", "busy", "offline")
DEVELOPER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
DIRECTIONS = ("both", "to_omni", "from_omni")
IN_A_CALL, WRAP_UP, IN_A_CASE = "In a Call", "Wrap Up", "In a Case"
SYSTEM_STATUSES = (IN_A_CALL, WRAP_UP, IN_A_CASE)
EXPLICIT_LOGOUT_SECONDS = 120.0  # an Offline seen this long after the agent chose Offline is their choice


@dataclass(frozen=True)
class OmniMapping:
    """One row of the admin's table: an Omni status (DeveloperName, Id, label, type) beside a Switchboard
    status name (or a system status) and which way it is used."""

    omni: str
    status: str
    omni_kind: str = "online"
    omni_id: str = ""
    label: str = ""
    direction: str = "both"

    def reads(self) -> bool:
        """Whether an Omni status change is read through this row."""
        return self.direction in ("both", "from_omni")

    def writes(self) -> bool:
        """Whether the component writes this Omni status for this Switchboard status."""
        return self.direction in ("both", "to_omni")


@dataclass(frozen=True)
class OmniState:
    """An agent's Omni-Channel state: the current status's DeveloperName (None: Offline) and workload."""

    status: str | None
    workload: float = 0.0


@dataclass(frozen=True)
class Decision:
    """What the orchestrator does: choose ``status`` (a Switchboard status name), switch the voice queues
    on (True) or off (False), set OffWork (``offwork``); ``why`` for the log. (The workload rule, "In a
    Case", is the built-in plugin ``in_a_case`` on the ``omni_changed`` hook.)"""

    status: str | None = None
    queues: bool | None = None
    offwork: bool = False
    why: str = ""


def check_mapping(row: OmniMapping, statuses: Iterable[str]) -> list[str]:
    """What is wrong with a mapping row, given the Switchboard status names (empty when it is fine)."""
    problems = []
    if not DEVELOPER_NAME.match(row.omni):
        problems.append(f"{row.omni[:80]!r} is not an Omni status's API name (DeveloperName)")
    if row.omni_kind not in OMNI_KINDS:
        problems.append(f"the Omni status type must be one of {', '.join(OMNI_KINDS)}")
    if row.direction not in DIRECTIONS:
        problems.append(f"the direction must be one of {', '.join(DIRECTIONS)}")
    if row.status not in set(statuses) | set(SYSTEM_STATUSES):
        problems.append(f"{row.status!r} is not a Switchboard status (nor {', '.join(SYSTEM_STATUSES)})")
    if row.status in SYSTEM_STATUSES and row.direction != "to_omni":
        problems.append(f"{row.status!r} is set by Switchboard itself: its direction must be to_omni")
    return problems


def shown_status(view: Mapping[str, Any]) -> str:
    """The status an agent's page shows: a system status, else "Wrap Up" during wrap-up, else their own."""
    system = view.get("system")
    if system:
        return str(system.get("name", ""))
    if view.get("wrapup"):
        return WRAP_UP
    return str(view.get("status", ""))


def target_omni(view: Mapping[str, Any], mappings: Iterable[OmniMapping]) -> OmniMapping | None:
    """The Omni status the agent's Switchboard presence asks for (the component writes it), or None."""
    shown = shown_status(view)
    return next((m for m in mappings if m.writes() and m.status == shown), None)


def decide(before: OmniState | None, after: OmniState, view: Mapping[str, Any],
           mappings: Iterable[OmniMapping], *, explicit_logout: bool = False) -> Decision:
    """What an agent's Omni state going from ``before`` (None: not known yet) to ``after`` means."""
    mappings = list(mappings)
    if before is not None and before.status == after.status:
        return Decision()
    if after.status is None:
        if before is None:
            return Decision(why="offline in Omni at start: left as it is")
        if not explicit_logout:
            return Decision(why="went Offline in Omni without choosing it: queues kept")
        return Decision(queues=False, offwork=True, why="chose Offline in Omni")
    queues = True if before is not None and before.status is None else None
    row = next((m for m in mappings if m.reads() and m.omni == after.status), None)
    if row is None:
        return Decision(queues=queues, why=f"Omni status {after.status} is not mapped")
    target = target_omni(view, mappings)
    if target is not None and target.omni == after.status:
        return Decision(queues=queues, why="Omni shows what Switchboard asked for")
    if row.status in SYSTEM_STATUSES or row.status == view.get("status"):
        return Decision(queues=queues, why=f"already {row.status}")
    return Decision(status=row.status, queues=queues, why=f"Omni status {after.status}")
