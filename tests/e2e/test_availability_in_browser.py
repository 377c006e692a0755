"""Availability from the page, in Chromium against the whole stack, each enforced in Asterisk (seed 1.2.2):
the "receive pool calls" toggle and the per-queue switches pause the agent's queue membership so a
queue call does not ring, and unpause it so the waiting call rings; OffWork takes no queue calls but
rings for a colleague's direct call (placed from the directory: the ringing card says Direct and
names the colleague, as the directory knows them) and still calls out; Busy takes queue calls; DND
refuses a direct call."""

from __future__ import annotations

import time

import pytest

from tests.support.phone import choose, customer_channel, hang_up_all, login, ring, shots, wait_audio, wait_state
from tests.support.stack import fresh_agent, member_line, wait_for

pytestmark = pytest.mark.e2e

CS_EN, CS_FI = "+35891000001", "+35891000002"
QUIET_SECONDS = 3.0  # how long a call that must not ring is watched


def stays_quiet(page) -> None:
    """The phone does not ring for QUIET_SECONDS."""
    deadline = time.monotonic() + QUIET_SECONDS
    while time.monotonic() < deadline:
        assert page.is_hidden("#incoming"), "the phone rang"
        time.sleep(0.1)


def paused(stack, agent: str, queue: str = "cs-en") -> bool:
    return "paused" in member_line(stack, agent, queue)


def reason_shown(page, queue: str) -> str:
    return page.text_content(f"#presence-queues li:has(#queue-toggle-{queue}) .queue-reason")


def test_pool_calls_off_pauses_the_agent_and_on_rings_the_waiting_call(browser, stack, customers):
    agent = fresh_agent(stack, prefix="pool")
    page = login(browser, stack, agent)
    try:
        page.wait_for_selector("#queue-toggle-cs-en", timeout=5000)
        page.uncheck("#pool-calls-toggle")
        wait_for(lambda: "paused:pool calls off" in member_line(stack, agent), 5, "not paused in Asterisk")
        page.wait_for_function("document.querySelector('#presence-queues .queue-reason').textContent"
                               " === 'paused: pool calls off'", timeout=5000)
        ring(customers, number="+358406660401", name="Pool Caller", queue_number=CS_EN)
        stays_quiet(page)
        assert paused(stack, agent)
        shots(page, "workflow-availability-pool-calls-off")

        page.check("#pool-calls-toggle")  # the caller still waits in the queue: now it rings here
        wait_for(lambda: not paused(stack, agent), 5, "still paused in Asterisk")
        page.wait_for_selector("#incoming", state="visible", timeout=10000)
        assert page.text_content("#caller-number") == "+358406660401"
        assert reason_shown(page, "cs-en") == "ringing"
        page.click("#answer")
        wait_state(page, "In call")
        page.wait_for_function("document.querySelector('#presence-queues .queue-reason').textContent"
                               " === 'on a call'", timeout=5000)
        page.click("#hangup")
        wait_state(page, "Call ended")
        page.wait_for_function("document.querySelector('#presence-queues .queue-reason').textContent"
                               " === 'taking calls'", timeout=5000)
    finally:
        customers.hang_up_all()
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_a_queue_switched_off_does_not_ring_and_another_queue_does(browser, stack, customers):
    agent = fresh_agent(stack, queue=("Customer Service EN", "Customer Service FI"), prefix="perq")
    page = login(browser, stack, agent)
    try:
        page.wait_for_selector("#queue-toggle-cs-fi", timeout=5000)
        page.uncheck("#queue-toggle-cs-en")
        wait_for(lambda: "paused:queue off" in member_line(stack, agent, "cs-en"), 5, "cs-en not paused")
        assert not paused(stack, agent, "cs-fi")
        page.wait_for_function("document.querySelector('#queue-toggle-cs-en').checked === false", timeout=5000)
        assert reason_shown(page, "cs-en") == "paused: queue off"
        assert reason_shown(page, "cs-fi") == "taking calls"
        ring(customers, number="+358406660402", name="Switched Off", queue_number=CS_EN)
        stays_quiet(page)
        shots(page, "workflow-availability-queue-switched-off")

        ring(customers, number="+358406660403", name="Other Queue", queue_number=CS_FI)
        page.wait_for_selector("#incoming", state="visible", timeout=10000)
        assert page.text_content("#caller-number") == "+358406660403"
        page.wait_for_function("document.querySelector('#queue-name').textContent === 'Customer Service FI'",
                               timeout=5000)
        page.click("#answer")
        wait_state(page, "In call")
        page.click("#hangup")  # ends this customer's call only; the cs-en caller still waits
        wait_state(page, "Call ended")

        page.check("#queue-toggle-cs-en")
        wait_for(lambda: not paused(stack, agent, "cs-en"), 5, "cs-en still paused")
        page.wait_for_selector("#incoming", state="visible", timeout=15000)
        assert page.text_content("#caller-number") == "+358406660402"
        page.wait_for_function("document.querySelector('#queue-name').textContent === 'Customer Service EN'",
                               timeout=5000)
        page.click("#decline")
    finally:
        customers.hang_up_all()
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()


