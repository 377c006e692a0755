"""Nothing lost when a process dies (issue 9): a call in progress while a process dies still gets exactly one
Task with its queue, wait, agent and duration. All real, on a stack of this module's own: customers come
over the trunk from SIPp (tests/sipp/customer.xml), the agent answers in Chromium.

- the orchestrator is killed (SIGKILL) mid-call and back 0.5 s later (the supervisor): its resync adopts the call
  (the dialplan's SB_CALL_FACTS), the agent's kept call is restored, and the live path writes the Task;
- the orchestrator is down while a call starts and ends: the worker's reconciler writes it from
  Asterisk's own ledger (CEL);
- Asterisk restarts (``core restart now``) mid-call, or is killed (kill -9) while the orchestrator is down
  (the ledger then has no end for the call: the next boot marker ends it);
- and for every call of the module, the ledger's summary agrees with the call history the live path wrote.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest

from control.stack import Stack
from switchboard.calls import call_summary
from switchboard.ledger import Ledger, parse_line
from tests.support.phone import login
from tests.support.sipp import SipCustomers

pytestmark = pytest.mark.e2e

QUEUE_NUMBER, QUEUE_LABEL = "+35891000001", "Customer Service EN"
GRACE = 3.0  # Settings.ledger_grace


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Stack]:
    """A stack of this module's own: its processes are killed and its Asterisk restarted."""
    workdir = Path(tempfile.mkdtemp(prefix="sb-ledger-"))
    stack = Stack(workdir, f"ledger-{os.getpid()}", demo=True, log=lambda msg: None)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def customers(own_stack: Stack, tmp_path: Path) -> Iterator[SipCustomers]:
    """Customers over this module's stack's trunk (tests/support/sipp.py), stopped after the test."""
    placed = SipCustomers(own_stack, tmp_path / "sipp")
    yield placed
    placed.close()


def call_in(customers: SipCustomers, number: str, name: str) -> None:
    """A customer calls Customer Service EN over the trunk and talks until the call is hung up."""
    customers.call(QUEUE_NUMBER, number, name)


def agent_page(browser, stack: Stack, username: str = "agent1"):
    """A page logged in as ``username``, registered to Asterisk and linked to the server."""
    return login(browser, stack, username)


def registered(page, timeout: float = 20000) -> None:
    page.wait_for_function("document.querySelector('#reg-status').textContent.trim() === 'Registered'",
                           timeout=timeout)


def answer(page, rings_for: float) -> tuple[str, float]:
    """Let the phone ring ``rings_for`` seconds (the customer waits), answer; the call id and answer time."""
    page.wait_for_selector("#incoming", state="visible", timeout=10000)
    time.sleep(rings_for)
    page.click("#answer")
    page.wait_for_function("document.querySelector('#call-state').textContent === 'In call'", timeout=10000)
    answered = time.time()
    call_id = page.evaluate("window.switchboardPhone.currentCallId()")
    assert call_id
    return call_id, answered


def hang_up(page) -> float:
    page.click("#hangup")
    page.wait_for_function("document.querySelector('#call-state').textContent === 'Call ended'", timeout=5000)
    return time.time()


def kept_call(page, stack: Stack) -> dict | None:
    """What /api/calls/current tells the agent's page after a reload."""
    return page.request.get(f"{stack.settings.public_url}/api/calls/current").json()["call"]


def resyncs(stack: Stack) -> int:
    return stack.child("orchestrator").log.read_text(errors="replace").count("resynced from Asterisk")


def resynced_since(stack: Stack, before: int) -> None:
    """Wait until the orchestrator resynced once more than ``before`` times (after Asterisk restarted)."""
    deadline = time.monotonic() + 30
    while resyncs(stack) <= before:
        assert time.monotonic() < deadline, "the orchestrator did not resync"
        time.sleep(0.1)


