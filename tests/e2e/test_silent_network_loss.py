"""A network that dies silently never drops the customer (issue 5): the agent's Chromium is frozen
(SIGSTOP of every process of its own profile: no `offline` event, the SIP WebSocket is never closed,
like a laptop put to sleep or Wi-Fi gone) for longer than the endpoint's RTP timeout. Asterisk ends that
leg without a BYE; the dialplan takes the call back by itself (music on hold on the other party's own
channel), rings the agent again, and once the browser runs again the page is back on the same call
(same call id, caller, timer counting on) within 10 s with audio, and one Task lands at the end. A
real hang-up by the agent still ends the customer's call at once; muting or holding longer than the
RTP timeout does not; and with the orchestrator down a page reload still gets its call back."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import reconnect as every
from tests.support.ami import AmiWatch
from tests.support.paths import ARTIFACTS
from tests.support.phone import CHROMIUM_ARGS, hang_up_all, login, sign_in, wait_audio, wait_state
from tests.support.stack import one_task

pytestmark = pytest.mark.e2e

RTP_TIMEOUT = 5  # seconds: rtp_timeout of the agents' endpoints (asterisk-conf/pjsip.conf)
FROZEN_FOR = RTP_TIMEOUT + 3.0
VIEWPORT = {"width": 1100, "height": 760}


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    """A shared Chromium for the agents that are not frozen."""
    b = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def own_chromium(playwright) -> Iterator[tuple[object, str]]:
    """A Chromium of its own (its processes are found by its unique --user-data-dir) and that folder."""
    profile = tempfile.mkdtemp(prefix="sb-frozen-chromium-")
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS, viewport=VIEWPORT,
        bypass_csp=True)
    yield context, profile
    with contextlib.suppress(Exception):
        context.close()


def own_page(own_chromium, stack, username: str):
    context, _ = own_chromium
    return sign_in(context.pages[0] if context.pages else context.new_page(), stack, username)


def chromium_pids(profile: str) -> list[int]:
    """Every process whose command line names ``profile`` (browser, zygotes, renderers, GPU, network)."""
    wanted = f" --user-data-dir={profile} ".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:  # Chromium's children rewrite their title into one space-separated argument
            cmdline = b" " + (proc / "cmdline").read_bytes().replace(b"\0", b" ") + b" "
        except OSError:
            continue
        if wanted in cmdline:
            pids.append(int(proc.name))
    return pids


@contextlib.contextmanager
def frozen(profile: str) -> Iterator[None]:
    """The browser stops dead (no packet, no close) until the block ends."""
    pids = chromium_pids(profile)
    assert len(pids) >= 3, f"Chromium processes of {profile}: {pids}"
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def freeze_while_taken_back(profile: str, ami: AmiWatch, other: str) -> tuple[int, float]:
    """Freeze the browser beyond the RTP timeout; ``other`` must hear music while it is frozen.

    Returns the AMI mark from before the freeze and the moment the browser runs again."""
    mark = len(ami.events)
    with frozen(profile):
        frozen_at = time.monotonic()
        every.wait_event_since(ami, mark, "MusicOnHoldStart", other, timeout=RTP_TIMEOUT + 3)
        moh_after = time.monotonic() - frozen_at
        assert every.events_since(ami, mark, "Hangup", other) == [], f"{other} was hung up"
        time.sleep(max(0.0, FROZEN_FOR - (time.monotonic() - frozen_at)))
    print(f"\ne2e: browser frozen -> music on hold for the other party after {moh_after:.1f} s")
    return mark, time.monotonic()


def shots(page, name: str) -> None:
    """Screenshots at a Salesforce utility bar's width and at full width."""
    page.set_viewport_size({"width": 400, "height": 900})
    page.screenshot(path=str(ARTIFACTS / f"e2e-{name}-400.png"), full_page=True)
    page.set_viewport_size(VIEWPORT)
    page.screenshot(path=str(ARTIFACTS / f"e2e-{name}-wide.png"), full_page=True)


