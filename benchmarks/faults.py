"""Faults during load: every call still gets exactly one Task, whatever process dies.

Starts its own stack with SIP-phone agents (SIPp), and for each fault: a burst of customers over the
trunk (SIPp, >= 100 calls), the fault injected a few seconds in, the stack recovered (the supervisor
restarts what died, or the fault ends), then every call's Task counted in the Salesforce emulator.
Prints per fault: calls, Tasks, missing, duplicated, time to recover.

Run: .venv/bin/python -m benchmarks.faults [--only orchestrator-kill,redis-restart] [--calls 120]
The CI test tests/integration/test_faults.py runs the same faults one by one and asserts 0 missing and
0 duplicated for each.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.callwatch import Watch, ledger_numbers, tasks_by_number, watching
from control.stack import Stack
from tests.support.sipagent import SipAgentPhones, make_sip_agents
from tests.support.sipp import SipCustomers

logger = logging.getLogger(__name__)

QUEUE_NUMBER = "+35891000001"  # Customer Service EN


# -- the faults -------------------------------------------------------------------------------------------
def _emulator(stack: Stack, path: str, body: dict | None = None) -> None:
    assert stack.settings is not None
    request = urllib.request.Request(f"{stack.settings.sf_emulator_url}/__emulator/{path}",
                                     data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5):
        pass


def _kill_for(name: str, seconds: float) -> Callable[[Stack], float]:
    """kill -9 ``name``, keep it down ``seconds``, start it again: returns seconds until it is ready."""
    def run(stack: Stack) -> float:
        stack.kill_child(name, signal.SIGKILL, hold=True)
        time.sleep(seconds)
        t0 = time.monotonic()
        stack.start_child(name)
        stack.wait_ready(name, timeout=60)
        return time.monotonic() - t0
    return run


def _kill_restarted(name: str) -> Callable[[Stack], float]:
    """kill -9 ``name`` and let the supervisor bring it back: returns seconds until it is ready."""
    def run(stack: Stack) -> float:
        t0 = time.monotonic()
        stack.kill_child(name, signal.SIGKILL)
        stack.wait_restarted(name, timeout=60)
        stack.wait_ready(name, timeout=60)
        return time.monotonic() - t0
    return run


def _redis_restart(stack: Stack) -> float:
    t0 = time.monotonic()
    stack.stop_child("redis")  # SIGTERM: Redis writes its append-only file and exits
    time.sleep(1)
    stack.start_child("redis")
    stack.wait_ready("redis", timeout=30)
    return time.monotonic() - t0


def _asterisk_restart(stack: Stack) -> float:
    assert stack.asterisk is not None
    t0 = time.monotonic()
    stack.asterisk.cli("core restart now", check=False)
    time.sleep(1)
    deadline = time.monotonic() + 60
    while stack.asterisk.cli("core waitfullybooted", timeout=10, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError("Asterisk did not come back")
        time.sleep(0.2)
    return time.monotonic() - t0


def _salesforce(switch: dict, seconds: float) -> Callable[[Stack], float]:
    """A Salesforce fault for ``seconds`` (the emulator's switches): returns ``seconds``."""
    def run(stack: Stack) -> float:
        _emulator(stack, "faults", switch)
        time.sleep(seconds)
        _emulator(stack, "reset-faults")
        return seconds
    return run


def _expired_session(stack: Stack) -> float:
    _emulator(stack, "expire-sessions")
    return 0.0


def _database_away(seconds: float) -> Callable[[Stack], float]:
    """The database unavailable ``seconds``: SQLite locked exclusively (a PostgreSQL server stopped is the
    same to the processes: every statement fails until it is back)."""
    def run(stack: Stack) -> float:
        assert stack.settings is not None
        path = stack.settings.database_url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        conn.close()
        return seconds
    return run


@dataclass(frozen=True)
class Fault:
    """One fault: how to inject it (returns when it is over, with the seconds recovery took), and the burst
    it runs in (enough calls at a rate that some start and end while the fault lasts)."""

    name: str
    run: Callable[[Stack], float]
    calls: int = 100
    rate: float = 8.0
    hold: float = 8.0  # seconds a customer stays on the line at most
    after: float = 4.0  # seconds into the burst


FAULTS = (
    Fault("orchestrator-kill", _kill_for("orchestrator", 2)),
    Fault("orchestrator-down-30s", _kill_for("orchestrator", 30), calls=120, rate=3.0),
    Fault("worker-kill", _kill_restarted("worker")),
    Fault("web-kill", _kill_restarted("web")),
    Fault("redis-restart", _redis_restart),
    Fault("asterisk-restart", _asterisk_restart),
    Fault("salesforce-503-60s", _salesforce({"unavailable_for": 60}, 60)),
    Fault("salesforce-request-limit", _salesforce({"limit_exceeded_for": 20}, 20)),
    Fault("salesforce-session-expired", _expired_session),
    Fault("database-away-10s", _database_away(10)),
)


@dataclass
class FaultResult:
    """What one fault run measured."""

    name: str
    calls: int
    tasks: int
    missing: int
    duplicated: int
    recover_seconds: float
    sipp_failed: int
    settled_seconds: float  # from the burst's end until every call's Task was in the emulator

    def line(self) -> str:
        """The printed line."""
        return (f"{self.name:28s} calls {self.calls:4d}  Tasks {self.tasks:4d}  missing {self.missing}  "
                f"duplicated {self.duplicated}  recovered in {self.recover_seconds:.1f} s  "
                f"all Tasks {self.settled_seconds:.1f} s after the burst  (SIPp failed calls {self.sipp_failed})")


def run_fault(stack: Stack, customers: SipCustomers, watch: Watch, fault: Fault, index: int, *,
              drain: float = 120) -> FaultResult:
    """A burst of customers with ``fault`` in the middle; then count every call's Tasks."""
    prefix = f"+35846{index:02d}"
    numbers = [f"{prefix}{i:06d}" for i in range(1, fault.calls + 1)]
    burst = customers.burst(fault.calls, fault.rate, QUEUE_NUMBER, fault.hold, numbers=numbers,
                            max_seconds=fault.calls / fault.rate + fault.hold + 300)
    time.sleep(fault.after)
    recovered = fault.run(stack)
    outcome = burst.wait(fault.calls / fault.rate + fault.hold + 300)
    ended = time.monotonic()
    wanted = set(numbers)
    deadline = time.monotonic() + drain
    while True:
        got = tasks_by_number(stack, prefix)
        with watch.lock:
            through = {n for n in watch.number.values() if n in wanted}
        through |= ledger_numbers(stack, prefix)
        if through <= set(got) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    settled = time.monotonic() - ended
    return FaultResult(fault.name, len(through), sum(len(v) for v in got.values()), len(through - set(got)),
                       sum(len(v) - 1 for v in got.values() if len(v) > 1), recovered,
                       int(getattr(outcome, "failed", 0) or 0), settled)


# -- a stack for the faults --------------------------------------------------------------------------------
AGENTS = tuple(f"fault{i:02d}" for i in range(1, 21))


class FaultStack:
    """A stack of its own (the faults are destructive), 20 SIP-phone agents that answer after 1 s and talk
    3 s, a customer generator and the watchers."""

    def __init__(self, workdir: Path, *, keep: bool = False) -> None:
        self.workdir = workdir
        self.keep = keep  # keep Asterisk's instance folder (console log, ledger) afterwards
        self.stack = Stack(workdir, f"faults-{os.getpid()}", demo=True, rtp_ports=2000, log=lambda m: None)
        self.watch = Watch()
        self._exits: list[Callable[[], None]] = []

    def __enter__(self) -> FaultStack:
        self.stack.start()
        make_sip_agents(self.stack, AGENTS, queues=["cs-en"], timeout=60)
        phones = SipAgentPhones(self.stack, AGENTS, answer_after=1.0, talk_time=3.0,
                                workdir=self.workdir / "phones", trace=False)
        phones.__enter__()
        self._exits.append(lambda: phones.__exit__(None, None, None))
        watcher = watching(self.stack, self.watch)
        watcher.__enter__()
        self._exits.append(lambda: watcher.__exit__(None, None, None))
        self.customers = SipCustomers(self.stack, self.workdir / "customers")
        self._exits.append(self.customers.close)
        return self

    def __exit__(self, *exc: object) -> None:
        for close in reversed(self._exits):
            try:
                close()
            except Exception:
                logger.exception("closing the fault stack")
        self.stack.stop()
        if self.stack.asterisk is not None and not self.keep:
            shutil.rmtree(self.stack.asterisk.base, ignore_errors=True)

    def run(self, fault: Fault, index: int) -> FaultResult:
        """One fault during its burst."""
        return run_fault(self.stack, self.customers, self.watch, fault, index)


def main(argv: list[str] | None = None) -> int:
    """Run the faults and print one line each."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.faults", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="", help="comma-separated fault names (default: all)")
    p.add_argument("--calls", type=int, default=0, help="calls per burst (default: each fault's own, >= 100)")
    p.add_argument("--keep", action="store_true", help="keep the stack's folder (logs) afterwards")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    chosen = [f for f in FAULTS if not args.only or f.name in args.only.split(",")]
    if args.calls:
        chosen = [Fault(f.name, f.run, args.calls, f.rate, f.hold, f.after) for f in chosen]
    workdir = Path(tempfile.mkdtemp(prefix="sb-faults-"))
    results = []
    try:
        with FaultStack(workdir, keep=args.keep) as fs:
            for i, fault in enumerate(chosen, 1):
                result = fs.run(fault, i)
                results.append(result)
                print(result.line(), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    bad = [r.name for r in results if r.missing or r.duplicated]
    print("every call has exactly one Task after every fault" if not bad else f"lost or duplicated: {', '.join(bad)}")
    return 1 if bad else 0


if __name__ == "__main__":
    threading.excepthook = lambda a: logger.error("thread %s failed: %s", a.thread, a.exc_value)
    sys.exit(main())