@contextlib.contextmanager
def orchestrator_down(stack: Stack) -> Iterator[None]:
    """The orchestrator stopped for the block, then started again (and resynced)."""
    stack.stop_child("orchestrator")
    try:
        yield
    finally:
        stack.start_child("orchestrator")
        stack.wait_ready("orchestrator")


def tasks_for(stack: Stack, call_id: str) -> list[dict]:
    from switchboard.salesforce import connect, soql_quote

    return connect(stack.settings).query(
        "SELECT Id, CallType, CallDurationInSeconds, CallDisposition, Service_Pool_Queue__c, Phone_Number_2__c, "
        f"Queue_Wait_Time_Sec__c, Description, Call_End_Time__c FROM Task WHERE CallObject = {soql_quote(call_id)}"
    )["records"]


def one_task(stack: Stack, call_id: str, since: float, within: float) -> tuple[dict, float]:
    """The call's one Task, seen within ``within`` seconds of ``since``, and how long it took; none more
    comes after the reconciler's grace."""
    found: list[dict] = []
    while not found:
        assert time.time() - since < within, f"no Task for {call_id} within {within} s"
        found = tasks_for(stack, call_id)
        time.sleep(0.1)
    took = time.time() - since
    time.sleep(GRACE + 2)
    found = tasks_for(stack, call_id)
    assert len(found) == 1, found
    return found[0], took


def from_ledger(stack: Stack, call_id: str) -> bool:
    """Whether the worker's reconciler wrote the call's Task (else the live path did)."""
    text = "".join(stack.child(name).log.read_text(errors="replace") for name in stack.worker_names())
    return f"ledger: call {call_id} " in text


def assert_task(task: dict, *, agent: str, wait: float, duration: float, number: str, slack: float = 1) -> None:
    assert (task["CallType"], task["CallDisposition"], task["Service_Pool_Queue__c"], task["Phone_Number_2__c"]) == (
        "Inbound", "answered", QUEUE_LABEL, number)
    assert f"Agent: {agent}" in task["Description"]
    assert abs(task["Queue_Wait_Time_Sec__c"] - wait) <= 1, (task, wait)
    assert abs(task["CallDurationInSeconds"] - duration) <= slack, (task, duration)


def test_given_the_orchestrator_killed_mid_call_then_its_successor_adopts_the_call_and_writes_its_task(
        own_stack, browser, customers):
    page = agent_page(browser, own_stack)
    call_in(customers, "+358401000001", "Killed Orchestrator")
    call_id, answered = answer(page, rings_for=2.0)
    own_stack.kill_child("orchestrator")  # SIGKILL; the stack's supervisor starts it again after 0.5 s
    own_stack.wait_restarted("orchestrator")
    own_stack.wait_ready("orchestrator")  # running and resynced
    kept = kept_call(page, own_stack)  # the successor restored the agent's kept call
    assert kept is not None and (kept["call_id"], kept["queue"], kept["agent"]) == (call_id, "cs-en", "agent1")
    assert abs(kept["answered_at"] - answered) < 1
    time.sleep(max(0.0, answered + 6 - time.time()))
    ended = hang_up(page)
    task, took = one_task(own_stack, call_id, ended, within=5)
    assert_task(task, agent="agent1", wait=2, duration=6, number="+358401000001")
    assert not from_ledger(own_stack, call_id), "the live path should have written this Task"
    assert kept_call(page, own_stack) is None  # and cleared the kept call when the call ended
    print(f"\norchestrator killed mid-call: hang-up -> Task in {took * 1000:.0f} ms (live path, adopted call)")
    page.context.close()


