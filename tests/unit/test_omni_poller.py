"""The Omni-Channel poller: bounded SOQL (quoted ids, chunks), one poll per interval across workers, and a
report to the orchestrator only for agents whose state changed (and everyone now and then)."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import redis

from switchboard.contracts import COMMAND_CHANNEL, PRESENCE_OMNI
from worker import omnisync
from worker.omnisync import OmniPoller

USERS = {"agent1": "005000000000001AAA", "agent2": "005000000000002AAA", "agent3": "005000000000003AAA"}


class FakeSalesforce:
    """Answers the poller's two queries from ``presence`` and ``work``; records the SOQL."""

    def __init__(self) -> None:
        self.presence = {USERS["agent1"]: "Busy"}
        self.work = [(USERS["agent2"], 1.0), (USERS["agent2"], 1.5)]
        self.soql: list[str] = []

    def query_all(self, soql: str) -> dict:
        self.soql.append(soql)
        if "FROM UserServicePresence" in soql:
            return {"records": [{"UserId": u, "ServicePresenceStatus": {"DeveloperName": s}}
                                for u, s in self.presence.items() if f"'{u}'" in soql]}
        return {"records": [{"UserId": u, "CapacityWeight": w} for u, w in self.work if f"'{u}'" in soql]}


def poller(redis_conn: redis.Redis, sf: FakeSalesforce, clock: list[float]) -> OmniPoller:
    client = SimpleNamespace(call=lambda op, budget=None: op(sf))
    store = SimpleNamespace(linked_agents=lambda: dict(USERS))
    p = OmniPoller(client, store, redis_conn, interval=1.0, workload=True, clock=lambda: clock[0])  # type: ignore[arg-type]
    omnisync.LOCK = f"test:omni:{uuid.uuid4().hex[:8]}"
    return p


def reports(pubsub) -> list[dict]:  # noqa: ANN001
    out = []
    while (m := pubsub.get_message(timeout=0.2)) is not None:
        if m["type"] == "message":
            out.append(json.loads(m["data"]))
    return out


def test_changed_agents_are_reported_and_everyone_again_after_a_while(redis_conn: redis.Redis) -> None:
    sf, clock = FakeSalesforce(), [1000.0]
    pubsub = redis_conn.pubsub()
    pubsub.subscribe(COMMAND_CHANNEL)
    reports(pubsub)
    p = poller(redis_conn, sf, clock)
    assert p.run_once() == 3  # first poll: everyone linked (agent4 is not)
    sent = reports(pubsub)
    assert {r["command"] for r in sent} == {PRESENCE_OMNI}
    assert {r["agent"]: (r["status"], r["workload"]) for r in sent} == {
        "agent1": ("Busy", 0.0), "agent2": (None, 2.5), "agent3": (None, 0.0)}
    assert p.run_once() == 0  # within the interval another poll (any worker's) is refused by the lease
    redis_conn.delete(omnisync.LOCK)
    sf.presence[USERS["agent3"]] = "Lunch"
    clock[0] += 2
    assert p.run_once() == 1 and [r["agent"] for r in reports(pubsub)] == ["agent3"]
    redis_conn.delete(omnisync.LOCK)
    clock[0] += omnisync.RESEND_EVERY
    assert p.run_once() == 3
    pubsub.close()


def test_the_ids_are_quoted_and_chunked(redis_conn: redis.Redis, monkeypatch) -> None:
    sf, clock = FakeSalesforce(), [0.0]
    monkeypatch.setattr(omnisync, "CHUNK", 2)
    p = poller(redis_conn, sf, clock)
    p.run_once()
    presence = [s for s in sf.soql if "UserServicePresence" in s]
    assert len(presence) == 2 and len(sf.soql) == 4  # two chunks of each query
    assert "IsCurrentState = true AND UserId IN ('005000000000001AAA', '005000000000002AAA')" in presence[0]
