"""More transfers in Chromium against the whole stack: a consult (warm) transfer of a queue call to a
queue number, where the consulted queue rings another agent who then has the customer, and to an external
number (the carrier over the trunk). The customer calls over the trunk."""

from __future__ import annotations

import time

import pytest

from tests.support.paths import ARTIFACTS
from tests.support.phone import customer_channel, hang_up_all, login, ring, wait_audio, wait_state

pytestmark = pytest.mark.e2e


def test_consult_transfer_of_a_queue_call_to_a_queue_number(browser, stack, ami, customers):
    agent1 = login(browser, stack, "agent1")  # Customer Service EN
    agent3 = login(browser, stack, "agent3")  # Customer Service FI (+35891000002)
    number = "+358406660007"
    customer = ring(customers, number=number, name="Consult Queue", queue_number="+35891000001")
    agent1.wait_for_selector("#incoming", state="visible", timeout=10000)
    agent1.click("#answer")
    wait_state(agent1, "In call")
    wait_audio(agent1)
    cust = customer.channel()
    agent1.fill("#transfer-target", "+35891000002")
    agent1.click("#transfer-consult")
    agent1.wait_for_function("document.querySelector('#hold').getAttribute('aria-pressed') === 'true'")
    ami.wait_for(lambda e: e.get("Event") == "MusicOnHoldStart" and e.get("Channel") == cust)  # customer on hold
    agent3.wait_for_selector("#incoming", state="visible", timeout=15000)
    agent3.wait_for_function("document.querySelector('#queue-name').textContent === 'Customer Service FI'",
                             timeout=5000)
    agent3.click("#answer")
    wait_state(agent3, "In call")
    agent1.wait_for_function("document.querySelector('#consult-text').textContent.startsWith('Talking to')",
                             timeout=10000)
    agent1.screenshot(path=str(ARTIFACTS / "e2e-consult-queue.png"), full_page=True)
    agent1.click("#consult-complete")
    wait_state(agent1, "Call ended")
    # The customer is taken off hold and bridged to agent3.
    ami.wait_for(lambda e: e.get("Event") == "MusicOnHoldStop" and e.get("Channel") == cust)
    time.sleep(1.0)
    assert agent3.text_content("#call-state") == "In call"  # now with the customer
    before = wait_audio(agent3)
    time.sleep(1.0)
    assert agent3.evaluate("window.switchboardPhone.stats()") > before, "agent3 hears nothing after the transfer"
    hangups = len([e for e in ami.events if e.get("Event") == "Hangup" and e.get("Channel") == cust])
    assert hangups == 0, "the customer was hung up by the transfer"
    agent3.click("#hangup")
    wait_state(agent3, "Call ended")
    ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == cust)  # the customer's call ends
    hang_up_all(stack)
    assert agent1.js_errors == [] and agent3.js_errors == []  # type: ignore[attr-defined]
    agent1.context.close()
    agent3.context.close()


def test_consult_transfer_of_a_queue_call_to_an_external_number(browser, stack, ami, customers):
    agent1 = login(browser, stack, "agent1")
    customer = ring(customers, number="+358406660008", name="Consult Out", queue_number="+35891000001")
    agent1.wait_for_selector("#incoming", state="visible", timeout=10000)
    agent1.click("#answer")
    wait_state(agent1, "In call")
    wait_audio(agent1)
    cust = customer.channel()
    external = "+358407770011"
    agent1.fill("#transfer-target", external)
    agent1.click("#transfer-consult")
    ami.wait_for(lambda e: e.get("Event") == "MusicOnHoldStart" and e.get("Channel") == cust)  # customer on hold
    ext = customer_channel(ami, external)  # the external party, over the trunk, answers the consultation
    agent1.wait_for_function("document.querySelector('#consult-text').textContent.startsWith('Talking to')",
                             timeout=10000)
    agent1.click("#consult-complete")
    wait_state(agent1, "Call ended")
    ami.wait_for(lambda e: e.get("Event") == "MusicOnHoldStop" and e.get("Channel") == cust)
    time.sleep(1.0)
    hangups = [e for e in ami.events if e.get("Event") == "Hangup" and e.get("Channel") == cust]
    assert hangups == [], "the customer was hung up by the transfer"
    bridged = [e for e in ami.events if e.get("Event") == "BridgeEnter" and e.get("Channel") == ext]
    assert bridged, "the external party was never bridged"
    hang_up_all(stack)
    assert agent1.js_errors == []  # type: ignore[attr-defined]
    agent1.context.close()
