"""An agent on a SIP phone, in Chromium against the whole stack: SIPp registers the agent (device ``sip``)
and plays the desk phone. The page registers no web phone: it says the desk phone is registered, rings
with the caller's identification and queue while the phone rings, says "Answer on your phone", follows
the answer on the phone (timer from the server's answer), and hangs up and transfers through the
server (the phone gets the BYE, the customer is never dropped, one Task lands); a consult transfer from
the page puts the customer on hold, rings the colleague, shows the consultation and completes it."""

from __future__ import annotations

import itertools
import time
from contextlib import contextmanager

import pytest

from control.stack import DEMO_PASSWORD
from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME
from tests.support.paths import ARTIFACTS
from tests.support.phone import login, submit_login
from tests.support.phone import wait_state as wait_card
from tests.support.sipagent import SipAgentPhones, make_sip_agents
from tests.support.stack import one_task

pytestmark = pytest.mark.e2e

CS_FI = "+35891000002"
_numbers = itertools.count(1)


@pytest.fixture
def desk_agent(stack) -> str:
    """A new agent of Customer Service FI on a SIP phone (provisioned, not yet registered)."""
    name = f"desk{next(_numbers)}x{int(time.time()) % 10000}"
    make_sip_agents(stack, [name], queues=["cs-fi"], password=DEMO_PASSWORD)
    return name


def open_desk_page(browser, stack, username: str):
    """The phone page of a SIP-phone agent, logged in, its desk phone registered and its events live."""
    context = browser.new_context(viewport={"width": 1100, "height": 760}, bypass_csp=True)
    page = context.new_page()
    errors = submit_login(page, stack, username)
    page.wait_for_function("document.querySelector('#reg-status').textContent.trim() === 'Desk phone registered'",
                           timeout=15000)
    page.wait_for_function("document.querySelector('#link-status').dataset.state === 'connected'", timeout=15000)
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


def wait_state(page, text: str, timeout: float = 15000) -> None:
    """The call card says ``text`` (a desk phone's answer may take a few seconds)."""
    wait_card(page, text, timeout)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"sip-phone-{name}.png"), full_page=True)


def test_given_a_sip_phone_agent_then_the_page_rings_with_the_caller_the_phone_answers_and_the_page_hangs_up(
        browser, stack, desk_agent, customers):
    with SipAgentPhones(stack, [desk_agent], answer_after=3, talk_time=0) as phones:
        page = open_desk_page(browser, stack, desk_agent)
        assert page.is_visible("#desk-phone") and page.is_hidden("#dial-form")
        customer = customers.call(CS_FI, DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME)
        try:
            page.wait_for_selector("#incoming", state="visible", timeout=10000)
            assert page.text_content("#call-state") == "Ringing"
            assert page.text_content("#caller-number").strip() == DEMO_CALLER_NUMBER
            assert page.text_content("#queue-name") == "Customer Service FI"
            assert page.is_visible("#answer-on-phone") and page.is_hidden("#answer")
            # the caller identified in Salesforce while it rings (the workflow runs as for the web phone)
            page.wait_for_function("document.querySelector('#wf-id-name').textContent.includes('Virtanen')",
                                   timeout=8000)
            shot(page, "ringing")
            assert phones.invites(desk_agent) == 1

            wait_state(page, "In call")  # the desk phone answered
            call_id = page.evaluate("window.switchboardPhone.currentCallId()")
            page.wait_for_function("document.querySelector('#call-timer').textContent >= '00:02'", timeout=6000)
            assert page.is_visible("#hangup") and page.is_visible("#transfer-blind")
            assert page.is_visible("#transfer-consult")
            assert page.is_hidden("#mute") and page.is_hidden("#hold")
            shot(page, "in-call")

            page.click("#hangup")
            wait_state(page, "Call ended", 5000)
            outcome = customer.wait(10)
            assert outcome.ok and outcome.ended_by == "network", outcome
        finally:
            customer.stop()
        assert phones.received("BYE", desk_agent) == 1  # the phone was hung up by Asterisk
        time.sleep(1.5)
        assert phones.invites(desk_agent) == 1  # and not rung again: a real hang-up
        shot(page, "ended")
    task = one_task(stack, call_id)
    assert task["Service_Pool_Queue__c"] == "Customer Service FI" and task["CallDisposition"] == "answered"
    assert task["CallDurationInSeconds"] >= 2
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()


