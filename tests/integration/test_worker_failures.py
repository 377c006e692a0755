"""When Salesforce fails for good: failed jobs and refused records reach the admin and can be sent again; a
server refusing every session costs one login per attempt; two flushers never send a batch twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from rq import Queue, Retry, SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry
from simple_salesforce import SalesforceExpiredSession

from sfemu.testing import running_emulator, wait_until
from switchboard.contracts import finish_call_job_id
from switchboard.store import upgrade
from tests.sfworker import (
    calls_logged,
    cli,
    control,
    emulator_salesforce,
    enqueue_calls,
    running_workers,
    task_counts,
    tasks_of,
    wait_logged_in,
    worker_env,
)
from tests.support.redis_server import running_redis
from worker import tasks
from worker.context import WorkerContext, get_context, reset_context
from worker.outbox import Outbox

pytestmark = pytest.mark.integration
QUEUE = "failures"
JOB_BUDGET = 2  # seconds a job retries Salesforce before it fails (production: 60)


@dataclass
class World:
    sf: str
    redis: redis.Redis
    env: dict[str, str]
    logs: Path

    @property
    def queue(self) -> Queue:
        return Queue(QUEUE, connection=self.redis)

    def task_outbox(self) -> Outbox:
        return Outbox(self.redis, "Task", "Call_Id__c")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with running_emulator("demo") as sf_url, running_redis() as redis_url:
        db = f"sqlite:///{tmp_path / 'failures.db'}"
        upgrade(db)
        env = worker_env(sf_url, redis_url, db, QUEUE, sf_job_retry_budget=JOB_BUDGET)
        yield World(sf_url, redis.from_url(redis_url), env, tmp_path)


@pytest.fixture
def ctx(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkerContext]:
    """The worker's context in this process, configured as the worker processes are."""
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    for key, value in world.env.items():
        if key.startswith("SWITCHBOARD_"):
            monkeypatch.setenv(key, value)
    reset_context()
    yield get_context()
    reset_context()


def test_a_job_failing_for_good_is_listed_with_the_salesforce_error_and_requeued_once_salesforce_is_back(
        world: World) -> None:
    with running_workers(world.env, world.logs) as (log,):
        wait_logged_in(world.sf, log)
        control(world.sf, "POST", "faults", unavailable_for=600)
        (call_id,) = enqueue_calls(world.queue, "down", 1, retry=Retry(max=1, interval=1))
        job_id = finish_call_job_id(call_id)
        registry = FailedJobRegistry(QUEUE, connection=world.redis)
        wait_until(lambda: job_id in registry.get_job_ids(), 40, "the job failing for good", log=log)
        assert Job.fetch(job_id, connection=world.redis).retries_left == 0  # it was retried before giving up
        listed = cli(world.env, "jobs", "failed").stdout
        assert f"{job_id}  worker.tasks.finish_call  " in listed
        assert "SalesforceGeneralError: Error Code 503" in listed and "SERVER_UNAVAILABLE" in listed

        control(world.sf, "POST", "reset-faults")
        assert task_counts(world.sf, [call_id]) == {call_id: 0}
        assert f"requeued {job_id}" in cli(world.env, "jobs", "requeue", job_id).stdout
        wait_until(lambda: calls_logged(world.env["SWITCHBOARD_REDIS_URL"]) == 1, 20, "the Task written", log=log)
        assert Job.fetch(job_id, connection=world.redis).get_status() == "finished"
        assert cli(world.env, "jobs", "failed").stdout.strip() == "no failed jobs"
    assert task_counts(world.sf, [call_id]) == {call_id: 1}


def test_a_record_salesforce_refuses_is_parked_shown_and_sent_again_once_the_org_is_fixed(world: World) -> None:
    # The org lacks a package field (an upgrade deployed before the package): Salesforce refuses every Task.
    control(world.sf, "POST", "hidden-fields", Task=["Call_Result__c"])
    with running_workers(world.env, world.logs) as (log,):
        (call_id,) = enqueue_calls(world.queue, "refused", 1)
        wait_until(lambda: call_id in world.task_outbox().dead_letters(), 20, "the record parked", log=log)
        shown = cli(world.env, "sf-outbox").stdout
        assert "Task: 0 waiting, 1 refused" in shown
        assert f"  {call_id}  INVALID_FIELD: No such column 'Call_Result__c' on sobject of type Task" in shown
        assert task_counts(world.sf, [call_id]) == {call_id: 0}

        control(world.sf, "POST", "hidden-fields")  # the admin deploys the package
        assert "requeued 1" in cli(world.env, "sf-outbox", "--retry").stdout
        wait_until(lambda: calls_logged(world.env["SWITCHBOARD_REDIS_URL"]) == 1, 20, "the Task written", log=log)
        assert "Task: 0 waiting, 0 refused" in cli(world.env, "sf-outbox").stdout
    (task,) = tasks_of(emulator_salesforce(world.sf), [call_id], "Call_Result__c, CallDisposition")
    assert task["Call_Result__c"] == task["CallDisposition"] == "answered"


