"""No call type drops when the agent's page reloads or loses its network (issue 5): an outbound call (to
the carrier over the trunk), a colleague's (direct) call on either side, a call blind-transferred to the
agent, and a queue call (a customer over the trunk) whose page goes offline for a few seconds. Each time
the other party's own channel stays up and hears music on hold (AMI MusicOnHoldStart) while the agent is
away, the page is back on the same call (same call id, caller details, timer counting on) within 10 s
with audio flowing again, and one Task lands at the end.
A call consult-transferred to the agent comes back too (the music then plays on the server leg next to
the customer, and the timer starts again: see docs/architecture.md)."""

from __future__ import annotations

import time

import pytest

from tests.support.paths import ARTIFACTS
from tests.support.phone import hang_up_all, login, wait_audio, wait_state
from tests.support.reconnect import (
    BACK_WITHIN,
    answer_queue_call,
    assert_taken_back,
    events_since,
    place_outbound_call,
    reload,
    wait_back,
    wait_event_since,
)
from tests.support.stack import one_task

pytestmark = pytest.mark.e2e


def test_outbound_call_survives_two_reloads(browser, stack, ami):
    number = "+358407001001"
    page = login(browser, stack, "agent2")
    cust, call_id = place_outbound_call(page, ami, number)
    answered = time.monotonic()
    time.sleep(2.2)
    for _ in range(2):  # the second time the customer's channel already is the one that dialled the agent
        mark, started = reload(page, ami)
        away = wait_back(page, call_id, started)
        assert_taken_back(page, ami, mark, cust, call_id, away, started - answered, number, "Outbound")
        print(f"\ne2e: outbound call, reload -> same call back in {away.seconds * 1000:.0f} ms")
    page.click("#hangup")
    wait_state(page, "Call ended")
    task = one_task(stack, call_id)
    assert task["CallType"] == "Outbound" and task["CallDisposition"] == "answered"
    assert task["CallDurationInSeconds"] >= 4  # the whole call, across both reloads
    page.context.close()


def test_colleagues_call_survives_a_reload_on_either_side(browser, stack, ami):
    agent1 = login(browser, stack, "agent1")
    agent2 = login(browser, stack, "agent2")
    agent1.fill("#dial-number", "agent2")
    agent1.click("#dial-call")
    agent2.wait_for_selector("#incoming", state="visible", timeout=10000)
    assert agent2.text_content("#queue-name").strip() == "Direct"
    agent2.click("#answer")
    wait_state(agent2, "In call")
    wait_state(agent1, "In call")
    wait_audio(agent2)
    caller = ami.wait_for(lambda e: e.get("Event") == "Newchannel" and e.get("Exten") == "agent2"
                          and e.get("Channel", "").startswith("PJSIP/agent1-"))["Channel"]
    callee = ami.wait_for(lambda e: e.get("Event") == "DialBegin" and e.get("Channel") == caller)["DestChannel"]
    call_id = agent2.evaluate("window.switchboardPhone.currentCallId()")
    assert call_id
    answered = time.monotonic()
    time.sleep(2.2)

    mark, started = reload(agent2, ami)  # the callee: agent1's own channel holds the call
    away = wait_back(agent2, call_id, started)
    assert_taken_back(agent2, ami, mark, caller, call_id, away, started - answered, "agent1", "Direct")
    print(f"\ne2e: colleague's call, callee reloads -> back in {away.seconds * 1000:.0f} ms")

    callee = next(e["DestChannel"] for e in ami.events[mark:] if e.get("Event") == "DialBegin"
                  and e.get("Channel") == caller)  # agent1's channel rang agent2's new registration
    mark, started = reload(agent1, ami)  # the caller: agent2's (new) channel holds it
    away = wait_back(agent1, call_id, started)
    assert_taken_back(agent1, ami, mark, callee, call_id, away, started - answered, "agent2", "Outbound")
    print(f"e2e: colleague's call, caller reloads -> back in {away.seconds * 1000:.0f} ms")

    agent1.click("#hangup")
    wait_state(agent2, "Call ended")
    task = one_task(stack, call_id)
    assert task["CallDisposition"] == "answered" and task["CallDurationInSeconds"] >= 4
    assert agent1.js_errors == [] and agent2.js_errors == []  # type: ignore[attr-defined]
    agent1.context.close()
    agent2.context.close()