def test_frozen_browser_gets_its_queue_call_back(own_chromium, stack, ami, customers):
    number = "+358406662001"
    page = own_page(own_chromium, stack, "agent1")
    cust, call_id = every.answer_queue_call(page, customers, number, "Frozen Laptop", "+35891000001")
    answered = time.monotonic()
    time.sleep(2.2)

    mark, resumed = freeze_while_taken_back(own_chromium[1], ami, cust)
    away = every.wait_back(page, call_id, resumed)  # within 10 s of the resume
    every.assert_taken_back(page, ami, mark, cust, call_id, away, resumed - answered, number, "Customer Service EN")
    assert page.text_content("#caller-name").strip() == "Frozen Laptop"
    assert page.is_hidden("#reg-detail")
    lost = [e for e in ami.events[mark:]
            if e.get("Event") == "Hangup" and e.get("Channel", "").startswith("PJSIP/agent1-")]
    assert [e["Cause"] for e in lost] == ["44"], lost  # the frozen leg, ended by Asterisk (no BYE)
    shots(page, "frozen-back")
    print(f"e2e: frozen browser resumed -> same call back in {away.seconds * 1000:.0f} ms")

    page.click("#hangup")
    wait_state(page, "Call ended")
    task = one_task(stack, call_id)
    assert task["CallDisposition"] == "answered"
    assert task["CallDurationInSeconds"] >= int(FROZEN_FOR) + 2  # the whole call, across the freeze
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_frozen_browser_gets_its_outbound_call_back(own_chromium, stack, ami):
    number = "+358407002001"
    page = own_page(own_chromium, stack, "agent2")
    cust, call_id = every.place_outbound_call(page, ami, number)
    answered = time.monotonic()
    time.sleep(2.2)

    mark, resumed = freeze_while_taken_back(own_chromium[1], ami, cust)  # the called party takes it back
    away = every.wait_back(page, call_id, resumed)
    every.assert_taken_back(page, ami, mark, cust, call_id, away, resumed - answered, number, "Outbound")
    print(f"\ne2e: frozen browser, outbound call -> same call back in {away.seconds * 1000:.0f} ms")
    page.click("#hangup")
    wait_state(page, "Call ended")
    task = one_task(stack, call_id)
    assert task["CallType"] == "Outbound" and task["CallDurationInSeconds"] >= int(FROZEN_FOR) + 2


@pytest.mark.parametrize(("consulted", "target", "customer_queue"), [
    ("agent2", "agent2", "+35891000002"),  # the consulted agent's browser is bridged to the customer's server leg
    ("agent3", "+35891000002", "+35891000001"),  # a queue: one more server leg lies between them
], ids=["agent", "queue"])
def test_frozen_browser_of_a_consulted_agent_gets_the_transferred_call_back(browser, own_chromium, stack, ami,
                                                                            customers, consulted, target,
                                                                            customer_queue):
    number = "+358406662003" if consulted == "agent2" else "+358406662013"
    agent1 = login(browser, stack, "agent1")
    other = own_page(own_chromium, stack, consulted)
    cust, call_id = every.answer_queue_call(agent1, customers, number, "Consulted Frozen", customer_queue)
    agent1.fill("#transfer-target", target)
    agent1.click("#transfer-consult")
    other.wait_for_selector("#incoming", state="visible", timeout=15000)
    other.click("#answer")
    wait_state(other, "In call")
    agent1.wait_for_function("document.querySelector('#consult-text').textContent.startsWith('Talking to')",
                             timeout=10000)
    agent1.click("#consult-complete")
    wait_state(agent1, "Call ended")
    time.sleep(1.0)
    wait_audio(other)

    # the consulted agent is now the customer's only agent: the call comes back to them, not to agent1 who
    # gave it away (as after a reload, under the customer's call id, which the joined call has)
    mark, resumed = freeze_while_taken_back(own_chromium[1], ami, cust)
    other.wait_for_function(
        "([id]) => { const p = window.switchboardPhone; const s = document.querySelector('#call-state');"
        " return p && s && s.textContent === 'In call' && p.currentCallId() === id && p.core.call.reconnected; }",
        arg=[call_id], timeout=every.BACK_WITHIN * 1000)
    away = time.monotonic() - resumed
    assert every.events_since(ami, mark, "Hangup", cust) == [], "the customer was hung up"
    assert other.text_content("#caller-number").strip() == number
    first = wait_audio(other)
    time.sleep(1.0)
    assert other.evaluate("window.switchboardPhone.stats()") > first, "no audio after the reconnect"
    assert agent1.text_content("#call-state") == "Call ended"  # nothing rang agent1 again
    print(f"\ne2e: consulted {consulted}'s browser frozen -> back in {away * 1000:.0f} ms")
    other.click("#hangup")
    wait_state(other, "Call ended")
    every.wait_event_since(ami, mark, "Hangup", cust, timeout=3)  # a real hang-up ends the customer's call
    assert one_task(stack, call_id)["CallDisposition"] == "answered"
    hang_up_all(stack)
    agent1.context.close()


def test_a_hang_up_by_the_agent_still_ends_the_customers_call_at_once(browser, stack, ami, customers):
    page = login(browser, stack, "agent1")
    for number, outbound in (("+358406662004", False), ("+358407002004", True)):
        if outbound:
            cust, call_id = every.place_outbound_call(page, ami, number)
        else:
            cust, call_id = every.answer_queue_call(page, customers, number, "Hung Up", "+35891000001")
        time.sleep(1.0)
        mark, clicked = len(ami.events), time.monotonic()
        page.click("#hangup")
        every.wait_event_since(ami, mark, "Hangup", cust, timeout=3)
        ended_after = time.monotonic() - clicked
        assert ended_after < 2.0, f"the customer's call ended {ended_after:.1f} s after the agent's hang-up"
        time.sleep(2.0)  # nothing takes the call back: no music, no new ring for the agent
        assert every.events_since(ami, mark, "MusicOnHoldStart", cust) == []
        rings = [e for e in ami.events[mark:] if e.get("Event") == "Newchannel"
                 and e.get("Channel", "").startswith("PJSIP/agent1-")]
        assert rings == [], rings
        assert page.text_content("#call-state") == "Call ended"
        assert one_task(stack, call_id)["CallDisposition"] == "answered"
        print(f"\ne2e: agent hangs up ({'outbound' if outbound else 'queue'} call) -> customer's call ended "
              f"in {ended_after * 1000:.0f} ms")
        page.wait_for_timeout(500)
    page.context.close()


