"""Agent availability (presence) and wrap-up as pure logic: what Asterisk should hold, no I/O.

Seed 1.2.2: four status types decide which calls reach an agent.

============  ==========  ===========  ========
type          pool calls  direct calls outbound
============  ==========  ===========  ========
Available     yes         yes          yes
Busy          yes         yes          yes
DND           no          no           yes
OffWork       no          yes          yes
============  ==========  ===========  ========

Admins name statuses of these types, optionally with a duration after which the agent is Available
again; agents may schedule upcoming availabilities, switch pool calls off, and switch single queues
off. After an answered queue call the agent is in wrap-up (paused everywhere) for the queue's
wrap-up time, or until they pick a wrap-up code when the queue requires one.

Times are epoch seconds (floats) throughout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from switchboard.sla import REASON_SLA

AVAILABLE, BUSY, DND, OFFWORK = "available", "busy", "dnd", "offwork"
KINDS = (AVAILABLE, BUSY, DND, OFFWORK)
KIND_LABELS = {AVAILABLE: "Available", BUSY: "Busy", DND: "DND", OFFWORK: "OffWork"}
QUEUE, DIRECT, OUTBOUND = "queue", "direct", "outbound"
# Seed 1.2.2, one row per type: (pool calls, direct calls, outbound calls).
RULES: dict[str, tuple[bool, bool, bool]] = {
    AVAILABLE: (True, True, True),
    BUSY: (True, True, True),
    DND: (False, False, True),
    OFFWORK: (False, True, True),
}
REASON_QUEUE_OFF = "queue off"
REASON_WRAPUP = "wrap-up"
REASON_POOL_OFF = "pool calls off"
REASON_PICK_MODE = "Pick mode"  # the agent's profile is in pick mode: they pick calls, none is offered
# The AstDB family the orchestrator writes and [sb-agent-direct] reads.
DB_FAMILY = "switchboard/presence"


def allows(kind: str, call: str) -> bool:
    """Whether an agent of status type ``kind`` takes a ``queue``, ``direct`` or ``outbound`` call."""
    pool, direct, outbound = RULES.get(kind, RULES[AVAILABLE])
    return {QUEUE: pool, DIRECT: direct, OUTBOUND: outbound}[call]


@dataclass(frozen=True)
class StatusDef:
    """An admin-defined named status of one type, with an optional duration."""

    id: int | None
    name: str
    kind: str
    duration_minutes: int | None = None


DEFAULT_STATUS = StatusDef(None, "Available", AVAILABLE)


@dataclass(frozen=True)
class StatusRef:
    """A status by id (None: the built-in Available), name and type."""

    id: int | None
    name: str
    kind: str


@dataclass(frozen=True)
class Chosen:
    """The status an agent chose (or a schedule set), until when it holds, and what comes back then."""

    status_id: int | None = None
    status: str = "Available"
    kind: str = AVAILABLE
    since: float = 0.0
    until: float | None = None
    receive_pool_calls: bool = True
    previous: StatusRef | None = None  # the untimed status before this timed one

    def ref(self) -> StatusRef:
        """This status as a StatusRef."""
        return StatusRef(self.status_id, self.status, self.kind)


@dataclass(frozen=True)
class Scheduled:
    """An upcoming availability: this status from ``starts_at`` to ``ends_at`` (open-ended if None)."""

    id: int
    status_id: int
    starts_at: float
    ends_at: float | None = None


@dataclass(frozen=True)
class Wrapup:
    """Wrap-up after an answered queue call; ``required`` means it lasts until a code is picked."""

    call_id: str
    queue: str
    until: float | None
    codes: tuple[str, ...] = ()
    required: bool = False

    def over(self, now: float) -> bool:
        """True when the wrap-up time has passed and no code is awaited."""
        return not self.required and self.until is not None and now >= self.until


@dataclass(frozen=True)
class QueueSwitch:
    """One queue the agent is a member of, with the agent's own on/off switch."""

    name: str
    label: str = ""
    active: bool = True


@dataclass(frozen=True)
class SystemStatus:
    """A status the system sets over the agent's own while something lasts ("In a Call" while a call rings
    or goes on): the agent's own status is kept, and is theirs again when it ends. Not stored."""

    name: str
    kind: str
    since: float


@dataclass(frozen=True)
class AgentPresence:
    """Everything that decides one agent's availability."""

    agent: str
    chosen: Chosen = field(default_factory=Chosen)
    queues: tuple[QueueSwitch, ...] = ()
    schedules: tuple[Scheduled, ...] = ()
    wrapup: Wrapup | None = None
    system: SystemStatus | None = None
    pick_mode: bool = False  # under a pick-mode profile (switchboard/pick_db.py): paused in every queue
    # queues the SLA arbiter holds the agent back in: another of their queues has the caller with the
    # highest SLA score (switchboard/sla.py); kept in memory only, recomputed every second
    held: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Wanted:
    """The Asterisk state an agent's presence asks for."""

    paused: Mapping[str, str]  # every member queue -> pause reason, '' when it should ring
    direct: str  # the AstDB value [sb-agent-direct] reads: the status type


def choose(status: StatusDef, now: float, *, receive_pool_calls: bool = True, until: float | None = None,
           before: Chosen | None = None) -> Chosen:
    """The agent picks ``status`` at ``now``; a timed status ends after its duration unless ``until``, and
    then gives back the untimed status held ``before`` it."""
    if until is None and status.duration_minutes:
        until = now + status.duration_minutes * 60
    previous = None
    if until is not None and before is not None:
        previous = before.previous if before.until is not None else before.ref()
    return Chosen(status.id, status.name, status.kind, now, until, receive_pool_calls, previous)


