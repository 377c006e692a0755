"""Transfers to a queue or an agent picked by name (Genesys routine sections 8-10: "type the number or
the name of the queue"), in Chromium against the whole stack: the transfer box offers every queue
and colleague, says what a name resolves to, and the call lands there, blind or after a consultation,
from an inbound queue call and from the agent's own outbound call."""

from __future__ import annotations

import time

import pytest

from tests.support.phone import customer_channel, hang_up_all, login, ring, shots, wait_audio, wait_state
from tests.support.stack import fresh_agent

pytestmark = pytest.mark.e2e


def options(page) -> list[list[str]]:
    """The transfer box's suggestions: [value, label] each."""
    page.wait_for_function("document.querySelectorAll('#transfer-targets option').length >= 3", timeout=5000)
    return page.eval_on_selector_all("#transfer-targets option", "els => els.map(o => [o.value, o.label])")


def test_blind_transfer_of_an_outbound_call_to_a_queue_picked_by_name(browser, stack, ami):
    caller = login(browser, stack, fresh_agent(stack, prefix="xfo"))  # Customer Service EN only
    agent3 = login(browser, stack, "agent3")  # Customer Service FI (+35891000002)
    number = "+358405550301"
    caller.fill("#dial-number", number)
    caller.click("#dial-call")
    wait_state(caller, "In call")
    wait_audio(caller)
    cust = customer_channel(ami, number)

    offered = options(caller)
    assert ["Customer Service EN", "Queue · +35891000001 · my queue"] in offered
    assert ["Customer Service FI", "Queue · +35891000002"] in offered
    assert any(value == "Carla Agent" and label.startswith("Agent") for value, label in offered)
    caller.fill("#transfer-target", "customer service fi")  # the name as typed, any case
    assert caller.text_content("#transfer-resolved") == "Queue Customer Service FI · +35891000002"
    shots(caller, "workflow-transfer-by-name-outbound")
    caller.click("#transfer-blind")
    wait_state(caller, "Call ended")
    assert caller.text_content("#transfer-status").startswith("Transfer to Customer Service FI")

    agent3.wait_for_selector("#incoming", state="visible", timeout=15000)
    agent3.wait_for_function("document.querySelector('#queue-name').textContent === 'Customer Service FI'",
                             timeout=5000)
    agent3.click("#answer")
    wait_state(agent3, "In call")
    wait_audio(agent3)  # the customer the caller rang out to, now in Customer Service FI
    assert [e for e in ami.events if e.get("Event") == "Hangup" and e.get("Channel") == cust] == []
    agent3.click("#hangup")
    wait_state(agent3, "Call ended")
    ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == cust)
    hang_up_all(stack)
    assert caller.js_errors == [] and agent3.js_errors == []  # type: ignore[attr-defined]
    caller.context.close()
    agent3.context.close()


def test_consult_transfer_of_a_queue_call_to_an_agent_picked_by_name(browser, stack, ami, customers):
    first = fresh_agent(stack, prefix="xfc")  # Customer Service EN: takes the customer's call
    second = fresh_agent(stack, queue="Customer Service FI", prefix="xft")
    colleague = f"Workflow {second}"  # fresh_agent's display name
    a = login(browser, stack, first)
    b = login(browser, stack, second)
    ring(customers, number="+358406660301", name="Consult By Name", queue_number="+35891000001")
    a.wait_for_selector("#incoming", state="visible", timeout=10000)
    a.click("#answer")
    wait_state(a, "In call")
    wait_audio(a)

    assert any(value == colleague for value, _label in options(a))
    a.fill("#transfer-target", colleague)
    assert a.text_content("#transfer-resolved") == f"Agent {colleague} · {second}"
    a.click("#transfer-consult")
    a.wait_for_function("document.querySelector('#hold').getAttribute('aria-pressed') === 'true'")
    b.wait_for_selector("#incoming", state="visible", timeout=10000)
    assert b.text_content("#caller-number") == first  # the colleague consulting, not the customer yet
    b.click("#answer")
    wait_state(b, "In call")
    a.wait_for_function(f"document.querySelector('#consult-text').textContent === 'Talking to {colleague}'",
                        timeout=10000)
    shots(a, "workflow-transfer-by-name-consult")
    a.click("#consult-complete")
    wait_state(a, "Call ended")
    assert a.text_content("#transfer-status").startswith(f"Consult transfer to {colleague}")
    time.sleep(1.0)
    assert b.text_content("#call-state") == "In call"  # now with the customer
    before = wait_audio(b)
    time.sleep(1.0)
    assert b.evaluate("window.switchboardPhone.stats()") > before, "the colleague hears nothing after the transfer"
    b.click("#hangup")
    wait_state(b, "Call ended")
    hang_up_all(stack)
    assert a.js_errors == [] and b.js_errors == []  # type: ignore[attr-defined]
    a.context.close()
    b.context.close()
