"""Whatever process dies, every call gets exactly one Task: each fault of benchmarks/faults.py during a
SIPp burst of >= 100 customers over the trunk, answered by SIP-phone agents, on a stack of its own; and
an agent's web page comes back by itself (its Socket.IO link and SIP registration)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.faults import FAULTS, FaultStack
from tests.support.paths import ARTIFACTS
from tests.support.phone import CHROMIUM_ARGS, login

pytestmark = pytest.mark.integration
WATCHER = "agent3"  # a web-phone agent outside Customer Service EN: the bursts never ring it


@pytest.fixture(scope="module")
def faults_stack():
    with FaultStack(Path(tempfile.mkdtemp(prefix="sb-faults-test-"))) as fs:
        yield fs


@pytest.fixture(scope="module")
def agent_page(faults_stack):
    """agent3's web phone in Chromium, open through every fault."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = login(browser, faults_stack.stack, WATCHER)
            page.evaluate(WATCH_PILLS)
            yield page
        finally:
            browser.close()


# Every change of the two status pills, with the time the page saw it (the test looks only after a fault).
WATCH_PILLS = """() => {
  window.pillLog = [];
  const watch = (id) => new MutationObserver(() => window.pillLog.push(
      [Date.now(), id, document.getElementById(id).dataset.state])).observe(
      document.getElementById(id), {attributes: true, attributeFilter: ['data-state']});
  watch('reg-status'); watch('link-status');
}"""
UP = {"reg-status": "registered", "link-status": "connected"}


def outages(page: Any) -> dict[str, list[float]]:
    """Per pill, how long each outage the page went through since the last call lasted (seconds); the log
    starts again. An outage still going on counts up to now."""
    log = page.evaluate("() => { const l = window.pillLog || []; window.pillLog = []; return l; }")
    now = page.evaluate("() => Date.now()")
    out: dict[str, list[float]] = {pill: [] for pill in UP}
    down: dict[str, float] = {}
    for at, pill, state in log:
        if state != UP[pill] and pill not in down:
            down[pill] = at
        elif state == UP[pill] and pill in down:
            out[pill].append((at - down.pop(pill)) / 1000)
    for pill, at in down.items():
        out[pill].append((now - at) / 1000)
    return out


def page_state(page: Any) -> tuple[str, str, str]:
    """What the agent sees: the page's path, its SIP registration and its call-events link."""
    return (page.url.rsplit("/", 1)[-1], page.inner_text("#reg-status").strip(),
            page.get_attribute("#link-status", "data-state") or "")


def wait_page_back(page: Any, timeout: float = 60) -> float:
    """Seconds until the page is the phone again, registered and linked, without anyone touching it."""
    t0 = time.monotonic()
    while page_state(page) != ("phone", "Registered", "connected"):
        assert time.monotonic() - t0 < timeout, page_state(page)
        page.wait_for_timeout(250)
    return time.monotonic() - t0


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_given_a_fault_during_a_burst_then_every_call_has_exactly_one_task(faults_stack, agent_page, fault):
    result = faults_stack.run(fault, FAULTS.index(fault) + 1)
    print(result.line())
    assert result.calls >= 80, result.line()  # the burst ran (callers refused while Asterisk restarts are no calls)
    assert (result.missing, result.duplicated) == (0, 0), result.line()
    wait_page_back(agent_page)
    ARTIFACTS.mkdir(exist_ok=True)
    agent_page.screenshot(path=str(ARTIFACTS / f"faults-{fault.name}.png"))
    seen = outages(agent_page)
    print(f"{WATCHER}'s page: " + "; ".join(
        f"{pill} down {len(times)} time(s), back after {', '.join(f'{t:.1f}' for t in times) or '-'} s"
        for pill, times in seen.items()))
    # where the fault cuts the page's own connection, the page saw it and came back without anyone's help
    if fault.name == "web-kill":
        assert seen["link-status"], seen
    if fault.name == "asterisk-restart":
        assert seen["reg-status"], seen