def test_hanging_up_while_the_call_is_taken_back_ends_it_for_the_customer_too(browser, stack, ami, customers):
    number = "+358406662007"
    page = login(browser, stack, "agent1")
    cust, call_id = every.answer_queue_call(page, customers, number, "Hung Up Offline", "+35891000001")
    mark = len(ami.events)
    page.context.set_offline(True)
    every.wait_event_since(ami, mark, "MusicOnHoldStart", cust)  # the server took the call back
    page.wait_for_function("document.querySelector('#reg-detail').textContent.startsWith('Reconnecting')",
                           timeout=5000)
    page.click("#hangup")
    wait_state(page, "Call ended")
    page.context.set_offline(False)
    # the server rings the page again for that call: the page answers and hangs up, the customer is let go
    every.wait_event_since(ami, mark, "Hangup", cust, timeout=10)
    page.wait_for_function("document.querySelector('#link-status').dataset.state === 'connected'", timeout=5000)
    time.sleep(1.0)
    assert page.text_content("#call-state") == "Call ended"
    assert one_task(stack, call_id)["CallDisposition"] == "answered"
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()


SENT = """async () => { const pc = window.switchboardPhone.core._connection; let n = 0;
  (await pc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'audio') n += s.packetsSent; });
  return n; }"""


def test_muting_or_holding_longer_than_the_rtp_timeout_keeps_the_call(browser, stack, ami):
    number = "+358407002005"
    page = login(browser, stack, "agent3")
    cust, _ = every.place_outbound_call(page, ami, number)
    leg = ami.wait_for(lambda e: e.get("Event") == "Newchannel" and e.get("Channel", "").startswith("PJSIP/agent3-")
                       and e.get("Exten") == number)["Channel"]
    mark = len(ami.events)
    for button, pressed in (("#mute", "aria-pressed"), ("#hold", "aria-pressed")):
        page.click(button)
        page.wait_for_function(f"document.querySelector('{button}').getAttribute('{pressed}') === 'true'")
        sent = page.evaluate(SENT)
        time.sleep(RTP_TIMEOUT + 2.0)
        # the browser still sends (silence while muted, its audio while it holds): Asterisk keeps the leg
        assert page.evaluate(SENT) > sent + 50 * RTP_TIMEOUT, f"no RTP sent while {button[1:]}d"
        assert every.events_since(ami, mark, "Hangup", leg) == [], f"the agent's leg ended while {button[1:]}d"
        page.click(button)
        page.wait_for_function(f"document.querySelector('{button}').getAttribute('{pressed}') === 'false'")
    assert every.events_since(ami, mark, "Hangup", cust) == []
    rings = [e for e in ami.events[mark:] if e.get("Event") == "Newchannel"
             and e.get("Channel", "").startswith("PJSIP/agent3-")]
    assert rings == [], "the call was taken back although the agent's leg was alive"
    first = wait_audio(page)
    time.sleep(1.0)
    assert page.evaluate("window.switchboardPhone.stats()") > first
    page.click("#hangup")
    wait_state(page, "Call ended")
    page.context.close()


def resynced_count(stack) -> int:
    orch = next(c for c in stack.children if c.name == "orchestrator")
    return orch.log.read_text(errors="replace").count("resynced from Asterisk")


def test_with_the_orchestrator_down_a_reload_still_gets_the_call_back(browser, stack, ami, customers):
    import redis

    from switchboard.contracts import live_call_key as key

    number = "+358406662006"
    page = login(browser, stack, "agent1")
    cust, call_id = every.answer_queue_call(page, customers, number, "Server Down", "+35891000001")
    answered = time.monotonic()
    time.sleep(2.2)
    before = resynced_count(stack)
    stack.stop_child("orchestrator")  # nothing reacts to the closed SIP connection now
    try:
        mark, reloaded = every.reload(page, ami)
        # the dead leg ends by the RTP timeout; the dialplan alone takes the call back and rings the page
        away = every.wait_back(page, call_id, reloaded)
        every.assert_taken_back(page, ami, mark, cust, call_id, away, reloaded - answered, number,
                                "Customer Service EN")
        assert page.text_content("#caller-name").strip() == "Server Down"
        print(f"\ne2e: orchestrator down, page reload -> same call back in {away.seconds * 1000:.0f} ms")
    finally:
        stack.start_child("orchestrator")
        deadline = time.monotonic() + 30
        while resynced_count(stack) <= before:
            assert time.monotonic() < deadline, "the orchestrator did not come back"
            time.sleep(0.2)
    page.click("#hangup")
    wait_state(page, "Call ended")
    # The restarted orchestrator adopted the call (SB_CALL_FACTS) and clears the agent's kept call when it
    # ends; a kept call of the test's own making must not outlive it either way.
    redis.Redis.from_url(stack.settings.redis_url).delete(key("agent1"))
    hang_up_all(stack)
    page.context.close()
