"""Bursts of customer calls over the trunk, answered by SIP-phone agents (SIPp), while the orchestrator is
killed or down: every call Asterisk's ledger saw gets exactly one Task, whichever path wrote it."""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from control.stack import Stack
from switchboard.ledger import FinishedCall, Ledger, parse_line
from tests.support.sipagent import SipAgentPhones, make_sip_agents
from tests.support.sipp import SipCustomers, SippRun

pytestmark = pytest.mark.integration

AGENTS = [f"burst{i:02}" for i in range(30)]
GRACE = 3.0  # Settings.ledger_grace


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Stack]:
    """A stack of this module's own, with 30 SIP-phone agents in Customer Service EN."""
    stack = Stack(Path(tempfile.mkdtemp(prefix="sb-burst-")), f"burst-{os.getpid()}", demo=True,
                  log=lambda msg: None)
    try:
        stack.start()
        make_sip_agents(stack, AGENTS, queues=["cs-en"])
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def trunk(own_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SipCustomers]:
    """Customers over the module's stack's trunk (tests/support/sipp.py); whatever still runs is stopped."""
    placed = SipCustomers(own_stack, tmp_path_factory.mktemp("customers"))
    yield placed
    placed.close()


def burst(trunk: SipCustomers, calls: int, rate: int) -> SippRun:
    """``calls`` customers over the trunk at ``rate`` per second, each talking until Asterisk hangs up."""
    return trunk.burst(calls, rate, "+35891000001", None)


def ledger_calls(stack: Stack, since: float) -> dict[str, FinishedCall]:
    """The calls the ledger saw start after ``since`` and finish."""
    ledger, out, mark = Ledger("FI"), {}, 0
    for raw in stack.asterisk.ledger_file.read_bytes().splitlines(keepends=True):
        line = parse_line(raw.decode().rstrip("\n"))
        if line is not None:
            out.update((f.call.call_id, f) for f in ledger.feed(line, mark) if f.call.started_at >= since)
        mark += len(raw)
    return out


def tasks(stack: Stack, call_ids: list[str]) -> list[dict]:
    """The Tasks Salesforce holds for these calls."""
    from switchboard.salesforce import connect, soql_quote

    sf, found = connect(stack.settings), []
    for i in range(0, len(call_ids), 100):
        ids = ", ".join(soql_quote(c) for c in call_ids[i:i + 100])
        found += sf.query_all("SELECT CallObject, CallDisposition, CallDurationInSeconds, Description FROM Task "
                              f"WHERE CallObject IN ({ids})")["records"]
    return found


def tasks_per_call(stack: Stack, call_ids: list[str]) -> Counter[str]:
    """How many Tasks Salesforce holds for each call."""
    return Counter(t["CallObject"] for t in tasks(stack, call_ids))


def every_call_one_task(stack: Stack, since: float, calls: int, timeout: float = 60) -> dict[str, FinishedCall]:
    """Wait until the ledger has ``calls`` finished calls since ``since`` and each has its Task; then, after
    the reconciler's grace, that none has two."""
    deadline = time.monotonic() + timeout
    while True:
        seen = ledger_calls(stack, since)
        found = tasks_per_call(stack, sorted(seen)) if len(seen) >= calls else Counter()
        if len(seen) >= calls and set(found) >= set(seen):
            break
        assert time.monotonic() < deadline, (
            f"{len(seen)} of {calls} calls ended; without a Task: {sorted(set(seen) - set(found))[:10]}")
        time.sleep(0.5)
    time.sleep(GRACE + 2)
    found = tasks_per_call(stack, sorted(seen))
    assert len(seen) == calls and {c: n for c, n in found.items() if n != 1} == {}
    return seen


def from_ledger(stack: Stack, call_ids: set[str]) -> list[float]:
    """How long after their end the reconciler enqueued the calls it wrote (the others: the live path)."""
    text = "".join(stack.child(name).log.read_text(errors="replace") for name in stack.worker_names())
    return [float(m.group(2)) for m in re.finditer(r"ledger: call (\S+) (?:ended|was cut[^0-9]*) ([\d.]+) s ago",
                                                   text) if m.group(1) in call_ids]


def test_given_the_orchestrator_killed_during_a_burst_then_every_call_has_exactly_one_task(own_stack, trunk):
    since = time.time()
    with SipAgentPhones(own_stack, AGENTS, answer_after=0.5, talk_time=3, trace=False):
        customers = burst(trunk, 50, 5)
        time.sleep(4)
        own_stack.kill_child("orchestrator")  # SIGKILL mid-burst; back after the supervisor's 0.5 s
        own_stack.wait_restarted("orchestrator")
        own_stack.wait_ready("orchestrator")
        assert customers.wait(120).ok
        seen = every_call_one_task(own_stack, since, 50)
    for task in tasks(own_stack, sorted(seen)):  # whoever wrote it, the Task says what the ledger saw
        call = seen[task["CallObject"]]
        assert (task["CallDisposition"], f"Agent: {call.call.agent}\n" in task["Description"]) == ("answered", True)
        assert abs(task["CallDurationInSeconds"] - (call.ended_at - (call.call.answered_at or 0))) <= 1
    delays = from_ledger(own_stack, set(seen))
    print(f"\nkill -9 of the orchestrator in a burst of 50: 50 Tasks, {len(delays)} from the ledger "
          f"(enqueued {min(delays, default=0):.1f}-{max(delays, default=0):.1f} s after their end)")


def test_given_the_orchestrator_down_during_a_burst_then_the_ledger_writes_every_task_once(own_stack, trunk):
    since = time.time()
    with SipAgentPhones(own_stack, AGENTS, answer_after=0.5, talk_time=3, trace=False):
        own_stack.stop_child("orchestrator")
        try:
            customers = burst(trunk, 40, 5)
            assert customers.wait(120).ok
            seen = every_call_one_task(own_stack, since, 40)
        finally:
            own_stack.start_child("orchestrator")
            own_stack.wait_ready("orchestrator")
    delays = from_ledger(own_stack, set(seen))
    assert len(delays) == 40 and all(GRACE <= d < GRACE + 2 for d in delays), delays
    summaries = [f.call for f in seen.values()]
    assert {c.agent for c in summaries} <= set(AGENTS) and all(c.answered_at for c in summaries)
    print(f"\norchestrator down for a burst of 40: 40 Tasks from the ledger, enqueued "
          f"{statistics.median(delays):.1f} s (median), {max(delays):.1f} s (max) after the call's end")