def call_from_directory(page, name: str) -> None:
    """Find the colleague ``name`` in the directory and click to call them."""
    page.fill("#directory-search", name)
    item = page.locator("#directory-results .directory-item[data-type=agent]").filter(has_text=name).first
    item.wait_for(timeout=5000)
    item.click()


def test_offwork_takes_no_queue_call_but_a_colleagues_direct_call_and_calls_out(browser, stack, ami, customers):
    colleague = fresh_agent(stack, queue="Customer Service FI", prefix="dira")
    agent = fresh_agent(stack, prefix="offw")
    a = login(browser, stack, colleague)
    b = login(browser, stack, agent)
    try:
        choose(b, "OffWork")
        wait_for(lambda: "paused:OffWork" in member_line(stack, agent), 5, "OffWork does not pause queue calls")
        ring(customers, number="+358406660404", name="Queue Caller", queue_number=CS_EN)
        stays_quiet(b)
        customers.hang_up_all()

        call_from_directory(a, f"Workflow {agent}")
        assert a.text_content("#directory-results .directory-item .directory-presence") == "OffWork"
        b.wait_for_selector("#incoming", state="visible", timeout=10000)
        assert b.text_content("#queue-name") == "Direct"
        assert b.text_content("#caller-number") == colleague
        b.wait_for_selector("#caller-tag", state="visible", timeout=5000)  # the directory match
        assert b.text_content("#caller-tag") == "Colleague"
        assert b.text_content("#caller-name") == f"Workflow {colleague}"
        b.wait_for_function("document.querySelector('#wf-identity').dataset.kind === 'directory'", timeout=5000)
        assert b.locator("#wf-identity").is_hidden()  # the server names the colleague too: said once, on the card
        shots(b, "workflow-availability-offwork-direct-call")
        b.click("#answer")
        wait_state(b, "In call")
        wait_state(a, "In call")
        wait_audio(b)
        b.click("#hangup")
        wait_state(a, "Call ended")

        number = "+358405550404"  # OffWork: "able to make outbound phone calls"
        b.fill("#dial-number", number)
        b.click("#dial-call")
        wait_state(b, "In call")
        customer_channel(ami, number)
        b.click("#hangup")
        wait_state(b, "Call ended")
    finally:
        hang_up_all(stack)
    assert a.js_errors == [] and b.js_errors == []  # type: ignore[attr-defined]
    a.context.close()
    b.context.close()


def test_busy_takes_queue_calls_and_dnd_refuses_a_direct_call(browser, stack, customers):
    colleague = fresh_agent(stack, queue="Customer Service FI", prefix="dirb")
    agent = fresh_agent(stack, prefix="busy")
    a = login(browser, stack, colleague)
    b = login(browser, stack, agent)
    try:
        choose(b, "Busy")
        b.wait_for_function("document.querySelector('#presence-summary').textContent.startsWith('Busy')",
                            timeout=5000)
        assert not paused(stack, agent)
        ring(customers, number="+358406660405", name="Busy Is Reachable", queue_number=CS_EN)
        b.wait_for_selector("#incoming", state="visible", timeout=10000)
        b.click("#decline")
        customers.hang_up_all()
        wait_state(b, "Call ended")

        choose(b, "DND")
        wait_for(lambda: "paused:DND" in member_line(stack, agent), 5, "DND does not pause queue calls")
        call_from_directory(a, f"Workflow {agent}")
        wait_state(a, "Call ended", timeout=15000)  # refused: busy
        assert b.is_hidden("#incoming")
        assert b.evaluate("window.switchboardPhone.call.number") == "+358406660405"  # no call since the last
        shots(a, "workflow-availability-dnd-direct-refused")
    finally:
        hang_up_all(stack)
    assert a.js_errors == [] and b.js_errors == []  # type: ignore[attr-defined]
    a.context.close()
    b.context.close()
