"""Operations CLI: failed jobs listed with their error and requeued; the API budget printed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import redis
from rq import Queue, SimpleWorker

from switchboard.meter import KEY as METER_KEY
from tests.support.redis_server import running_redis

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_url():
    with running_redis() as url:
        yield url


def cli(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(SWITCHBOARD_REDIS_URL=redis_url, SWITCHBOARD_RQ_QUEUE="ops",
               SWITCHBOARD_STATE_DIR="/nonexistent-state")
    return subprocess.run([sys.executable, "-m", "control.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_a_failed_job_is_listed_with_its_error_and_can_be_requeued(redis_url):
    conn = redis.from_url(redis_url)
    queue = Queue("ops", connection=conn)
    job = queue.enqueue("worker.tasks.finish_call", {"not": "a call"}, job_id="finish_call-broken")
    SimpleWorker([queue], connection=conn).work(burst=True)
    listed = cli(redis_url, "jobs", "failed")
    assert listed.returncode == 0, listed.stderr
    assert "finish_call-broken" in listed.stdout and "KeyError" in listed.stdout
    requeued = cli(redis_url, "jobs", "requeue", "--all")
    assert requeued.returncode == 0, requeued.stderr
    assert "requeued finish_call-broken" in requeued.stdout
    assert job.id in queue.job_ids
    assert cli(redis_url, "jobs", "failed").stdout.strip() == "no failed jobs"
    again = cli(redis_url, "jobs", "requeue", "finish_call-broken", "no-such-job")
    assert again.returncode == 1
    assert "not failed jobs (see `switchboard jobs failed`): finish_call-broken, no-such-job" in again.stderr


def test_sf_usage_prints_requests_per_call_and_the_org_budget(redis_url):
    conn = redis.from_url(redis_url)
    conn.hset(METER_KEY, mapping={"api_requests": 721, "calls_logged": 1000, "logins": 1, "org_used": 1721,
                                  "org_max": 15000, "lookup_cache_hits": 319, "lookup_cache_misses": 681})
    out = cli(redis_url, "sf-usage")
    assert out.returncode == 0, out.stderr
    assert "Requests per call:     0.721" in out.stdout
    assert "13279 of 15000 remaining" in out.stdout
    assert "681 sent, 319 from cache" in out.stdout
