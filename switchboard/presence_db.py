"""Presence between the database and the pure ``switchboard.presence`` types (blocking calls)."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime

from switchboard import presence as p
from switchboard.pick_db import pick_mode_agents
from switchboard.store import Agent, Store
from switchboard.store.models import AgentPresenceState, ScheduledPresence, ServiceQueue

logger = logging.getLogger(__name__)


def ts(value: datetime | None) -> float | None:
    """A stored datetime as epoch seconds (SQLite hands back naive UTC)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def dt(value: float | None) -> datetime | None:
    """Epoch seconds as an aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


def wrapup_codes(queue: ServiceQueue) -> list[str]:
    """A queue's wrap-up codes (a JSON list; anything else means none)."""
    try:
        codes = json.loads(queue.wrapup_codes or "[]")
    except ValueError:
        logger.warning("queue %s has malformed wrap-up codes", queue.name)
        return []
    return [str(c) for c in codes] if isinstance(codes, list) else []


def statuses(store: Store) -> dict[int, p.StatusDef]:
    """Every admin-defined status by id."""
    return {s.id: p.StatusDef(s.id, s.name, s.kind, s.duration_minutes) for s in store.list_statuses()}


def _wrapup(row: AgentPresenceState | None, queues: dict[str, ServiceQueue]) -> p.Wrapup | None:
    if row is None or not row.wrapup_call_id:
        return None
    q = queues.get(row.wrapup_queue)
    codes = tuple(wrapup_codes(q)) if q is not None else ()
    required = bool(q is not None and q.wrapup_required and codes)
    return p.Wrapup(row.wrapup_call_id, row.wrapup_queue, ts(row.wrapup_until), codes, required)


def _previous(row: AgentPresenceState, defs: dict[int, p.StatusDef]) -> p.StatusRef | None:
    if not row.previous_kind:
        return None
    status = defs.get(row.previous_status_id) if row.previous_status_id is not None else None
    name = status.name if status is not None else p.KIND_LABELS.get(row.previous_kind, row.previous_kind)
    return p.StatusRef(row.previous_status_id, name, row.previous_kind)


def queue_switches(agent: Agent) -> tuple[p.QueueSwitch, ...]:
    """The agent's own on/off switch of each queue they are a member of (memberships loaded with queues)."""
    return tuple(p.QueueSwitch(m.queue.name, m.queue.label, m.active)
                 for m in sorted(agent.memberships, key=lambda m: m.queue.name))


def build(agent: Agent, row: AgentPresenceState | None, schedules: list[ScheduledPresence],
          defs: dict[int, p.StatusDef], queues: dict[str, ServiceQueue]) -> p.AgentPresence:
    """One agent's presence from its rows (memberships of ``agent`` must be loaded with their queues)."""
    if row is None:
        chosen = p.Chosen(status=p.default_status(defs).name, status_id=p.default_status(defs).id)
    else:
        name = defs[row.status_id].name if row.status_id in defs else p.KIND_LABELS.get(row.kind, row.kind)
        chosen = p.Chosen(row.status_id, name, row.kind, ts(row.since) or 0.0, ts(row.until),
                          row.receive_pool_calls, _previous(row, defs))
    switches = queue_switches(agent)
    plan = tuple(p.Scheduled(s.id, s.status_id, ts(s.starts_at) or 0.0, ts(s.ends_at)) for s in schedules)
    return p.AgentPresence(agent.sip_username, chosen, switches, plan, _wrapup(row, queues))


def load_all(store: Store) -> tuple[dict[str, p.AgentPresence], dict[int, p.StatusDef]]:
    """Every agent's presence, and the statuses."""
    defs = statuses(store)
    queues = {q.name: q for q in store.list_queues()}
    rows = store.list_presence()
    plans: dict[int, list[ScheduledPresence]] = {}
    for s in store.list_schedules():
        plans.setdefault(s.agent_id, []).append(s)
    out = {a.sip_username: build(a, rows.get(a.id), plans.get(a.id, []), defs, queues)
           for a in store.list_agents()}
    for name in pick_mode_agents(store) & out.keys():  # they pick calls: paused with "Pick mode" everywhere
        out[name] = dataclasses.replace(out[name], pick_mode=True)
    return out, defs


def load_one(store: Store, sip_username: str) -> p.AgentPresence | None:
    """One agent's presence, or None for an unknown agent."""
    return load_all(store)[0].get(sip_username)


def save(store: Store, before: p.AgentPresence | None, after: p.AgentPresence) -> None:
    """Persist what changed between two presences of one agent (chosen status, wrap-up, used schedules)."""
    c, w = after.chosen, after.wrapup
    store.save_presence(after.agent, status_id=c.status_id, kind=c.kind, since=dt(c.since), until=dt(c.until),
                        receive_pool_calls=c.receive_pool_calls,
                        previous_status_id=c.previous.id if c.previous else None,
                        previous_kind=c.previous.kind if c.previous else "", wrapup_call_id=w.call_id if w else "",
                        wrapup_queue=w.queue if w else "", wrapup_until=dt(w.until) if w else None)
    if before is not None:
        kept = {s.id for s in after.schedules}
        store.delete_schedules(after.agent, [s.id for s in before.schedules if s.id not in kept])
