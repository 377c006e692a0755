"""End to end in Chromium: DND set in the page pauses the agent in Asterisk so a queue call does not
ring; Available rings again, the status line says "In a Call" while the call rings; after the answered call
the line says "Wrap Up" and the wrap-up dialog asks for a code, which lands on the call's Task as
CallDisposition; then the status from before the call is back."""

from __future__ import annotations

import time

import pytest

from switchboard.store import Store
from tests.support.paths import ARTIFACTS
from tests.support.phone import choose, login, ring
from tests.support.stack import member_line, sf_client, tasks_for, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def no_required_wrapup_afterwards(stack):
    """Other e2e tests may answer Sales calls and expect the agent to ring again: leave no required code."""
    yield
    store = Store(stack.settings.database_url)
    store.set_queue_wrapup("sales", 0, [], False)
    store.engine.dispose()


def summary_is(page, text: str) -> None:  # noqa: ANN001
    """Wait until the presence line reads ``text``."""
    page.wait_for_function("([t]) => document.querySelector('#presence-summary').textContent === t", arg=[text],
                           timeout=5000)


def test_dnd_stops_queue_calls_available_rings_and_wrapup_code_reaches_the_task(browser, stack, customers):
    ARTIFACTS.mkdir(exist_ok=True)
    page = login(browser, stack, "agent2")
    choose(page, "DND")
    wait_for(lambda: "paused:DND" in member_line(stack, "agent2"), 5, "agent2 not paused for DND in Asterisk")
    page.wait_for_function("document.querySelector('#presence-summary').textContent.startsWith('DND')",
                           timeout=5000)
    page.screenshot(path=str(ARTIFACTS / "presence-dnd-full.png"), full_page=True)

    waiting = ring(customers)
    with pytest.raises(Exception):  # noqa: B017  (playwright's TimeoutError)
        page.wait_for_selector("#incoming", state="visible", timeout=3000)
    assert "paused:DND" in member_line(stack, "agent2")
    waiting.hang_up()
    time.sleep(0.5)

    choose(page, "Available")
    wait_for(lambda: "paused" not in member_line(stack, "agent2"), 5, "agent2 still paused in Asterisk")
    ring(customers, queue_number="+35891000003")  # Sales: 30 s wrap-up with a required code (demo data)
    page.wait_for_selector("#incoming", state="visible", timeout=10000)
    summary_is(page, "In a Call · then Available")  # the call_statuses plugin, while it rings
    page.click("#answer")
    page.wait_for_function("document.querySelector('#call-state').textContent === 'In call'", timeout=10000)
    call_id = page.evaluate("window.switchboardPhone.currentCallId()")
    time.sleep(1.0)
    page.click("#hangup")

    page.wait_for_selector("#wrapup-dialog[open]", timeout=5000)
    summary_is(page, "Wrap Up")
    assert page.text_content("#wrapup-code-1") == "Manager Request"
    wait_for(lambda: "paused:wrap-up" in member_line(stack, "agent2", "sales"), 5, "not paused for wrap-up")
    page.set_viewport_size({"width": 400, "height": 760})
    page.screenshot(path=str(ARTIFACTS / "presence-wrapup-400.png"), full_page=True)
    page.focus("#wrapup-code-1")
    page.keyboard.press("Enter")  # keyboard accessible
    picked = time.monotonic()
    page.wait_for_selector("#wrapup-dialog[open]", state="detached", timeout=5000)

    sf = sf_client(stack)
    disposition = None
    while time.monotonic() - picked < 5 and disposition != "Manager Request":
        found = tasks_for(sf, call_id)
        disposition = found[0]["CallDisposition"] if found else None
        time.sleep(0.2)
    assert disposition == "Manager Request"
    assert len(tasks_for(sf, call_id)) == 1
    wait_for(lambda: "paused" not in member_line(stack, "agent2", "sales"), 5, "wrap-up did not end")
    summary_is(page, "Available")  # the status before the call
    page.screenshot(path=str(ARTIFACTS / "presence-available-400.png"), full_page=True)
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()
