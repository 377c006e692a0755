"""Salesforce outages against the real worker process: every Task lands afterwards, none twice, bounded logins."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rq import Queue

from sfemu.testing import running_emulator, wait_until
from switchboard.store import upgrade
from tests.sfworker import (
    calls_logged,
    control,
    enqueue_calls,
    logins,
    running_workers,
    task_counts,
    wait_logged_in,
    worker_env,
)
from tests.support.redis_server import running_redis

pytestmark = pytest.mark.integration
QUEUE = "faults"


@pytest.fixture
def env(tmp_path) -> Iterator[dict[str, Any]]:
    with running_emulator("demo") as sf_url, running_redis() as redis_url:
        db = f"sqlite:///{tmp_path / 'faults.db'}"
        upgrade(db)
        with running_workers(worker_env(sf_url, redis_url, db, QUEUE, sf_backoff_max=4), tmp_path) as logs:
            yield {"sf": sf_url, "redis": redis_url, "queue": Queue(QUEUE, connection=redis.from_url(redis_url)),
                   "log": logs[0]}


def wait_all_written(env: dict[str, Any], call_ids: list[str], timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and calls_logged(env["redis"]) < len(call_ids):
        time.sleep(0.5)
    return task_counts(env["sf"], call_ids)


@pytest.mark.parametrize("fault", [{"unavailable_for": 30, "include_logins": True}, {"limit_exceeded_for": 30}],
                         ids=["503-for-30s", "request-limit-exceeded-for-30s"])
def test_given_a_30_second_outage_then_every_task_lands_afterwards_exactly_once(env, fault):
    before = wait_logged_in(env["sf"], env["log"])
    control(env["sf"], "POST", "faults", **fault)
    started = time.monotonic()
    call_ids = enqueue_calls(env["queue"], f"{time.time():.0f}", 20)
    counts = wait_all_written(env, call_ids, timeout=120)
    assert time.monotonic() - started >= 25, "the fault did not hold the Tasks back"
    assert counts == dict.fromkeys(call_ids, 1), env["log"].read_text()[-3000:]
    assert logins(env["sf"]) - before <= 1  # the test's own login to count Tasks; the worker needed none


def test_given_sessions_expire_mid_burst_then_one_login_and_no_duplicates(env):
    wait_logged_in(env["sf"], env["log"])
    call_ids = enqueue_calls(env["queue"], f"{time.time():.0f}a", 30)
    time.sleep(0.6)
    before = logins(env["sf"])
    control(env["sf"], "POST", "expire-sessions")
    call_ids += enqueue_calls(env["queue"], f"{time.time():.0f}b", 30)
    wait_until(lambda: calls_logged(env["redis"]) >= len(call_ids), 60, "every Task written", log=env["log"])
    assert logins(env["sf"]) - before == 1  # the jobs (lookups) and the flusher (writes) shared one new login
    assert task_counts(env["sf"], call_ids) == dict.fromkeys(call_ids, 1)
