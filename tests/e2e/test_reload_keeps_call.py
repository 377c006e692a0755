"""A page reload mid-call never drops the customer: the server-owned leg holds them with music on hold
and re-rings the agent's new registration, which takes the same call back with its timer and details."""

from __future__ import annotations

import time

import pytest

from tests.conftest import ARTIFACTS
from tests.e2e.test_queue_call_to_browser import CUSTOMER, browser, login, ring, sf_client, tasks_for  # noqa: F401

pytestmark = pytest.mark.e2e


def inbound_bytes(page) -> int:
    return page.evaluate("window.switchboardPhone.stats()")


def wait_media(page, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    received = 0
    while time.monotonic() < deadline and received == 0:
        received = inbound_bytes(page)
        time.sleep(0.1)
    return received


def test_reload_mid_call_reconnects_the_same_call_with_media_and_one_task(browser, stack):  # noqa: F811
    page = login(browser, stack, "agent1")
    ring(stack)
    page.wait_for_selector("#incoming", state="visible", timeout=10000)
    page.click("#answer")
    page.wait_for_function("document.querySelector('#call-state').textContent === 'In call'", timeout=10000)
    assert wait_media(page) > 0
    call_id = page.evaluate("window.switchboardPhone.currentCallId()")
    time.sleep(2.2)

    reloaded = time.monotonic()
    page.reload()
    page.wait_for_function("document.querySelector('#call-state') && "
                           "document.querySelector('#call-state').textContent === 'In call'", timeout=15000)
    assert page.evaluate("window.switchboardPhone.currentCallId()") == call_id
    assert wait_media(page) > 0, "no audio after the reload"
    media_back = time.monotonic() - reloaded
    timer = page.text_content("#call-timer")
    minutes, seconds = (int(x) for x in timer.split(":"))
    assert minutes * 60 + seconds >= 2, f"the call timer restarted: {timer}"
    assert page.text_content("#caller-number").strip() == CUSTOMER
    assert page.text_content("#queue-name") == "Customer Service EN"
    page.screenshot(path=str(ARTIFACTS / "e2e-after-reload.png"))
    print(f"\ne2e: page reload -> same call back with audio in {media_back * 1000:.0f} ms")

    page.click("#hangup")
    sf = sf_client(stack)
    deadline = time.monotonic() + 5
    tasks: list = []
    while time.monotonic() < deadline and not tasks:
        tasks = tasks_for(sf, call_id)
        time.sleep(0.1)
    assert len(tasks) == 1
    assert tasks[0]["CallDisposition"] == "answered"
    assert tasks[0]["CallDurationInSeconds"] >= 3  # the whole call, across the reload
    page.context.close()
