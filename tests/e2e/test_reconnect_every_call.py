"""No call type drops when the agent's page reloads or loses its network (issue 5): an outbound call, a
colleague's (direct) call on either side, a call blind-transferred to the agent, and a queue call whose
page goes offline for a few seconds. Each time the other party's own channel stays up and hears music on
hold (AMI MusicOnHoldStart) while the agent is away, the page is back on the same call (same call id,
caller details, timer counting on) within 10 s with audio flowing again, and one Task lands at the end.
A call consult-transferred to the agent comes back too (the music then plays on the server leg next to
the customer, and the timer starts again: see docs/architecture.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from tests.conftest import ARTIFACTS
from tests.e2e import test_queue_call_to_browser as base
from tests.e2e.test_phone_calls import AmiWatch, ami, customer_channel, hang_up_all, wait_audio, wait_state
from tests.e2e.test_queue_call_to_browser import login, ring, sf_client, tasks_for
from tests.e2e.test_transfer_more import queue_caller

browser = base.browser  # the module-scoped Chromium fixture
__all__ = ["ami", "browser"]

pytestmark = pytest.mark.e2e

BACK_WITHIN = 10.0  # seconds: the limit from the agent's new registration to the same call


@dataclass
class Away:
    """What happened while the agent's leg was gone."""

    seconds: float  # page reload (or network back) -> the same call in the page
    timer: int  # the call timer then, in seconds


def timer_seconds(page) -> int:
    minutes, seconds = (int(x) for x in page.text_content("#call-timer").split(":"))
    return minutes * 60 + seconds


def events_since(ami: AmiWatch, mark: int, kind: str, channel: str) -> list[dict[str, str]]:
    return [e for e in ami.events[mark:] if e.get("Event") == kind and e.get("Channel") == channel]


def wait_event_since(ami: AmiWatch, mark: int, kind: str, channel: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not events_since(ami, mark, kind, channel):
        assert time.monotonic() < deadline, f"no {kind} on {channel}"
        time.sleep(0.05)


def wait_back(page, call_id: str, since: float) -> Away:
    """Wait (at most 10 s) until the page shows ``call_id`` in call again; how long it took and the timer."""
    page.wait_for_function(
        "([id]) => { const p = window.switchboardPhone; const s = document.querySelector('#call-state');"
        " return p && s && s.textContent === 'In call' && p.currentCallId() === id"
        " && p.core.call && p.core.call.reconnected && p.core._resuming === null; }",
        arg=[call_id], timeout=BACK_WITHIN * 1000)
    return Away(time.monotonic() - since, timer_seconds(page))


def assert_taken_back(page, ami: AmiWatch, mark: int, other: str, call_id: str, away: Away, in_call_before: float,
                      number: str, label: str) -> None:
    """The other party waited on hold, the page has the same call with its details, audio flows again."""
    assert away.seconds <= BACK_WITHIN, f"the call came back after {away.seconds:.1f} s"
    assert events_since(ami, mark, "MusicOnHoldStart", other), f"{other} heard no music on hold"
    assert events_since(ami, mark, "Hangup", other) == [], f"{other} was hung up"
    assert page.evaluate("window.switchboardPhone.currentCallId()") == call_id
    assert away.timer >= int(in_call_before), f"the call timer restarted: {away.timer} s"
    assert page.text_content("#caller-number").strip() == number
    assert page.text_content("#queue-name").strip() == label
    first = wait_audio(page)
    time.sleep(1.0)
    assert page.evaluate("window.switchboardPhone.stats()") > first, "no audio after the reconnect"


def one_task(stack, call_id: str) -> dict:
    """Exactly one Task for the call lands (and no second one after it)."""
    sf = sf_client(stack)
    deadline = time.monotonic() + 8
    tasks: list = []
    while time.monotonic() < deadline and not tasks:
        tasks = tasks_for(sf, call_id)
        time.sleep(0.2)
    time.sleep(1.0)
    tasks = tasks_for(sf, call_id)
    assert len(tasks) == 1, f"{len(tasks)} Tasks for call {call_id}"
    return tasks[0]


def reload(page, ami: AmiWatch) -> tuple[int, float]:
    mark, started = len(ami.events), time.monotonic()
    page.reload()
    return mark, started


def answer_queue_call(page, stack, ami: AmiWatch, number: str, name: str, queue_number: str) -> tuple[str, str]:
    """A customer calls the queue, ``page`` answers with audio: the customer's queue channel and the call id."""
    ring(stack, number=number, name=name, queue_number=queue_number)
    page.wait_for_selector("#incoming", state="visible", timeout=10000)
    page.click("#answer")
    wait_state(page, "In call")
    wait_audio(page)
    return queue_caller(ami, queue_number), page.evaluate("window.switchboardPhone.currentCallId()")


def place_outbound_call(page, ami: AmiWatch, number: str) -> tuple[str, str]:
    """``page`` calls ``number`` (the demo customer answers), with audio: the customer's channel and the call id."""
    page.fill("#dial-number", number)
    page.click("#dial-call")
    wait_state(page, "In call")
    wait_audio(page)
    cust = customer_channel(ami, number)
    page.wait_for_function("window.switchboardPhone.currentCallId() !== null", timeout=5000)
    return cust, page.evaluate("window.switchboardPhone.currentCallId()")


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


def test_call_blind_transferred_to_the_agent_survives_a_reload(browser, stack, ami):
    number = "+358406661001"
    agent1 = login(browser, stack, "agent1")
    agent2 = login(browser, stack, "agent2")
    cust, _ = answer_queue_call(agent1, stack, ami, number, "Transferred Reload", "+35891000002")  # cs-fi
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


def test_call_consult_transferred_to_the_agent_survives_a_reload(browser, stack, ami):
    number = "+358406661003"
    agent1 = login(browser, stack, "agent1")
    agent2 = login(browser, stack, "agent2")
    cust, call_id = answer_queue_call(agent1, stack, ami, number, "Consulted Reload", "+35891000002")
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


def test_queue_call_survives_a_lost_network(browser, stack, ami):
    number = "+358406661002"
    page = login(browser, stack, "agent1")
    cust, call_id = answer_queue_call(page, stack, ami, number, "Lost Network", "+35891000001")
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
