"""A page reload mid-call never drops the customer: the customer's own channel takes the call back, hears
music on hold and re-rings the agent's new registration, which takes the same call back with its timer
and details within 10 s. (Every other call type: test_reconnect_every_call.py.)"""

from __future__ import annotations

import time

import pytest

from tests.support import reconnect as every
from tests.support.paths import ARTIFACTS
from tests.support.phone import CUSTOMER, login
from tests.support.stack import one_task

pytestmark = pytest.mark.e2e


def test_reload_mid_call_reconnects_the_same_call_with_media_and_one_task(browser, stack, ami, customers):
    page = login(browser, stack, "agent1")
    cust, call_id = every.answer_queue_call(page, customers, CUSTOMER, "Maija Virtanen", "+35891000001")
    answered = time.monotonic()
    time.sleep(2.2)

    mark, reloaded = every.reload(page, ami)
    away = every.wait_back(page, call_id, reloaded)  # at most 10 s
    every.assert_taken_back(page, ami, mark, cust, call_id, away, reloaded - answered, CUSTOMER, "Customer Service EN")
    assert page.text_content("#caller-name").strip() == "Maija Virtanen"
    page.screenshot(path=str(ARTIFACTS / "e2e-after-reload.png"))
    print(f"\ne2e: page reload -> same call back in {away.seconds * 1000:.0f} ms")

    page.click("#hangup")
    task = one_task(stack, call_id)
    assert task["CallDisposition"] == "answered"
    assert task["CallDurationInSeconds"] >= 3  # the whole call, across the reload
    page.context.close()