def test_given_the_orchestrator_down_for_a_whole_call_then_the_ledger_gives_it_its_task(
        own_stack, browser, customers):
    page = agent_page(browser, own_stack)
    with orchestrator_down(own_stack):
        call_in(customers, "+358401000002", "Nobody Watching")
        call_id, answered = answer(page, rings_for=1.0)
        time.sleep(3.0)
        ended = hang_up(page)
        task, took = one_task(own_stack, call_id, ended, within=GRACE + 10)
    assert_task(task, agent="agent1", wait=1, duration=3, number="+358401000002")
    assert from_ledger(own_stack, call_id)
    time.sleep(GRACE)
    assert len(tasks_for(own_stack, call_id)) == 1
    print(f"\norchestrator down for the whole call: hang-up -> Task from the ledger in {took * 1000:.0f} ms")
    page.context.close()


def test_given_asterisk_restarted_mid_call_then_the_cut_call_gets_one_task(own_stack, browser, customers):
    page = agent_page(browser, own_stack)
    call_in(customers, "+358401000003", "Restarted Asterisk")
    call_id, answered = answer(page, rings_for=1.0)
    time.sleep(3.0)
    before = resyncs(own_stack)
    own_stack.asterisk.cli("core restart now", check=False)
    cut = time.time()
    task, took = one_task(own_stack, call_id, cut, within=GRACE + 10)
    # the restart ends the call between the command and its return: a second of slack more
    assert_task(task, agent="agent1", wait=1, duration=cut - answered, number="+358401000003", slack=2)
    resynced_since(own_stack, before)
    print(f"\ncore restart now mid-call: Task in {took * 1000:.0f} ms "
          f"({'ledger' if from_ledger(own_stack, call_id) else 'live path'})")
    page.context.close()


def test_given_asterisk_killed_while_the_orchestrator_is_down_then_the_boot_marker_ends_the_call(
        own_stack, browser, customers):
    page = agent_page(browser, own_stack)
    with orchestrator_down(own_stack):
        call_in(customers, "+358401000004", "Killed Asterisk")
        call_id, answered = answer(page, rings_for=1.0)
        time.sleep(2.0)
        own_stack.kill_child("asterisk")  # SIGKILL: no hang-up reaches the ledger
        own_stack.wait_restarted("asterisk")  # the supervisor starts it again: the boot marker
        own_stack.wait_ready("asterisk")
        booted = time.time()
        task, took = one_task(own_stack, call_id, booted, within=GRACE + 10)
    assert_task(task, agent="agent1", wait=1, duration=booted - answered, number="+358401000004")  # ends at the
    # boot marker
    assert from_ledger(own_stack, call_id)
    print(f"\nAsterisk killed, orchestrator down: boot -> Task from the ledger in {took * 1000:.0f} ms")
    page.context.close()


def test_given_every_call_of_this_module_then_the_ledger_and_the_call_history_agree(own_stack):
    from switchboard.store import Store

    ledger, calls = Ledger("FI"), {}
    mark = 0
    for raw in own_stack.asterisk.ledger_file.read_bytes().splitlines(keepends=True):
        line = parse_line(raw.decode().rstrip("\n"))
        if line is not None:
            calls.update((f.call.call_id, f) for f in ledger.feed(line, mark))
        mark += len(raw)
    store = Store(own_stack.settings.database_url)
    labels = {q.name: q.label for q in store.list_queues()}
    assert len(calls) >= 4
    for call_id, finished in calls.items():
        row = store.get_call(call_id)
        assert row is not None, f"call {call_id} of the ledger is not in the call history"
        s = call_summary(finished.call, finished.ended_at, labels, {})
        assert (row.agent, row.queue, row.disposition, row.direction, row.caller_number, row.caller_name) == (
            s["agent"], s["queue"], s["disposition"], s["direction"], s["caller_number"], s["caller_name"]), call_id
        assert abs(row.wait_seconds - s["wait_seconds"]) <= 1 and abs(row.duration_seconds - s["duration_seconds"]) <= 1
        assert row.answered_at is not None and finished.call.answered_at is not None
        answered_at = row.answered_at if row.answered_at.tzinfo else row.answered_at.replace(tzinfo=UTC)
        assert abs(answered_at.timestamp() - finished.call.answered_at) < 0.5, call_id
    store.engine.dispose()
