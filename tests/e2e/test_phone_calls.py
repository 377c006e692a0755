"""End to end, all real: the browser phone places calls (keypad, history, /dial) through the real
Asterisk over the trunk to the carrier (a SIPp that answers and talks), mutes, holds (the customer hears
music on hold), sends keypad tones (Asterisk sees them), presents a checked display number (as the
carrier receives it), and transfers calls (blind and consult) of customers who called over the trunk."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.ami import AmiWatch, getvar
from tests.support.paths import ARTIFACTS
from tests.support.phone import customer_channel, hang_up_all, login, ring, wait_audio, wait_state

pytestmark = pytest.mark.e2e

CUSTOMER = "+358405556677"


def test_keypad_call_reaches_the_customer_with_audio_then_mute_hold_tones_and_escape(browser, stack, ami):
    page = login(browser, stack, "agent1")
    page.set_viewport_size({"width": 400, "height": 900})
    page.wait_for_function("document.querySelectorAll('#display-number option').length >= 2", timeout=5000)
    page.click("#dial-number")
    page.keyboard.type("+")
    for key in "3584055566779":
        page.click(f"#keypad button[data-key='{key}']")
    page.click("#dial-backspace")  # the extra 9 goes
    assert page.input_value("#dial-number") == CUSTOMER
    page.screenshot(path=str(ARTIFACTS / "e2e-dialer-400.png"), full_page=True)
    page.focus("#dial-number")
    page.keyboard.press("Enter")
    wait_state(page, "In call")
    assert page.text_content("#caller-number") == CUSTOMER
    wait_audio(page)
    agent_channel = ami.wait_for(lambda e: e.get("Event") == "Newchannel"
                                 and e.get("Channel", "").startswith("PJSIP/agent1-")
                                 and e.get("Exten") == CUSTOMER)["Channel"]
    cust = customer_channel(ami, CUSTOMER)
    page.screenshot(path=str(ARTIFACTS / "e2e-outbound-in-call-400.png"), full_page=True)

    page.click("#mute")
    page.wait_for_function("document.querySelector('#mute').getAttribute('aria-pressed') === 'true'")
    assert page.evaluate("window.switchboardPhone.core._session.connection.getSenders()"
                         ".every(s => !s.track || !s.track.enabled)")
    page.keyboard.press("Alt+m")
    page.wait_for_function("document.querySelector('#mute').getAttribute('aria-pressed') === 'false'")

    page.click("#hold")
    page.wait_for_function("document.querySelector('#hold').getAttribute('aria-pressed') === 'true'")
    moh = ami.wait_for(lambda e: e.get("Event") == "MusicOnHoldStart" and e.get("Channel") == cust)
    assert moh["Class"] == "default"
    page.screenshot(path=str(ARTIFACTS / "e2e-outbound-on-hold-400.png"), full_page=True)
    page.click("#hold")
    ami.wait_for(lambda e: e.get("Event") == "MusicOnHoldStop" and e.get("Channel") == cust)

    page.click("#keypad button[data-key='5']")
    page.keyboard.press("#")  # typed digits are tones during a call
    for digit in ("5", "#"):
        ami.wait_for(lambda e, d=digit: e.get("Event") == "DTMFEnd" and e.get("Channel") == agent_channel
                     and e.get("Digit") == d and e.get("Direction") == "Received")
    assert page.text_content("#dtmf-sent") == "5#"

    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "e2e-outbound-in-call-wide.png"), full_page=True)
    page.keyboard.press("Escape")
    wait_state(page, "Call ended")
    ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == cust)
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_history_lists_own_calls_newest_first_and_a_click_calls_back(browser, stack, ami):
    from switchboard.store import Store

    store = Store(stack.settings.database_url)
    now = datetime.now(UTC)
    for i, (agent, number, disposition) in enumerate([("agent2", "+358401111111", "answered"),
                                                       ("agent2", "+358402222222", "not answered"),
                                                       ("agent3", "+358409999999", "answered")]):
        store.record_call(call_id=f"9{i}.1", direction="inbound", caller_number=number, caller_name=f"Hist {i}",
                          queue="sales", agent=agent, disposition=disposition,
                          started_at=now - timedelta(minutes=10 - i), answered_at=None,
                          ended_at=now - timedelta(minutes=9 - i), duration_seconds=75 if i == 0 else 0)
    store.engine.dispose()
    page = login(browser, stack, "agent2")
    page.wait_for_selector("#history-list li", timeout=5000)
    numbers = page.eval_on_selector_all("#history-list .history-number", "els => els.map(e => e.textContent)")
    seeded = [n for n in numbers if n in ("+358401111111", "+358402222222")]  # agent2 may have real calls too
    assert seeded == ["+358402222222", "+358401111111"]  # newest first
    assert "+358409999999" not in numbers  # not agent2's
    answered = page.locator("#history-list li", has=page.locator(".history-number", has_text="+358401111111"))
    assert answered.locator(".history-result").text_content() == "1:15"
    page.screenshot(path=str(ARTIFACTS / "e2e-history.png"), full_page=True)
    answered.locator("button").click()
    wait_state(page, "In call")
    customer_channel(ami, "+358401111111")
    wait_audio(page)
    page.click("#hangup")
    wait_state(page, "Call ended")
    page.context.close()


def test_dial_link_opens_the_phone_and_calls(browser, stack, ami):
    page = login(browser, stack, "agent3")
    page.goto(f"{stack.settings.public_url}/dial?number=%2B358%2040%20777%208888")
    wait_state(page, "In call", timeout=15000)
    assert page.text_content("#caller-number") == "+358407778888"
    assert "dial=" not in page.url  # a reload does not call again
    customer_channel(ami, "+358407778888")
    page.keyboard.press("Escape")
    wait_state(page, "Call ended")
    page.goto(f"{stack.settings.public_url}/dial?number=0401234567&call=0")
    page.wait_for_function("document.querySelector('#reg-status').textContent.trim() === 'Registered'")
    assert page.input_value("#dial-number") == "0401234567"
    assert page.is_hidden("#call")
    page.context.close()


def dialled(ami: AmiWatch, carrier, number: str) -> dict[str, str]:
    """How the customer at ``number`` was called: the DialBegin towards them (CallerIDNum: the number
    Asterisk shows them) and the From header of the INVITE that reached the carrier."""
    begin = ami.wait_for(lambda e: e.get("Event") == "DialBegin" and e.get("DialString") == f"{number}@trunk")
    return {**begin, "From": carrier.invite_to(number).header("From") or ""}


def test_display_number_is_checked_by_the_dialplan(browser, stack, ami, carrier):
    page = login(browser, stack, "agent3")  # member of Customer Service FI (+35891000002)
    page.wait_for_function("document.querySelectorAll('#display-number option').length >= 2", timeout=5000)
    kinds = page.eval_on_selector_all("#display-number option", "els => els.map(e => e.value)")
    assert kinds == ["default", "hidden", "queue:cs-fi"]

    def call(number: str, kind: str, tamper: str = "") -> dict[str, str]:
        page.select_option("#display-number", kind)
        if tamper:  # a page that forges a token for a queue it is not in
            assert page.evaluate("([n, t]) => window.switchboardPhone.core.dial(n, "
                                 "{display: {kind: 'queue:sales', token: t}})", [number, tamper])
        else:
            page.fill("#dial-number", number)
            page.click("#dial-call")
        wait_state(page, "In call")
        chan = dialled(ami, carrier, number)
        chan["pres"] = getvar(stack, customer_channel(ami, number), "CONNECTEDLINE(pres)")  # the caller it is sent
        page.keyboard.press("Escape")
        wait_state(page, "Call ended")
        return chan

    queue = call("+358401000001", "queue:cs-fi")
    assert queue["CallerIDNum"] == "+35891000002"
    assert "<sip:+35891000002@" in queue["From"]  # what reached the carrier
    assert call("+358401000005", "default")["CallerIDNum"] == "+35891000000"
    forged = f"+35891000003~{int(time.time()) + 3600}~{'0' * 40}"
    forged_call = call("+358401000003", "default", tamper=forged)
    assert forged_call["CallerIDNum"] == "+35891000000" and "<sip:+35891000000@" in forged_call["From"]
    assert call("+358401000002", "default")["pres"].startswith("allowed")
    hidden = call("+358401000004", "hidden")
    assert hidden["pres"].startswith("prohib")  # the customer sees no number
    assert "+35891000000" not in hidden["From"] and "anonymous" in hidden["From"].lower(), hidden["From"]
    page.context.close()


def test_blind_transfer_of_a_queue_call_to_another_agent(browser, stack, ami, customers):
    agent1 = login(browser, stack, "agent1")
    agent2 = login(browser, stack, "agent2")
    ring(customers, number="+358406660001", name="Blind Transfer", queue_number="+35891000002")  # cs-fi: agent1
    agent1.wait_for_selector("#incoming", state="visible", timeout=10000)
    agent1.click("#answer")
    wait_state(agent1, "In call")
    wait_audio(agent1)
    agent1.fill("#transfer-target", "agent2")
    agent1.screenshot(path=str(ARTIFACTS / "e2e-transfer-controls.png"), full_page=True)
    agent1.click("#transfer-blind")
    agent2.wait_for_selector("#incoming", state="visible", timeout=10000)
    assert agent2.text_content("#caller-number") == "+358406660001"
    wait_state(agent1, "Call ended")
    agent2.click("#answer")
    wait_state(agent2, "In call")
    wait_audio(agent2)
    agent2.click("#hangup")
    wait_state(agent2, "Call ended")
    hang_up_all(stack)
    agent1.context.close()
    agent2.context.close()


@pytest.mark.parametrize("complete", [True, False], ids=["completed", "cancelled"])
def test_consult_transfer_of_a_queue_call(browser, stack, ami, customers, complete):
    agent1 = login(browser, stack, "agent1")
    agent2 = login(browser, stack, "agent2")
    number = "+358406660002" if complete else "+358406660003"
    customer = ring(customers, number=number, name="Consult Transfer", queue_number="+35891000002")
    agent1.wait_for_selector("#incoming", state="visible", timeout=10000)
    agent1.click("#answer")
    wait_state(agent1, "In call")
    wait_audio(agent1)
    agent1.fill("#transfer-target", "agent2")
    agent1.click("#transfer-consult")
    agent1.wait_for_function("document.querySelector('#hold').getAttribute('aria-pressed') === 'true'")
    ami.wait_for(lambda e: e.get("Event") == "MusicOnHoldStart"  # the customer hears music on hold
                 and e.get("Channel") == customer.channel())
    agent2.wait_for_selector("#incoming", state="visible", timeout=10000)
    agent2.click("#answer")
    wait_state(agent2, "In call")
    agent1.wait_for_function("document.querySelector('#consult-text').textContent.startsWith('Talking to')")
    agent1.screenshot(path=str(ARTIFACTS / "e2e-consult.png"), full_page=True)
    if complete:
        agent1.click("#consult-complete")
        wait_state(agent1, "Call ended")
        time.sleep(1.0)
        assert agent2.text_content("#call-state") == "In call"  # now with the customer
        wait_audio(agent2)
        agent2.click("#hangup")
        wait_state(agent2, "Call ended")
    else:
        agent1.click("#consult-cancel")
        wait_state(agent2, "Call ended")
        agent1.wait_for_function("document.querySelector('#hold').getAttribute('aria-pressed') === 'false'")
        assert agent1.is_hidden("#consult")
        assert agent1.text_content("#call-state") == "In call"
        agent1.click("#hangup")
        wait_state(agent1, "Call ended")
    hang_up_all(stack)
    assert agent1.js_errors == [] and agent2.js_errors == []  # type: ignore[attr-defined]
    agent1.context.close()
    agent2.context.close()


def test_blind_transfer_of_a_queue_call_to_a_queue_number(browser, stack, ami, customers):
    agent1 = login(browser, stack, "agent1")  # Customer Service EN
    agent3 = login(browser, stack, "agent3")  # Customer Service FI (+35891000002)
    ring(customers, number="+358406660004", name="Queue Transfer", queue_number="+35891000001")
    agent1.wait_for_selector("#incoming", state="visible", timeout=10000)
    agent1.click("#answer")
    wait_state(agent1, "In call")
    wait_audio(agent1)
    agent1.fill("#transfer-target", "+35891000002")
    agent1.click("#transfer-blind")
    wait_state(agent1, "Call ended")
    agent3.wait_for_selector("#incoming", state="visible", timeout=15000)
    assert agent3.text_content("#caller-number") == "+358406660004"
    agent3.wait_for_function("document.querySelector('#queue-name').textContent === 'Customer Service FI'",
                             timeout=5000)
    agent3.click("#answer")
    wait_state(agent3, "In call")
    wait_audio(agent3)
    agent3.click("#hangup")
    wait_state(agent3, "Call ended")
    hang_up_all(stack)
    assert agent1.js_errors == [] and agent3.js_errors == []  # type: ignore[attr-defined]
    agent1.context.close()
    agent3.context.close()


def test_blind_transfer_of_a_queue_call_to_an_external_number(browser, stack, ami, customers):
    agent1 = login(browser, stack, "agent1")
    customer = ring(customers, number="+358406660005", name="External Transfer", queue_number="+35891000001")
    agent1.wait_for_selector("#incoming", state="visible", timeout=10000)
    agent1.click("#answer")
    wait_state(agent1, "In call")
    wait_audio(agent1)
    agent1.fill("#transfer-target", "+358407770005")
    agent1.click("#transfer-blind")
    external = customer_channel(ami, "+358407770005")  # the external party is dialled over the trunk
    wait_state(agent1, "Call ended")
    ami.wait_for(lambda e: e.get("Event") == "BridgeEnter" and e.get("Channel") == external)
    assert customer.running  # the caller talks to the external party now
    time.sleep(1.0)
    assert agent1.text_content("#call-state") == "Call ended"  # still free: nothing rings back
    assert agent1.is_hidden("#incoming")
    agent1.fill("#dial-number", "+358407770006")  # and free to place the next call
    agent1.click("#dial-call")
    wait_state(agent1, "In call")
    agent1.keyboard.press("Escape")
    wait_state(agent1, "Call ended")
    hang_up_all(stack)
    assert agent1.js_errors == []  # type: ignore[attr-defined]
    agent1.context.close()
