"""Integration helpers: ``python -m worker`` processes and the ``switchboard`` CLI against the emulator and
Redis, as production runs them, and what a test reads back (logins, Tasks, the meter)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from rq import Queue, Retry
from simple_salesforce import Salesforce

from sfemu.auth import Credentials
from sfemu.testing import REPO_ROOT, emulator_control, stop_process, wait_until
from switchboard.contracts import RETRY
from switchboard.meter import KEY as METER_KEY
from switchboard.salesforce import soql_quote
from switchboard.transport import make_session
from worker.tasks import enqueue_finish_call

CREDS = Credentials()


def worker_env(sf_url: str, redis_url: str, database_url: str, queue: str, **settings: Any) -> dict[str, str]:
    """The environment of a worker (or CLI) process against the emulator, plus ``settings`` by Settings name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update({"SWITCHBOARD_SF_EMULATOR_URL": sf_url, "SWITCHBOARD_SF_USERNAME": CREDS.username,
                "SWITCHBOARD_SF_PASSWORD": CREDS.password, "SWITCHBOARD_DATABASE_URL": database_url,
                "SWITCHBOARD_REDIS_URL": redis_url, "SWITCHBOARD_RQ_QUEUE": queue,
                "SWITCHBOARD_STATE_DIR": "/nonexistent-state", "PYTHONPATH": str(REPO_ROOT)})
    env.update({f"SWITCHBOARD_{name.upper()}": str(value) for name, value in settings.items()})
    return env


@contextmanager
def running_workers(env: dict[str, str], log_dir: Path, n: int = 1) -> Iterator[list[Path]]:
    """Start ``n`` ``python -m worker`` processes (jobs and a flusher each); yield their log files; stop them."""
    logs = [log_dir / f"worker-{i}.log" for i in range(n)]
    with ExitStack() as stack:
        procs = []
        for log in logs:
            out = stack.enter_context(log.open("w"))
            procs.append(subprocess.Popen([sys.executable, "-m", "worker"], env=env, cwd=REPO_ROOT, stdout=out,
                                          stderr=subprocess.STDOUT))
        try:
            yield logs
        finally:
            for proc in procs:
                stop_process(proc, timeout=10)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``switchboard <args>`` with ``env``; fails the test on a non-zero exit."""
    done = subprocess.run([sys.executable, "-m", "control.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    return done


def control(sf_url: str, method: str, path: str, **body: Any) -> Any:
    """Call the emulator's ``/__emulator/<path>`` with a JSON body; its JSON answer."""
    r = emulator_control(sf_url, method, path, json=body if method == "POST" else None)
    r.raise_for_status()
    return r.json() if r.content else None


def logins(sf_url: str) -> int:
    """How many logins the emulator has answered (its request log)."""
    return int(control(sf_url, "GET", "requests?kind=login")["counts"]["login"])


def wait_logged_in(sf_url: str, log: Path | None = None) -> int:
    """Wait until a worker has logged in; the login count."""
    wait_until(lambda: logins(sf_url) >= 1, 20, "a worker's first login", log=log)
    return logins(sf_url)


def enqueue_calls(queue: Queue, prefix: str, n: int, *, retry: Retry | None = RETRY, **overrides: Any) -> list[str]:
    """Enqueue ``finish_call`` for ``n`` inbound answered calls (each from its own number unless ``overrides``
    says otherwise) as the orchestrator does at their end; their call ids."""
    ids = []
    for i in range(n):
        now = datetime.now(UTC).isoformat()
        call_id = f"{prefix}.{i}"
        call = {"call_id": call_id, "direction": "inbound",
                "caller_number": f"+35840{abs(hash(call_id)) % 10**7:07d}", "caller_name": "", "queue": "cs-en",
                "queue_label": "Customer Service EN", "agent": "agent1", "disposition": "answered",
                "started_at": now, "answered_at": now, "ended_at": now, "wait_seconds": 3, "duration_seconds": 30}
        enqueue_finish_call(queue, {**call, **overrides}, retry=retry)
        ids.append(call_id)
    return ids


def emulator_salesforce(sf_url: str) -> Salesforce:
    """A client of the test's own (one login) to read back what the worker wrote."""
    return Salesforce(username=CREDS.username, password=CREDS.password, security_token=CREDS.security_token,
                      session=make_session(sf_url))


def tasks_of(sf: Salesforce, call_ids: list[str], fields: str = "Id") -> list[dict[str, Any]]:
    """The Tasks of these calls (Call_Id__c and ``fields``), read with SOQL 100 ids at a time."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(call_ids), 100):
        chunk = ", ".join(soql_quote(c) for c in call_ids[start:start + 100])
        out += sf.query_all(f"SELECT Call_Id__c, {fields} FROM Task WHERE Call_Id__c IN ({chunk})")["records"]
    return out


def task_counts(sf_url: str, call_ids: list[str]) -> dict[str, int]:
    """How many Tasks each call has (one login of the test's own)."""
    counts = dict.fromkeys(call_ids, 0)
    for rec in tasks_of(emulator_salesforce(sf_url), call_ids, "Id"):
        counts[rec["Call_Id__c"]] += 1
    return counts


def calls_logged(redis_url: str) -> int:
    """Call activities the workers have written (their shared meter)."""
    return int(redis.from_url(redis_url).hget(METER_KEY, "calls_logged") or 0)
