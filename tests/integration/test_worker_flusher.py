# ruff: noqa: F811
"""The outbox flusher against the emulator: the size trigger, a record replaced while its batch is in flight."""

from __future__ import annotations

import threading
import time

import pytest

from tests.sfworker import control, emulator_salesforce, tasks_of
from tests.support.worker import (  # noqa: F401  (fixtures)
    api_paths,
    database_url,
    emulator,
    emulator_url,
    make_call,
    redis_url,
    tasks_for,
    worker_env,
)
from worker.activity import parse_time, task_fields
from worker.context import get_context
from worker.flusher import Flusher

pytestmark = pytest.mark.integration


def flusher(*, batch_size: int = 200, window: float = 0.5) -> Flusher:
    ctx = get_context()
    return Flusher(ctx.client, ctx.redis, ctx.meter, ctx.outboxes(), batch_size=batch_size, window=window,
                   backoff_max=1)


def put(call: dict) -> None:
    get_context().activity_outbox.put(call["call_id"], task_fields(call), parse_time(call["ended_at"]).timestamp())


def test_200_waiting_records_go_at_once_in_one_request_and_no_request_carries_more(
        worker_env: dict[str, str], emulator_url: str) -> None:
    calls = [make_call(caller_number="anonymous") for _ in range(250)]
    for call in calls:
        put(call)
    big = flusher(batch_size=500, window=3600)  # a batch of 200 at most (sObject Collections' limit)
    get_context().client.salesforce()
    emulator(emulator_url, "POST", "reset-log")
    assert big.run_once() == 200  # full: no waiting for the window
    assert api_paths(emulator_url) == ["composite"]
    outbox = get_context().activity_outbox
    assert outbox.pending() == 50
    assert big.run_once() == 0  # 50 wait for the window (or for 150 more)
    assert big.run_once(force=True) == 50
    assert api_paths(emulator_url) == ["composite", "composite"]
    found = tasks_of(emulator_salesforce(emulator_url), [c["call_id"] for c in calls])
    assert len(found) == len({t["Call_Id__c"] for t in found}) == 250


def test_a_record_replaced_while_its_batch_is_in_flight_is_sent_again(worker_env: dict[str, str],
                                                                      emulator_url: str) -> None:
    call = make_call(caller_number="anonymous")
    put(call)
    outbox = get_context().activity_outbox
    get_context().client.salesforce()
    control(emulator_url, "POST", "faults", latency=2)
    try:
        written: list[int] = []
        flushing = threading.Thread(target=lambda: written.append(flusher().run_once(force=True)))
        flushing.start()
        time.sleep(0.7)
        assert flushing.is_alive(), "the batch was not in flight"
        put({**call, "wrapup_code": "Manager Request"})  # e.g. the agent's wrap-up code arrives meanwhile
        flushing.join(20)
    finally:
        control(emulator_url, "POST", "reset-faults")
    # The version in flight was written, and done() kept the replacement, so the same run sent it too.
    assert written == [2]
    (task,) = tasks_for(call["call_id"])
    assert (task["CallDisposition"], task["Call_Result__c"]) == ("Manager Request", "answered")
    assert outbox.pending() == 0 and outbox.dead_letters() == {}


def test_done_keeps_an_entry_replaced_since_it_was_taken(worker_env: dict[str, str]) -> None:
    call = make_call(caller_number="anonymous")
    put(call)
    outbox = get_context().activity_outbox
    (taken,) = outbox.take(10)
    put({**call, "wrapup_code": "No Note"})
    assert outbox.done(taken) is False
    (waiting,) = outbox.take(10)
    assert waiting.fields["CallDisposition"] == "No Note"
    assert outbox.done(waiting) is True and outbox.pending() == 0