def start_wrapup(call_id: str, queue: str, seconds: int, codes: Iterable[str], required: bool,
                 now: float) -> Wrapup | None:
    """Wrap-up after an answered call in ``queue``, or None when the queue has none."""
    codes = tuple(codes)
    needs_code = bool(required and codes)
    if seconds <= 0 and not needs_code:
        return None
    return Wrapup(call_id, queue, now + seconds if seconds > 0 else None, codes, needs_code)


def pause_reason(state: AgentPresence, queue: QueueSwitch, now: float) -> str:
    """Why ``queue`` must not ring the agent now, or '' when it may."""
    if not queue.active:
        return REASON_QUEUE_OFF
    if state.wrapup is not None and not state.wrapup.over(now):
        return REASON_WRAPUP
    if state.system is not None and not allows(state.system.kind, QUEUE):
        return state.system.name
    if not allows(state.chosen.kind, QUEUE):
        return KIND_LABELS.get(state.chosen.kind, state.chosen.kind)
    if not state.chosen.receive_pool_calls:
        return REASON_POOL_OFF
    if state.pick_mode:  # any other reason says more, and also stops the agent's picks (docs/routing.md)
        return REASON_PICK_MODE
    if queue.name in state.held:  # last: the agent is free for queue calls, only not for this queue now
        return REASON_SLA
    return ""


def wanted(state: AgentPresence, now: float) -> Wanted:
    """What Asterisk should hold for this agent: pause reason per queue and the direct-call value."""
    # a system status changes the direct-call value only where it refuses more (DND): "In a Call" (busy)
    # costs Asterisk no action
    kind = state.system.kind if state.system is not None and state.system.kind == DND else state.chosen.kind
    return Wanted({q.name: pause_reason(state, q, now) for q in state.queues}, kind)


def due_schedule(schedules: Sequence[Scheduled], now: float) -> tuple[Scheduled | None, list[int]]:
    """The schedule to activate now (the latest started) and the ids of every schedule now used up."""
    started = [s for s in schedules if s.starts_at <= now]
    current = [s for s in started if s.ends_at is None or now < s.ends_at]
    pick = max(current, key=lambda s: (s.starts_at, s.id)) if current else None
    return pick, [s.id for s in started]


def tick(state: AgentPresence, statuses: Mapping[int, StatusDef], now: float) -> AgentPresence:
    """The presence after time passed: schedules start, timed statuses revert, wrap-up ends."""
    chosen, schedules, wrapup = state.chosen, state.schedules, state.wrapup
    pick, used = due_schedule(schedules, now)
    if used:
        schedules = tuple(s for s in schedules if s.id not in used)
    if pick is not None and pick.status_id in statuses:
        status = statuses[pick.status_id]
        chosen = choose(status, now, receive_pool_calls=chosen.receive_pool_calls, until=pick.ends_at,
                        before=chosen)
    elif chosen.until is not None and now >= chosen.until:
        chosen = choose(returning_status(chosen.previous, statuses), now,
                        receive_pool_calls=chosen.receive_pool_calls)
    if wrapup is not None and wrapup.over(now):
        wrapup = None
    return dataclasses.replace(state, chosen=chosen, schedules=schedules, wrapup=wrapup)


def default_status(statuses: Mapping[int, StatusDef], kind: str = AVAILABLE) -> StatusDef:
    """The first untimed status of type ``kind`` (when no other is known: Available), else a built-in one."""
    for status in sorted(statuses.values(), key=lambda s: s.id or 0):
        if status.kind == kind and not status.duration_minutes:
            return status
    return DEFAULT_STATUS if kind == AVAILABLE else StatusDef(None, KIND_LABELS.get(kind, kind), kind)


def returning_status(previous: StatusRef | None, statuses: Mapping[int, StatusDef]) -> StatusDef:
    """The status a timed one gives back: the one held before it, if it still exists untimed, else
    ``default_status``."""
    status = statuses.get(previous.id) if previous is not None and previous.id is not None else None
    return status if status is not None and not status.duration_minutes else default_status(statuses)


def end_wrapup(state: AgentPresence, call_id: str) -> AgentPresence:
    """The agent picked a code for ``call_id``: its wrap-up (if it is the current one) ends."""
    if state.wrapup is not None and state.wrapup.call_id == call_id:
        return dataclasses.replace(state, wrapup=None)
    return state


def view(state: AgentPresence, now: float) -> dict[str, Any]:
    """The JSON-able presence the agent's page shows (event ``presence``)."""
    reasons = wanted(state, now).paused
    c, w = state.chosen, state.wrapup
    return {
        "agent": state.agent,
        "status_id": c.status_id,
        "status": c.status,
        "kind": c.kind,
        "since": c.since,
        "until": c.until,
        "previous": None if c.previous is None else {"status_id": c.previous.id, "status": c.previous.name,
                                                      "kind": c.previous.kind},
        "receive_pool_calls": c.receive_pool_calls,
        # an SLA hold is the arbiter's business, not the agent's: it moves from queue to queue every second
        "queues": [{"name": q.name, "label": q.label or q.name, "active": q.active,
                    "paused": bool(reasons[q.name]) and reasons[q.name] != REASON_SLA,
                    "reason": "" if reasons[q.name] == REASON_SLA else reasons[q.name]} for q in state.queues],
        "system": None if state.system is None else {"name": state.system.name, "kind": state.system.kind,
                                                     "since": state.system.since},
        "wrapup": None if w is None else {"call_id": w.call_id, "queue": w.queue, "until": w.until,
                                          "codes": list(w.codes), "required": w.required},
        "schedules": [{"id": s.id, "status_id": s.status_id, "starts_at": s.starts_at, "ends_at": s.ends_at}
                      for s in sorted(state.schedules, key=lambda s: s.starts_at)],
    }
