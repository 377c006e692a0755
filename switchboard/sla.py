"""SLA scoring across queues (Puzzel): a freed agent serves the waiting caller with the highest SLA score
among their queues, the caller's waiting time over their queue's SLA threshold.

Pure. For a free agent ``assign`` hands out the waiting callers, highest score first, each to the best
skilled free agent open to its queue (so two free agents and two callers are not both sent to the same
best-scored one); the agent is then held back (paused) in their other queues. For a busy agent
``hold_back`` says in which of their queues to hold them back so that, once free, only the queue whose
head caller has the highest score can offer them a call. The orchestrator's arbiter
(``orchestrator/sla_arbiter.py``) keeps these holds current for every agent all the time, not only when
an agent frees up: app_queue rings a member the moment they are free, before anyone could pause them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

REASON_SLA = "SLA: another queue first"


@dataclass(frozen=True)
class Head:
    """The caller who has waited longest in one queue: how long, and the queue's threshold."""

    waited: float
    threshold: float

    @property
    def score(self) -> float:
        """Waiting time relative to the threshold (1.0: the threshold is reached)."""
        return self.waited / max(self.threshold, 1.0)


def hold_back(open_queues: Collection[str], heads: Mapping[str, Head],
              penalties: Mapping[str, int] | None = None) -> frozenset[str]:
    """The agent's queues to hold back: of ``open_queues`` (the agent's queues that may ring them now)
    those with a waiting caller, all but the one whose head scores highest (ties: the queue where the
    agent's penalty is lowest, i.e. their skill highest; a tie on both keeps every tied queue open)."""
    waiting = [q for q in open_queues if q in heads]
    if len(waiting) < 2:
        return frozenset()
    penalties = penalties or {}

    def rank(queue: str) -> tuple[float, int]:
        return round(heads[queue].score, 6), -penalties.get(queue, 0)

    best = max(rank(q) for q in waiting)
    return frozenset(q for q in waiting if rank(q) != best)


def assign(free: Mapping[str, Collection[str]], waiting: Collection[tuple[str, float]],
           thresholds: Mapping[str, float], now: float, penalties: Mapping[str, Mapping[str, int]] | None = None,
           default_threshold: float = 20.0) -> dict[str, str]:
    """Free agents (agent -> the queues that may ring them now) to the waiting callers ((queue, joined at)
    each), highest SLA score first: each caller in turn gets the free agent, among those open to its queue
    and not yet given one, with the lowest penalty there (the highest skill; ties by name). Agent -> queue
    for the agents given a caller; the others are needed by nobody."""
    penalties = penalties or {}
    requests = sorted(waiting, key=lambda r: -Head(max(0.0, now - r[1]),
                                                   float(thresholds.get(r[0]) or default_threshold)).score)
    pool = dict(free)
    out: dict[str, str] = {}
    for queue, _ in requests:
        candidates = [a for a, queues in pool.items() if queue in queues]
        if not candidates:
            continue
        agent = min(candidates, key=lambda a: (penalties.get(a, {}).get(queue, 0), a))
        out[agent] = queue
        del pool[agent]
    return out


def heads(waiting: Collection[tuple[str, float]], thresholds: Mapping[str, float], now: float,
          default_threshold: float = 20.0) -> dict[str, Head]:
    """Each queue's head caller from ``waiting`` (queue, joined at) pairs: the earliest joined."""
    joined: dict[str, float] = {}
    for queue, at in waiting:
        if queue not in joined or at < joined[queue]:
            joined[queue] = at
    return {q: Head(max(0.0, now - at), float(thresholds.get(q) or default_threshold)) for q, at in joined.items()}
