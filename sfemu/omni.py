"""Omni-Channel as the emulator plays it: users' presence periods (UserServicePresence) and routed work
(AgentWork), changed through the ``/__emulator/omni`` control endpoints as Omni-Channel itself would."""

from __future__ import annotations

import logging
from typing import Any

from sfemu.errors import ApiError
from sfemu.ids import key_prefix, normalize_id
from sfemu.schema import AGENT_WORK_STATUSES, Record
from sfemu.seed import OMNI_PRESENCE_STATUSES
from sfemu.store import Store
from sfemu.values import format_datetime

logger = logging.getLogger(__name__)

OPEN_WORK_STATUSES = ("Assigned", "Opened")  # the work that counts against a user's capacity
ACCEPTED_WORK_STATUSES = ("Opened", "Closed", "Transferred")  # an agent accepted it: AcceptDateTime is set
DEFAULT_CONFIGURED_CAPACITY = 10
AWAY_STATUSES = frozenset(name.lower() for name, _label, away in OMNI_PRESENCE_STATUSES if away)


class OmniError(ValueError):
    """A control request Omni-Channel cannot act on (unknown user, status or work); the message says why."""


def find_user(store: Store, ref: Any) -> Record:
    """The live User whose Id (15 or 18 characters) or Username is ``ref``; OmniError otherwise."""
    if not isinstance(ref, str) or not ref.strip():
        raise OmniError("'user' must be a User Id or Username")
    rid = normalize_id(ref.strip())
    if rid is not None and key_prefix(rid) == store.objects["User"].key_prefix:
        hit = store.lookup(rid)
        if hit is not None:
            return hit[1]
    matches = store.match_field("User", "Username", ref.strip())
    if not matches:
        raise OmniError(f"unknown user {ref!r}: give a User Id (005...) or Username")
    return matches[0]


def find_status(store: Store, ref: Any) -> Record:
    """The ServicePresenceStatus whose DeveloperName (or Id) is ``ref``; OmniError otherwise."""
    if not isinstance(ref, str) or not ref.strip():
        raise OmniError("'status' must be a presence status DeveloperName or null")
    rid = normalize_id(ref.strip())
    hit = store.lookup(rid) if rid is not None else None
    if hit is not None and hit[0].name == "ServicePresenceStatus":
        return hit[1]
    matches = store.match_field("ServicePresenceStatus", "DeveloperName", ref.strip())
    if not matches:
        known = ", ".join(str(r["DeveloperName"]) for r in store.records("ServicePresenceStatus"))
        raise OmniError(f"unknown presence status {ref!r}; known: {known}")
    return matches[0]


def current_presence(store: Store, user_id: str) -> list[Record]:
    """The user's live UserServicePresence rows with IsCurrentState true (at most one unless tampered with)."""
    return [r for r in store.records("UserServicePresence") if r["UserId"] == user_id and r["IsCurrentState"]]


def set_presence(store: Store, user_ref: Any, status_ref: Any, *,
                 configured_capacity: Any = DEFAULT_CONFIGURED_CAPACITY) -> Record | None:
    """Change a user's Omni-Channel status: the current row ends (IsCurrentState false, StatusEndDate now); with a
    status, a new current row starts now. ``status_ref`` None means Offline. Returns the new row, else None."""
    if configured_capacity is None or isinstance(configured_capacity, bool) \
            or not isinstance(configured_capacity, int | float):
        raise OmniError("'configured_capacity' must be a number")
    with store.lock:
        user = find_user(store, user_ref)
        status = find_status(store, status_ref) if status_ref is not None else None
        now = format_datetime(store.clock())
        for row in current_presence(store, user["Id"]):
            store.update("UserServicePresence", row["Id"], {"IsCurrentState": False, "StatusEndDate": now},
                         system=True)
        if status is None:
            logger.info("omni: %s went Offline", user["Username"])
            return None
        row = store.create("UserServicePresence", {
            "UserId": user["Id"], "ServicePresenceStatusId": status["Id"], "IsCurrentState": True,
            "IsAway": str(status["DeveloperName"]).lower() in AWAY_STATUSES, "StatusStartDate": now,
            "ConfiguredCapacity": int(configured_capacity), "OwnerId": user["Id"],
        }, system=True)
    logger.info("omni: %s is now %s", user["Username"], status["DeveloperName"])
    return row


