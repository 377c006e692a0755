"""Salesforce outages against the real worker process: every Task lands afterwards, none twice, bounded logins."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import requests
from rq import Queue

from sfemu.auth import Credentials
from sfemu.testing import REPO_ROOT, running_emulator
from switchboard.store import upgrade
from worker.tasks import enqueue_finish_call
from worker.testing import running_redis

pytestmark = pytest.mark.integration
QUEUE = "faults"


@pytest.fixture
def env(tmp_path) -> Iterator[dict[str, Any]]:
    creds = Credentials()
    with running_emulator("demo") as sf_url, running_redis() as redis_url:
        db = f"sqlite:///{tmp_path / 'faults.db'}"
        upgrade(db)
        child_env = {**{k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")},
                     "SWITCHBOARD_SF_EMULATOR_URL": sf_url, "SWITCHBOARD_SF_USERNAME": creds.username,
                     "SWITCHBOARD_SF_PASSWORD": creds.password, "SWITCHBOARD_DATABASE_URL": db,
                     "SWITCHBOARD_REDIS_URL": redis_url, "SWITCHBOARD_RQ_QUEUE": QUEUE,
                     "SWITCHBOARD_SF_BACKOFF_MAX": "4", "PYTHONPATH": str(REPO_ROOT)}
        log = open(tmp_path / "worker.log", "w")  # noqa: SIM115
        worker = subprocess.Popen([sys.executable, "-m", "worker"], env=child_env, cwd=REPO_ROOT, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            yield {"sf": sf_url, "redis": redis_url, "queue": Queue(QUEUE, connection=redis.from_url(redis_url)),
                   "log": tmp_path / "worker.log"}
        finally:
            worker.terminate()
            worker.wait(10)
            log.close()


def control(sf_url: str, method: str, path: str, **body: Any) -> Any:
    with requests.Session() as http:
        http.trust_env = False
        r = http.request(method, f"{sf_url}/__emulator/{path}", json=body or None, timeout=5)
        r.raise_for_status()
        return r.json() if r.content else None


def logins(sf_url: str) -> int:
    return control(sf_url, "GET", "requests?kind=login")["counts"]["login"]


def wait_logged_in(sf_url: str) -> int:
    deadline = time.monotonic() + 20
    while logins(sf_url) < 1:
        assert time.monotonic() < deadline, "the worker never logged in"
        time.sleep(0.1)
    return logins(sf_url)


def enqueue(queue: Queue, prefix: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        now = datetime.now(UTC).isoformat()
        call_id = f"{prefix}.{i}"
        enqueue_finish_call(queue, {
            "call_id": call_id, "direction": "inbound", "caller_number": f"+35840{abs(hash(call_id)) % 10**7:07d}",
            "caller_name": "", "queue": "cs-en", "queue_label": "Customer Service EN", "agent": "agent1",
            "disposition": "answered", "started_at": now, "answered_at": now, "ended_at": now,
            "wait_seconds": 3, "duration_seconds": 30})
        ids.append(call_id)
    return ids


def task_counts(sf_url: str, call_ids: list[str]) -> dict[str, int]:
    """How many Tasks each call has, read through the emulator's own SOQL (one query per 100 ids)."""
    from simple_salesforce import Salesforce

    from worker.transport import make_session

    creds = Credentials()
    sf = Salesforce(username=creds.username, password=creds.password, security_token=creds.security_token,
                    session=make_session(sf_url))
    counts = dict.fromkeys(call_ids, 0)
    for start in range(0, len(call_ids), 100):
        chunk = ", ".join(f"'{c}'" for c in call_ids[start:start + 100])
        for rec in sf.query_all(f"SELECT Call_Id__c FROM Task WHERE Call_Id__c IN ({chunk})")["records"]:
            counts[rec["Call_Id__c"]] += 1
    return counts


def wait_all_written(env: dict[str, Any], call_ids: list[str], timeout: float) -> dict[str, int]:
    meter_key = "switchboard:sf:meter"
    client = redis.from_url(env["redis"])
    deadline = time.monotonic() + timeout
    expected = len(call_ids)
    while time.monotonic() < deadline:
        if int(client.hget(meter_key, "calls_logged") or 0) >= expected:
            break
        time.sleep(0.5)
    return task_counts(env["sf"], call_ids)


@pytest.mark.parametrize("fault", [{"unavailable_for": 30, "include_logins": True}, {"limit_exceeded_for": 30}],
                         ids=["503-for-30s", "request-limit-exceeded-for-30s"])
def test_given_a_30_second_outage_then_every_task_lands_afterwards_exactly_once(env, fault):
    before = wait_logged_in(env["sf"])
    control(env["sf"], "POST", "faults", **fault)
    started = time.monotonic()
    call_ids = enqueue(env["queue"], f"{time.time():.0f}", 20)
    counts = wait_all_written(env, call_ids, timeout=120)
    assert time.monotonic() - started >= 25, "the fault did not hold the Tasks back"
    assert counts == dict.fromkeys(call_ids, 1), env["log"].read_text()[-3000:]
    assert logins(env["sf"]) - before <= 1  # the test's own login to count Tasks; the worker needed none


def test_given_sessions_expire_mid_burst_then_one_login_and_no_duplicates(env):
    wait_logged_in(env["sf"])
    call_ids = enqueue(env["queue"], f"{time.time():.0f}a", 30)
    time.sleep(0.6)
    before = logins(env["sf"])
    control(env["sf"], "POST", "expire-sessions")
    call_ids += enqueue(env["queue"], f"{time.time():.0f}b", 30)
    deadline = time.monotonic() + 60
    while int(redis.from_url(env["redis"]).hget("switchboard:sf:meter", "calls_logged") or 0) < len(call_ids):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert logins(env["sf"]) - before == 1  # the jobs (lookups) and the flusher (writes) shared one new login
    assert task_counts(env["sf"], call_ids) == dict.fromkeys(call_ids, 1)
