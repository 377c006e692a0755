"""The mini dashboard and the contact directory in Chromium against the whole stack: a caller waiting
in a queue shows in the agent's dashboard with a growing wait; the directory finds an agent and a
Salesforce contact, and clicking the contact calls it."""

from __future__ import annotations

import time

import pytest

from sfemu.seed import DEMO_CONTACT_NAME
from tests.support.phone import choose, login, ring, shots
from tests.support.stack import fresh_agent, member_line, wait_for

pytestmark = pytest.mark.e2e
SALES_NUMBER = "+35891000003"
WAITING = "#dashboard-rows tr[data-queue='sales'] td.dash-waiting"
MAX_WAIT = "#dashboard-rows tr[data-queue='sales'] td.dash-wait"


def fresh_sales_agent(stack) -> str:
    """A new agent in Sales only (nobody else logged in there during this test)."""
    return fresh_agent(stack, queue="Sales", prefix="dash")


def seconds(text: str) -> int:
    """'7s' or '1m 05s' as seconds."""
    parts = text.replace("m", " ").replace("s", " ").split()
    return int(parts[0]) if len(parts) == 1 else int(parts[0]) * 60 + int(parts[1])


def test_waiting_caller_shows_in_dashboard_and_directory_calls_a_contact(browser, stack, customers):
    agent = fresh_sales_agent(stack)
    page = login(browser, stack, agent)
    page.wait_for_selector("#dashboard-rows tr[data-queue='sales']", timeout=10000)
    assert page.text_content("#dashboard-rows tr[data-queue='sales'] td.dash-label") == "Sales"
    choose(page, "DND")  # paused: the caller waits in Sales
    wait_for(lambda: "paused" in (member_line(stack, agent, "sales") or ""), 10, "DND did not pause the agent in Sales")
    page.wait_for_function(
        "document.querySelector(\"#dashboard-rows tr[data-queue='sales'] td.dash-serving\").textContent === '0'",
        timeout=10000)

    customer = ring(customers, number="+358409998877", name="Waiting Customer", queue_number=SALES_NUMBER)
    try:
        page.wait_for_function(f"document.querySelector(\"{WAITING}\").textContent === '1'", timeout=10000)
        first = seconds(page.text_content(MAX_WAIT))
        deadline = time.monotonic() + 8
        second = first
        while second < first + 2 and time.monotonic() < deadline:  # it ticks in the page, once a second
            time.sleep(0.25)
            second = seconds(page.text_content(MAX_WAIT))
        assert second >= first + 2, (first, second)
        assert page.locator("#incoming").is_hidden()
        shots(page, "dashboard-waiting")
    finally:
        customer.hang_up()
    page.wait_for_function(f"document.querySelector(\"{WAITING}\").textContent === '0'", timeout=10000)
    page.wait_for_function(
        "document.querySelector(\"#dashboard-rows tr[data-queue='sales'] td.dash-today\").textContent.endsWith('/1')",
        timeout=5000)

    page.fill("#directory-search", "Ben Ag")
    page.wait_for_selector("#directory-results .directory-item[data-type=agent]", timeout=5000)
    assert page.text_content("#directory-item-0 .directory-name") == "Ben Agent"
    assert page.text_content("#directory-item-0 .directory-number") == "agent2"

    page.fill("#directory-search", DEMO_CONTACT_NAME)
    contact = page.locator("#directory-results .directory-item[data-type=contact]").filter(
        has_text=DEMO_CONTACT_NAME).first
    contact.wait_for(timeout=8000)
    number = contact.locator(".directory-number").text_content()
    shots(page, "directory-results")
    contact.click()
    page.wait_for_function("window.switchboardPhone.call && window.switchboardPhone.call.state !== 'ended'",
                           timeout=5000)
    assert page.text_content("#call-state") in ("Calling…", "In call")
    assert page.text_content("#caller-number").replace(" ", "") == number.replace(" ", "")
    shots(page, "directory-calling")
    page.click("#hangup")
    page.wait_for_function("document.querySelector('#call-state').textContent === 'Call ended'", timeout=10000)
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()
