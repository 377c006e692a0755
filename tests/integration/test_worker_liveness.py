# ruff: noqa: F811
"""A worker killed mid-job: its job runs again in another worker within seconds (worker/liveness.py),
not after RQ's own expiry and maintenance pass (minutes, while the call's Task waits)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import JobStatus

from sfemu.testing import REPO_ROOT
from tests.support.worker import (  # noqa: F401  (fixtures)
    database_url,
    emulator_url,
    redis_url,
    worker_env,
)
from worker.liveness import requeue_abandoned

pytestmark = pytest.mark.integration



def children(pid: int) -> list[str]:
    """The pids of the processes ``pid`` forked and that still run."""
    return [child for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "worker", "--no-reconciler", "--no-warmer"], cwd=REPO_ROOT,
                            env={**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)}, stdout=out,
                            stderr=subprocess.STDOUT)


def wait_for(check, timeout: float, what: str, log: Path) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s; worker log:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def test_a_job_of_a_killed_worker_runs_again_in_a_live_one_within_seconds(
        worker_env: dict[str, str], redis_url: str, tmp_path: Path) -> None:
    conn = redis.from_url(redis_url)
    queue = Queue(worker_env["SWITCHBOARD_RQ_QUEUE"], connection=conn)
    marker, log = tmp_path / "started", tmp_path / "worker.log"
    job = queue.enqueue("tests.support.worker.slow_once", str(marker), job_id="liveness-test-job")
    first = start_worker(worker_env, log)
    second = None
    try:
        wait_for(marker.exists, 30, "the first worker started the job", log)
        assert job.get_status(refresh=True) == JobStatus.STARTED
        assert requeue_abandoned(conn, queue) == []  # its worker is alive: left alone
        # no forked child (rq's own scheduler was one) to outlive it holding its Redis connections open
        assert children(first.pid) == []
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        second = start_worker(worker_env, log)
        wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 45,
                 "the killed worker's job finished in the second worker", log)
        assert job.return_value() == "done"  # the second run, not the first
        assert time.monotonic() - killed_at < 40
        assert "which died; queued again" in log.read_text()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