def _work_status(value: Any) -> str:
    wanted = value.lower() if isinstance(value, str) else None
    match = next((s for s in AGENT_WORK_STATUSES if s.lower() == wanted), None)
    if match is None:
        raise OmniError(f"'status' must be one of {', '.join(AGENT_WORK_STATUSES)}")
    return match


def _status_times(record: Record | None, status: str, now: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if status in ACCEPTED_WORK_STATUSES and (record is None or record.get("AcceptDateTime") is None):
        changes["AcceptDateTime"] = now
    if status == "Closed":
        changes["CloseDateTime"] = now
    return changes


def add_work(store: Store, user_ref: Any, capacity_weight: Any, status: Any = "Opened",
             work_item_id: Any = None) -> Record:
    """Route work to a user: a new AgentWork row (AcceptDateTime set once accepted, CloseDateTime when Closed)."""
    if capacity_weight is None or isinstance(capacity_weight, bool) or not isinstance(capacity_weight, int | float):
        raise OmniError("'capacity_weight' must be a number")
    name = _work_status(status)
    if work_item_id is not None and (not isinstance(work_item_id, str) or store.lookup(work_item_id) is None):
        raise OmniError(f"unknown work item {work_item_id!r}: give the Id of a live record")
    with store.lock:
        user = find_user(store, user_ref)
        now = format_datetime(store.clock())
        values: dict[str, Any] = {"UserId": user["Id"], "CapacityWeight": capacity_weight, "Status": name,
                                  "WorkItemId": work_item_id, "OwnerId": user["Id"], **_status_times(None, name, now)}
        try:
            row = store.create("AgentWork", values, system=True)
        except ApiError as exc:  # e.g. a work item of a type AgentWork cannot reference
            raise OmniError(str(exc)) from exc
    logger.info("omni: work %s (%s, weight %s) for %s", row["Id"], name, capacity_weight, user["Username"])
    return row


def set_work_status(store: Store, work_id: str, status: Any) -> Record:
    """Change an AgentWork row's Status (CloseDateTime set for Closed); LookupError for an unknown id."""
    name = _work_status(status)
    with store.lock:
        rid = normalize_id(work_id)
        hit = store.lookup(rid) if rid is not None else None
        if hit is None or hit[0].name != "AgentWork":
            raise LookupError(f"no AgentWork {work_id!r}")
        now = format_datetime(store.clock())
        row = store.update("AgentWork", hit[1]["Id"], {"Status": name, **_status_times(hit[1], name, now)},
                           system=True)
    logger.info("omni: work %s now %s", row["Id"], name)
    return row


def workload(store: Store, user_id: str) -> float:
    """The sum of CapacityWeight over the user's open (Assigned, Opened) AgentWork."""
    return sum(r["CapacityWeight"] or 0 for r in store.records("AgentWork")
               if r["UserId"] == user_id and r["Status"] in OPEN_WORK_STATUSES)


def summary(store: Store) -> list[dict[str, Any]]:
    """Every user's current status (DeveloperName or None for Offline), since when, and open workload."""
    out = []
    with store.lock:
        for user in store.records("User"):
            rows = current_presence(store, user["Id"])
            hit = store.lookup(rows[-1]["ServicePresenceStatusId"]) if rows else None
            out.append({"id": user["Id"], "username": user["Username"],
                        "status": hit[1]["DeveloperName"] if hit else None,
                        "since": rows[-1]["StatusStartDate"] if rows else None,
                        "workload": workload(store, user["Id"])})
    return out