def refused_and_logins(sf_url: str) -> tuple[int, int]:
    """(API requests answered 401, logins) from the emulator's request log."""
    log = control(sf_url, "GET", "requests")
    return sum(e["status"] == 401 for e in log["requests"] if e["kind"] == "api"), log["counts"]["login"]


def test_a_server_refusing_every_session_costs_one_login_per_attempt_never_a_loop(
        world: World, ctx: WorkerContext) -> None:
    ctx.client.salesforce()
    control(world.sf, "POST", "faults", invalid_session_for=600)
    refused, before = refused_and_logins(world.sf)
    assert refused == 0

    # The jobs path: the lookup is refused, one login, refused again: the job fails (RQ retries it later).
    (call_id,) = enqueue_calls(world.queue, "refused-401", 1, retry=None)
    SimpleWorker([world.queue], connection=ctx.redis).work(burst=True)
    job = Job.fetch(finish_call_job_id(call_id), connection=ctx.redis)
    assert job.is_failed and "INVALID_SESSION_ID" in (job.exc_info or "")
    assert refused_and_logins(world.sf) == (2, before + 1)

    # The flusher: the same, and the record stays in the outbox (neither lost nor parked).
    tasks.finish_call({"call_id": "refused-401.flush", "direction": "inbound", "caller_number": "anonymous",
                       "disposition": "not answered", "started_at": "2024-06-03T10:00:00+03:00",
                       "ended_at": "2024-06-03T10:00:30+03:00", "wait_seconds": 30, "duration_seconds": 0})
    with pytest.raises(SalesforceExpiredSession):
        ctx.flusher().run_once(force=True)
    assert refused_and_logins(world.sf) == (4, before + 2)
    assert ctx.activity_outbox.pending() == 1 and ctx.activity_outbox.dead_letters() == {}

    # Left running, the flusher backs off: one login per attempt, attempts ever further apart.
    flusher = ctx.flusher()
    thread = threading.Thread(target=flusher.run_forever, daemon=True)
    thread.start()
    try:
        time.sleep(3)
        refused, logged_in = refused_and_logins(world.sf)
        attempts = logged_in - (before + 2)
        assert 1 <= attempts <= 3 and refused - 4 == 2 * attempts  # backoff 0.5-1 s, 1-2 s, 2-4 s...
        control(world.sf, "POST", "reset-faults")
        wait_until(lambda: ctx.activity_outbox.pending() == 0, 15, "the flusher writing once sessions work")
    finally:
        flusher.stopping.set()
        thread.join(10)
    assert task_counts(world.sf, ["refused-401.flush"]) == {"refused-401.flush": 1}


def test_two_flushers_against_a_slow_salesforce_write_every_task_once_and_park_nothing(world: World) -> None:
    # Each write takes longer than the flush lock's TTL: only its renewal keeps the second flusher out.
    env = {**world.env, "SWITCHBOARD_SF_FLUSH_LOCK_TTL": "1.5"}
    latency = 2.5
    with running_workers(env, world.logs, n=2) as logs:
        wait_logged_in(world.sf, logs[0])
        control(world.sf, "POST", "faults", latency=latency)
        # Anonymous callers need no lookup: the writes are the only requests.
        call_ids = enqueue_calls(world.queue, "two-a", 10, caller_number="anonymous")
        time.sleep(1)
        call_ids += enqueue_calls(world.queue, "two-b", 10, caller_number="anonymous")
        wait_until(lambda: calls_logged(world.env["SWITCHBOARD_REDIS_URL"]) >= len(call_ids), 60,
                   "every Task written", log=logs[0])
        time.sleep(3 * latency)  # a second flusher's copy of a batch (and its create-only retry) would land now
        assert world.task_outbox().pending() == 0 and world.task_outbox().dead_letters() == {}
        control(world.sf, "POST", "reset-faults")
    found = tasks_of(emulator_salesforce(world.sf), call_ids, "CreatedDate, LastModifiedDate")
    assert sorted(t["Call_Id__c"] for t in found) == sorted(call_ids)
    rewritten = [t["Call_Id__c"] for t in found if t["LastModifiedDate"] != t["CreatedDate"]]
    assert rewritten == [], "written more than once"
    assert calls_logged(world.env["SWITCHBOARD_REDIS_URL"]) == len(call_ids)