def test_call_blind_transferred_to_the_agent_survives_a_reload(browser, stack, ami, customers):
    number = "+358406661001"
    agent1 = login(browser, stack, "agent1")
    agent2 = login(browser, stack, "agent2")
    cust, _ = answer_queue_call(agent1, customers, number, "Transferred Reload", "+35891000002")  # cs-fi
    agent1.fill("#transfer-target", "agent2")
    agent1.click("#transfer-blind")
    agent2.wait_for_selector("#incoming", state="visible", timeout=10000)
    wait_state(agent1, "Call ended")
    agent2.click("#answer")
    wait_state(agent2, "In call")
    wait_audio(agent2)
    call_id = agent2.evaluate("window.switchboardPhone.currentCallId()")
    assert call_id
    answered = time.monotonic()
    time.sleep(2.2)

    mark, started = reload(agent2, ami)
    away = wait_back(agent2, call_id, started)
    assert_taken_back(agent2, ami, mark, cust, call_id, away, started - answered, number, "Customer Service FI")
    assert agent2.text_content("#caller-name").strip() == "Transferred Reload"
    print(f"\ne2e: transferred call, reload -> same call back in {away.seconds * 1000:.0f} ms")
    agent1.reload()  # agent1 gave the call away: nothing comes back to them
    agent1.wait_for_function("document.querySelector('#reg-status').textContent.trim() === 'Registered'",
                             timeout=15000)
    time.sleep(1.0)
    assert agent1.is_hidden("#call") and agent1.is_hidden("#reg-detail")

    agent2.click("#hangup")
    wait_state(agent2, "Call ended")
    task = one_task(stack, call_id)
    assert task["CallDisposition"] == "answered" and task["Service_Pool_Queue__c"] == "Customer Service FI"
    hang_up_all(stack)
    agent1.context.close()
    agent2.context.close()


def test_call_consult_transferred_to_the_agent_survives_a_reload(browser, stack, ami, customers):
    number = "+358406661003"
    agent1 = login(browser, stack, "agent1")
    agent2 = login(browser, stack, "agent2")
    cust, call_id = answer_queue_call(agent1, customers, number, "Consulted Reload", "+35891000002")
    agent1.fill("#transfer-target", "agent2")
    agent1.click("#transfer-consult")
    agent2.wait_for_selector("#incoming", state="visible", timeout=10000)
    agent2.click("#answer")
    wait_state(agent2, "In call")
    agent1.wait_for_function("document.querySelector('#consult-text').textContent.startsWith('Talking to')")
    agent1.click("#consult-complete")
    wait_state(agent1, "Call ended")
    time.sleep(1.0)
    wait_audio(agent2)

    mark, started = reload(agent2, ami)
    # the joined call now has the customer's call id; the page answers the reconnect by itself
    agent2.wait_for_function(
        "([id]) => { const p = window.switchboardPhone; const s = document.querySelector('#call-state');"
        " return p && s && s.textContent === 'In call' && p.currentCallId() === id && p.core.call.reconnected; }",
        arg=[call_id], timeout=BACK_WITHIN * 1000)
    away = time.monotonic() - started
    assert away <= BACK_WITHIN
    assert events_since(ami, mark, "Hangup", cust) == [], "the customer was hung up"
    # the music plays on the server's leg bridged to the customer (the consultation joined them there)
    moh = [e for e in ami.events[mark:] if e.get("Event") == "MusicOnHoldStart"]
    assert any(e.get("Channel", "").startswith("Local/agent1@sb-agent-") for e in moh), moh
    assert agent2.text_content("#caller-number").strip() == number
    first = wait_audio(agent2)
    time.sleep(1.0)
    assert agent2.evaluate("window.switchboardPhone.stats()") > first, "no audio after the reconnect"
    print(f"\ne2e: consult-transferred call, reload -> back in {away * 1000:.0f} ms")
    agent2.click("#hangup")
    wait_state(agent2, "Call ended")
    assert one_task(stack, call_id)["CallDisposition"] == "answered"
    hang_up_all(stack)
    agent1.context.close()
    agent2.context.close()


def test_queue_call_survives_a_lost_network(browser, stack, ami, customers):
    number = "+358406661002"
    page = login(browser, stack, "agent1")
    cust, call_id = answer_queue_call(page, customers, number, "Lost Network", "+35891000001")
    answered = time.monotonic()
    time.sleep(2.2)

    mark = len(ami.events)
    page.context.set_offline(True)
    wait_event_since(ami, mark, "MusicOnHoldStart", cust)  # while the agent is away, not only afterwards
    page.set_viewport_size({"width": 400, "height": 900})
    page.wait_for_function("document.querySelector('#reg-detail').textContent.startsWith('Reconnecting your call')",
                           timeout=5000)
    page.screenshot(path=str(ARTIFACTS / "e2e-network-lost-400.png"), full_page=True)
    time.sleep(3.0)
    assert page.text_content("#call-state") == "In call"  # the page keeps the call on screen meanwhile
    online = time.monotonic()
    page.context.set_offline(False)
    away = wait_back(page, call_id, online)
    assert_taken_back(page, ami, mark, cust, call_id, away, online - answered, number, "Customer Service EN")
    assert page.is_hidden("#reg-detail")
    # and the call events again (wrap-up, the end of the call), not after Socket.IO's back-off
    page.wait_for_function("document.querySelector('#link-status').dataset.state === 'connected'", timeout=5000)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "e2e-network-back-wide.png"), full_page=True)
    print(f"\ne2e: network back -> same call back in {away.seconds * 1000:.0f} ms")

    page.click("#hangup")
    wait_state(page, "Call ended")
    task = one_task(stack, call_id)
    assert task["CallDisposition"] == "answered" and task["CallDurationInSeconds"] >= 5
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()
