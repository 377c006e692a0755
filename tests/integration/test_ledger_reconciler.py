"""The ledger reconciler with a real Redis and database (the ledger file written here as Asterisk writes it):
calls without an activity get exactly one job, after their grace; a second worker carries on from the
checkpoint; a rotated ledger loses nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import redis
from rq import Queue

from switchboard.contracts import HELD_CALLS_KEY, HELD_CALLS_TTL
from switchboard.store import Store, upgrade
from worker.reconciler import CHECKPOINT, Reconciler
from worker.tasks import enqueue_finish_call

pytestmark = pytest.mark.integration
T0 = 1_800_000_000.0
GRACE = 3.0


def record(event: str, at: float, uniqueid: str, linkedid: str, channel: str, num: str = "", name: str = "",
           user_event: str = "", extra: str | None = None) -> str:
    """One ledger line as cel_custom writes it (minimal quoting; a user event's extra as JSON)."""
    out = io.StringIO()
    blob = "" if extra is None else json.dumps({"extra": extra}, separators=(",", ":"))
    csv.writer(out, lineterminator="\n").writerow(
        [event, f"{at:.6f}", uniqueid, linkedid, channel, num, name, user_event, blob])
    return out.getvalue()


def queue_call(lid: str, at: float, *, agent: str = "agent1", talk: float = 20.0, end: bool = True) -> str:
    """A customer from the trunk who waits 4 s in cs-en, is answered by ``agent`` and talks ``talk`` s."""
    trunk = f"PJSIP/trunk-{lid}"
    lines = [record("CHAN_START", at, lid, lid, trunk, "+358401234567", "Maija"),
             record("USER_DEFINED", at + 0.1, lid, lid, trunk, "+358401234567", "Maija", "SB_FACT",
                    f"queue~cs-en~{at + 0.1}")]
    if agent:
        lines.append(record("USER_DEFINED", at + 4.1, f"{lid}9", lid, f"PJSIP/{agent}-1", agent, agent, "SB_FACT",
                            f"connected~{agent}~{at + 4.1}"))
    if end:
        lines.append(record("LINKEDID_END", at + 4.1 + talk, lid, lid, trunk, "+358401234567", "Maija"))
    return "".join(lines)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(redis_url: str, tmp_path: Path):
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    url = f"sqlite:///{tmp_path / 'sb.db'}"
    upgrade(url)
    store = Store(url)
    store.upsert_queue("cs-en", "Customer Service EN", "+35891000001")
    ledger = tmp_path / "cel-custom" / "ledger.csv"
    ledger.parent.mkdir()
    yield conn, store, ledger
    store.engine.dispose()
    conn.flushdb()


def reconciler(setup, clock: Clock, rotate_bytes: int = 0) -> Reconciler:
    conn, store, ledger = setup
    return Reconciler(ledger, "FI", conn, store, Queue("switchboard", connection=conn), grace=GRACE,
                      rotate_bytes=rotate_bytes, clock=clock, settle=0)


def jobs(conn: redis.Redis) -> dict[str, dict]:
    """The finish_call jobs waiting in the queue, by call id (their summaries)."""
    queue = Queue("switchboard", connection=conn)
    return {job.args[0]["call_id"]: job.args[0] for job in queue.get_jobs()}


def append(path: Path, text: str) -> None:
    with path.open("a") as fh:
        fh.write(text)


def test_given_calls_without_activity_then_each_gets_one_job_after_its_grace_and_handled_ones_none(setup):
    conn, store, ledger = setup
    append(ledger, queue_call("100.1", T0) + queue_call("100.2", T0 + 1) + queue_call("100.3", T0 + 2)
           + queue_call("100.4", T0 + 3, agent="", talk=17.9))  # 100.4 hangs up waiting, at T0 + 25
    live = {"call_id": "100.2", "direction": "inbound", "agent": "agent1"}  # the orchestrator enqueued this one
    enqueue_finish_call(Queue("switchboard", connection=conn), live)
    store.record_call(call_id="100.3", direction="inbound", disposition="answered",
                      started_at="2027-01-15T08:00:00+00:00", ended_at="2027-01-15T08:00:30+00:00")  # its job expired
    clock = Clock(T0 + 24.1 + GRACE - 0.1)  # 100.1 ended at T0 + 24.1: still the live path's
    r = reconciler(setup, clock)
    assert r.run_once() == 0
    clock.now = T0 + 24.1 + GRACE
    assert r.run_once() == 1
    assert set(jobs(conn)) == {"100.1", "100.2"}
    clock.now = T0 + 25 + GRACE
    assert r.run_once() == 1
    found = jobs(conn)
    assert set(found) == {"100.1", "100.2", "100.4"} and found["100.2"] == live
    assert (found["100.1"]["agent"], found["100.1"]["queue_label"], found["100.1"]["wait_seconds"],
            found["100.1"]["duration_seconds"], found["100.1"]["dialed"]) == (
        "agent1", "Customer Service EN", 4, 20, "+35891000001")
    assert (found["100.4"]["disposition"], found["100.4"]["wait_seconds"]) == ("not answered", 22)
    clock.now += 60
    assert r.run_once() == 0 and len(jobs(conn)) == 3
    r.close()


def test_given_a_second_worker_then_only_one_reconciles_and_the_next_carries_on_from_the_checkpoint(setup):
    conn, _, ledger = setup
    append(ledger, queue_call("200.1", T0) + queue_call("200.2", T0 + 5, end=False))
    clock = Clock(T0 + 30)
    first, second = reconciler(setup, clock), reconciler(setup, clock)
    assert first.run_once() == 1
    assert second.run_once() == 0  # the lease is the first one's
    checkpoint = json.loads(conn.get(CHECKPOINT))
    assert checkpoint["offset"] == ledger.read_text().index("CHAN_START,1800000005")  # the open call's first line
    first.close()  # the first worker goes away while 200.2 talks on
    append(ledger, record("LINKEDID_END", T0 + 40, "200.2", "200.2", "PJSIP/trunk-200.2"))
    clock.now = T0 + 50
    assert second.run_once() == 1  # read again from 200.2's start: 200.1 is found handled, 200.2 gets its job
    found = jobs(conn)
    assert set(found) == {"200.1", "200.2"}
    assert (found["200.2"]["agent"], found["200.2"]["duration_seconds"]) == ("agent1", 31)
    second.close()


def test_given_the_checkpoint_lost_then_the_ledger_is_read_again_and_nothing_is_enqueued_twice(setup):
    conn, _, ledger = setup
    append(ledger, queue_call("300.1", T0) + queue_call("300.2", T0 + 1))
    clock = Clock(T0 + 60)
    r = reconciler(setup, clock)
    assert r.run_once() == 2
    r.close()
    conn.delete(CHECKPOINT)
    again = reconciler(setup, clock)
    assert again.run_once() == 0 and len(jobs(conn)) == 2
    again.close()


def test_given_a_ledger_rotated_mid_call_then_the_call_that_spans_both_files_gets_its_job(setup):
    conn, _, ledger = setup
    rotated = Path(f"{ledger}.1")
    append(ledger, queue_call("400.1", T0) + queue_call("400.2", T0 + 1, end=False))
    clock = Clock(T0 + 30)
    r = reconciler(setup, clock, rotate_bytes=1)
    assert r.run_once() == 1  # 400.1; then the file is read and big enough: renamed to .1
    assert rotated.exists() and not ledger.exists()
    append(ledger, queue_call("400.3", T0 + 32))  # Asterisk's next record starts a new file
    r.run_once()  # the old file has settled: on to the new one
    r.run_once()
    assert ledger.exists() and "CHAN_START,1800000001.000000,400.2," in rotated.read_text()  # not rotated again:
    # .1 holds the start of 400.2, still open
    r.close()  # a restart: read again from 400.2's first line, in .1, then the new file
    append(ledger, record("LINKEDID_END", T0 + 70, "400.2", "400.2", "PJSIP/trunk-400.2"))
    clock.now = T0 + 80
    again = reconciler(setup, clock, rotate_bytes=1)
    for _ in range(3):
        again.run_once()
    found = jobs(conn)
    assert set(found) == {"400.1", "400.2", "400.3"}
    assert (found["400.2"]["agent"], found["400.2"]["duration_seconds"]) == ("agent1", 65)
    again.close()


def test_given_a_call_the_orchestrator_still_holds_then_it_is_left_to_the_orchestrator(setup):
    conn, _, ledger = setup
    append(ledger, queue_call("500.1", T0) + queue_call("500.2", T0 + 1))
    conn.set(HELD_CALLS_KEY, json.dumps(["500.1"]), ex=HELD_CALLS_TTL)  # e.g. a consultation its model ends later
    clock = Clock(T0 + 60)
    r = reconciler(setup, clock)
    assert r.run_once() == 1 and set(jobs(conn)) == {"500.2"}
    conn.delete(HELD_CALLS_KEY)  # the orchestrator stopped before it ended the call
    assert r.run_once() == 1 and set(jobs(conn)) == {"500.1", "500.2"}
    r.close()
