"""Taking a call back after the agent's browser leg died (a reload, a lost or frozen network): place the
call, lose the leg, wait until the page has the same call again, and check what the other party heard."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tests.support.ami import AmiWatch, Message
from tests.support.phone import customer_channel, ring, wait_audio, wait_state
from tests.support.sipp import SipCustomers

BACK_WITHIN = 10.0  # seconds: the limit from the agent's new registration to the same call


@dataclass
class Away:
    """What happened while the agent's leg was gone."""

    seconds: float  # page reload (or network back) -> the same call in the page
    timer: int  # the call timer then, in seconds


def timer_seconds(page: Any) -> int:
    """The call card's timer (m:ss) in seconds."""
    minutes, seconds = (int(x) for x in page.text_content("#call-timer").split(":"))
    return minutes * 60 + seconds


def events_since(ami: AmiWatch, mark: int, kind: str, channel: str) -> list[Message]:
    """The ``kind`` events of ``channel`` after the ``mark``-th event."""
    return [e for e in ami.events[mark:] if e.get("Event") == kind and e.get("Channel") == channel]


def wait_event_since(ami: AmiWatch, mark: int, kind: str, channel: str, timeout: float = 10) -> None:
    """Wait for a ``kind`` event of ``channel`` after the ``mark``-th event."""
    deadline = time.monotonic() + timeout
    while not events_since(ami, mark, kind, channel):
        assert time.monotonic() < deadline, f"no {kind} on {channel}"
        time.sleep(0.05)


def wait_back(page: Any, call_id: str, since: float) -> Away:
    """Wait (at most 10 s) until the page shows ``call_id`` in call again; how long it took and the timer."""
    page.wait_for_function(
        "([id]) => { const p = window.switchboardPhone; const s = document.querySelector('#call-state');"
        " return p && s && s.textContent === 'In call' && p.currentCallId() === id"
        " && p.core.call && p.core.call.reconnected && p.core._resuming === null; }",
        arg=[call_id], timeout=BACK_WITHIN * 1000)
    return Away(time.monotonic() - since, timer_seconds(page))


def assert_taken_back(page: Any, ami: AmiWatch, mark: int, other: str, call_id: str, away: Away,
                      in_call_before: float, number: str, label: str) -> None:
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


def reload(page: Any, ami: AmiWatch) -> tuple[int, float]:
    """Reload the page; the AMI mark and the moment before."""
    mark, started = len(ami.events), time.monotonic()
    page.reload()
    return mark, started


def answer_queue_call(page: Any, customers: SipCustomers, number: str, name: str,
                      queue_number: str) -> tuple[str, str]:
    """A customer calls the queue over the trunk, ``page`` answers with audio: the customer's channel (the
    one in the queue) and the call id."""
    customer = ring(customers, number=number, name=name, queue_number=queue_number)
    page.wait_for_selector("#incoming", state="visible", timeout=10000)
    page.click("#answer")
    wait_state(page, "In call")
    wait_audio(page)
    return customer.channel(), page.evaluate("window.switchboardPhone.currentCallId()")


def place_outbound_call(page: Any, ami: AmiWatch, number: str) -> tuple[str, str]:
    """``page`` calls ``number`` (the carrier's customer answers), with audio: the customer's trunk channel
    and the call id."""
    page.fill("#dial-number", number)
    page.click("#dial-call")
    wait_state(page, "In call")
    wait_audio(page)
    cust = customer_channel(ami, number)
    page.wait_for_function("window.switchboardPhone.currentCallId() !== null", timeout=5000)
    return cust, page.evaluate("window.switchboardPhone.currentCallId()")