@contextmanager
def desk_call_for_ben(browser, stack, desk_agent: str, customers, number: str, name: str):  # noqa: ANN001, ANN201
    """Ben Agent (agent2) on the web phone; ``desk_agent``'s page, their phone (answering after 1 s) in a call
    from ``number``, and "ben agent" typed as the transfer target: (page, colleague, phones, customer, call id)."""
    colleague = login(browser, stack, "agent2")
    with SipAgentPhones(stack, [desk_agent], answer_after=1, talk_time=0) as phones:
        page = open_desk_page(browser, stack, desk_agent)
        customer = customers.call(CS_FI, number, name)
        try:
            wait_state(page, "In call")
            call_id = page.evaluate("window.switchboardPhone.currentCallId()")
            page.wait_for_function("document.querySelectorAll('#transfer-targets option').length >= 3",
                                   timeout=5000)
            page.fill("#transfer-target", "ben agent")
            yield page, colleague, phones, customer, call_id
        finally:
            customer.stop()


def test_given_a_sip_phone_agent_in_a_call_when_they_transfer_from_the_page_to_a_colleague_then_the_colleague_rings(
        browser, stack, desk_agent, customers):
    with desk_call_for_ben(browser, stack, desk_agent, customers, "+358405550777", "Transfer Customer") as (
            page, colleague, phones, customer, call_id):
        assert page.text_content("#transfer-resolved") == "Agent Ben Agent · agent2"
        shot(page, "transfer")
        page.click("#transfer-blind")
        wait_state(page, "Call ended", 5000)
        page.wait_for_function(
            "document.querySelector('#transfer-status').textContent === 'Transfer to Ben Agent done.'")
        shot(page, "transferred")

        colleague.wait_for_selector("#incoming", state="visible", timeout=10000)
        assert colleague.text_content("#caller-number").strip() == "+358405550777"
        colleague.click("#answer")
        colleague.wait_for_function("document.querySelector('#call-state').textContent === 'In call'",
                                    timeout=10000)
        assert phones.received("BYE", desk_agent) == 1  # the desk phone left the call
        assert customer.running  # the customer goes on, with Ben
        colleague.click("#hangup")
        outcome = customer.wait(10)
        assert outcome.ok and outcome.ended_by == "network", outcome
        assert phones.invites(desk_agent) == 1
    assert one_task(stack, call_id)["CallDisposition"] == "answered"
    assert page.js_errors == [] and colleague.js_errors == []  # type: ignore[attr-defined]
    page.context.close()
    colleague.context.close()


def test_given_a_sip_phone_agent_in_a_call_when_they_consult_a_colleague_from_the_page_then_complete_joins_them(
        browser, stack, desk_agent, customers):
    with desk_call_for_ben(browser, stack, desk_agent, customers, "+358405550779", "Consult Customer") as (
            page, colleague, phones, customer, call_id):
        page.click("#transfer-consult")
        page.wait_for_selector("#consult", state="visible", timeout=5000)
        assert page.text_content("#consult-text") == "Calling Ben Agent…"
        assert page.is_disabled("#consult-complete") and page.is_hidden("#transfer-blind")

        colleague.wait_for_selector("#incoming", state="visible", timeout=10000)
        assert colleague.text_content("#caller-number").strip() == "+358405550779"  # whose call it is
        colleague.click("#answer")
        page.wait_for_function("document.querySelector('#consult-text').textContent === 'Talking to Ben Agent'",
                               timeout=8000)
        assert page.text_content("#call-state") == "In call" and customer.running  # on hold, not dropped
        shot(page, "consulting")
        page.click("#consult-complete")
        wait_state(page, "Call ended", 8000)
        shot(page, "consult-completed")
        deadline = time.monotonic() + 5
        while phones.received("BYE", desk_agent) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert phones.received("BYE", desk_agent) == 1  # the desk phone left the call
        colleague.wait_for_function("document.querySelector('#call-state').textContent === 'In call'",
                                    timeout=5000)
        time.sleep(2)
        assert customer.running and colleague.text_content("#call-state") == "In call"  # customer with Ben
        colleague.click("#hangup")
        outcome = customer.wait(10)
        assert outcome.ok and outcome.ended_by == "network", outcome
        assert phones.invites(desk_agent) == 1
    task = one_task(stack, call_id)
    assert task["CallDisposition"] == "answered" and "Agent: agent2" in task["Description"]
    assert page.js_errors == [] and colleague.js_errors == []  # type: ignore[attr-defined]
    page.context.close()
    colleague.context.close()


def test_given_a_sip_phone_agent_when_the_page_loads_mid_call_then_it_shows_the_call_and_its_timer(
        browser, stack, desk_agent, customers):
    with SipAgentPhones(stack, [desk_agent], answer_after=1, talk_time=0):
        customer = customers.call(CS_FI, "+358405550778", "Late Page")
        try:
            time.sleep(4)  # answered on the phone 3 s ago, before any page was open
            page = open_desk_page(browser, stack, desk_agent)
            wait_state(page, "In call", 5000)
            assert page.text_content("#caller-number").strip() == "+358405550778"
            assert page.text_content("#call-timer") >= "00:02"
            page.click("#hangup")
            wait_state(page, "Call ended", 5000)
            assert customer.wait(10).ok
        finally:
            customer.stop()
    page.context.close()
