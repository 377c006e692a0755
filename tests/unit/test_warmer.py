"""Screen-pop warm-ups: newest first, stale ones dropped, failures and bad entries logged, never raised."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from switchboard.contracts import WARMUP_CAP as CAP
from switchboard.contracts import push_warmup as push
from switchboard.meter import Meter
from worker.warmer import Warmer


@pytest.fixture
def conn(redis_conn: redis.Redis) -> redis.Redis:
    return redis_conn


@pytest.fixture
def key() -> str:
    return f"test:warm:{uuid.uuid4().hex[:8]}"


def warmer(conn: redis.Redis, key: str, looked_up: list[str], *, ttl: float = 20,
           fail: bool = False) -> Warmer:
    def identify(number: str) -> dict:
        if fail:
            raise ConnectionError("Salesforce down")
        looked_up.append(number)
        return {"kind": "none", "records": []}
    return Warmer(conn, identify, Meter(conn), ttl=ttl, threads=1, key=key)


def test_newest_warm_up_is_looked_up_first(conn: redis.Redis, key: str) -> None:
    looked_up: list[str] = []
    w = warmer(conn, key, looked_up)
    push(conn, "+358401000001", key=key)
    push(conn, "+358401000002", key=key)
    assert [w.run_once(0.1), w.run_once(0.1), w.run_once(0.1)] == ["warmed", "warmed", "idle"]
    assert looked_up == ["+358401000002", "+358401000001"]


def test_a_warm_up_older_than_its_ttl_is_dropped_unlooked(conn: redis.Redis, key: str) -> None:
    looked_up: list[str] = []
    w = warmer(conn, key, looked_up, ttl=20)
    push(conn, "+358401000003", now=time.time() - 21, key=key)
    assert w.run_once(0.1) == "stale"
    assert looked_up == []


def test_a_failed_lookup_or_a_malformed_entry_is_logged_and_the_warmer_goes_on(
        conn: redis.Redis, key: str, caplog: pytest.LogCaptureFixture) -> None:
    w = warmer(conn, key, [], fail=True)
    conn.lpush(key, b"\xff not json")
    push(conn, "+358401000004", key=key)
    assert w.run_once(0.1) == "failed"
    assert w.run_once(0.1) == "bad"
    assert "warm-up lookup of +358401000004 failed" in caplog.text
    assert "malformed warm-up request" in caplog.text


def test_the_list_is_capped_so_a_backlog_never_grows_without_bound(conn: redis.Redis, key: str) -> None:
    for i in range(CAP + 5):
        push(conn, f"+35840{i:07d}", key=key)
    assert conn.llen(key) == CAP
    newest = conn.lindex(key, 0)
    assert newest is not None and f"+35840{CAP + 4:07d}".encode() in newest


def test_the_plugins_hear_who_calls_with_the_call_id_and_a_failing_one_changes_nothing(
        conn: redis.Redis, key: str, caplog: pytest.LogCaptureFixture) -> None:
    from switchboard.hookspecs import hookimpl
    from switchboard.plugins import call_hook, plugin_manager

    heard: list[tuple] = []

    class Vip:
        @hookimpl
        def caller_identified(self, call_id, caller_number, match):
            heard.append((call_id, caller_number, match["kind"]))

    class Broken:
        @hookimpl
        def caller_identified(self):
            raise RuntimeError("boom")

    pm = plugin_manager(load_entrypoints=False)
    pm.register(Vip())
    pm.register(Broken())
    w = warmer(conn, key, [])
    w.identified = lambda call_id, number, match: call_hook(pm, "caller_identified", 1.0, call_id=call_id,
                                                            caller_number=number, match=match)
    push(conn, "+358401000005", call_id="1800000000.5", key=key)
    push(conn, "+358401000006", key=key)  # no call id (an older orchestrator): looked up, nobody told
    assert [w.run_once(0.1), w.run_once(0.1)] == ["warmed", "warmed"]
    assert heard == [("1800000000.5", "+358401000005", "none")]
    assert "boom" in caplog.text
