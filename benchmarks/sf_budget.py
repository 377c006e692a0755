"""Salesforce API budget: 1,000 simulated calls (30 % repeat callers) through the real worker.

Starts the emulator, Redis and ``python -m worker`` as deployed (its default: jobs run in the worker
process, rq's SimpleWorker, and the flusher in a thread), enqueues ``finish_call`` jobs at a steady
rate as the orchestrator would at each call's end, waits until every Task is written, then prints API
requests per call (from the emulator's request log) and call-end -> Task-with-details latency (from
the worker's meter).

Run: .venv/bin/python -m benchmarks.sf_budget [--calls 1000] [--rate 50]
Targets: <= 1.2 requests per call overall, <= 0.2 for repeat callers, p95 <= 5 s.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

import redis
import requests
from rq import Queue

from sfemu.auth import Credentials
from sfemu.testing import REPO_ROOT, running_emulator
from switchboard.config import load_settings
from switchboard.meter import Meter
from switchboard.store import upgrade
from tests.support.redis_server import running_redis
from worker.tasks import enqueue_finish_call


def emulator_log(url: str) -> list[dict]:
    """The emulator's API request log."""
    with requests.Session() as http:
        http.trust_env = False
        return http.get(f"{url}/__emulator/requests?api=1", timeout=10).json()["requests"]


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--repeat", type=float, default=0.3, help="share of calls from a number that called before")
    parser.add_argument("--rate", type=float, default=50, help="calls ending per second")
    args = parser.parse_args()
    rng = random.Random(7)
    creds = Credentials()
    with running_emulator("demo") as sf_url, running_redis() as redis_url, tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        upgrade(db)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")},
               "SWITCHBOARD_SF_EMULATOR_URL": sf_url, "SWITCHBOARD_SF_USERNAME": creds.username,
               "SWITCHBOARD_SF_PASSWORD": creds.password, "SWITCHBOARD_SF_SECURITY_TOKEN": creds.security_token,
               "SWITCHBOARD_DATABASE_URL": db, "SWITCHBOARD_REDIS_URL": redis_url, "SWITCHBOARD_RQ_QUEUE": "bench",
               "PYTHONPATH": str(REPO_ROOT)}
        os.environ.update({k: v for k, v in env.items() if k.startswith("SWITCHBOARD_")})
        settings = load_settings()
        meter = Meter(redis.Redis.from_url(redis_url))
        worker = subprocess.Popen([sys.executable, "-m", "worker", "--log-level", "WARNING"], env=env,
                                  cwd=REPO_ROOT)
        try:
            queue = Queue(settings.rq_queue, connection=redis.Redis.from_url(redis_url))
            seen: list[str] = []
            repeats = 0
            t0 = time.time()
            for i in range(args.calls):
                if seen and rng.random() < args.repeat:
                    number = rng.choice(seen)
                    repeats += 1
                else:
                    number = f"+35840{rng.randrange(10**7):07d}" if rng.random() < 0.5 else \
                        f"+4670{rng.randrange(10**7):07d}"
                    seen.append(number)
                now = datetime.now(UTC)
                enqueue_finish_call(queue, {
                    "call_id": f"bench-{t0:.0f}.{i}", "direction": "inbound", "caller_number": number,
                    "caller_name": "", "queue": "cs-en", "queue_label": "Customer Service EN", "agent": "agent1",
                    "disposition": "answered", "started_at": now.isoformat(), "answered_at": now.isoformat(),
                    "ended_at": now.isoformat(), "wait_seconds": rng.randrange(60),
                    "duration_seconds": rng.randrange(600)})
                delay = t0 + (i + 1) / args.rate - time.time()
                if delay > 0:
                    time.sleep(delay)
            deadline = time.time() + 120
            while meter.snapshot().get("calls_logged", 0) < args.calls and time.time() < deadline:
                time.sleep(0.2)
            elapsed = time.time() - t0
        finally:
            worker.terminate()
            worker.wait(10)
        snap = meter.snapshot()
        log = emulator_log(sf_url)
        searches = sum(1 for e in log if "/search" in e["path"])
        writes = sum(1 for e in log if "/composite" in e["path"])
        other = len(log) - searches - writes
        n = snap.get("calls_logged", 0)
        print(f"sf_budget: {n} of {args.calls} calls logged in {elapsed:.1f} s "
              f"({args.calls - repeats} first-time callers, {repeats} repeat callers)")
        print(f"  API requests: {len(log)} = {searches} caller lookups + {writes} batch writes + {other} other; "
              f"logins: {snap.get('logins', 0)}")
        print(f"  requests per call: {len(log) / max(n, 1):.3f} overall (target <= 1.2); "
              f"repeat caller {(writes + other) / max(n, 1):.3f} (target <= 0.2); "
              f"first-time caller {searches / max(args.calls - repeats, 1) + (writes + other) / max(n, 1):.3f}")
        print(f"  call end -> Task with details: p50 {snap.get('latency_p50_s', float('nan')):.2f} s, "
              f"p95 {snap.get('latency_p95_s', float('nan')):.2f} s (target p95 <= 5 s)")
        print(f"  meter (switchboard sf-usage): {snap.get('api_requests')} requests, "
              f"{snap.get('requests_per_call')} per call, org remaining {snap.get('org_remaining')}")


if __name__ == "__main__":
    main()
