"""The page's keyboard in Chromium against the whole stack: keys typed in a text field belong to that
field. Escape in the directory search or the transfer box clears (then leaves) the field and never
drops the customer; Enter in the workflow search while the phone rings searches instead of answering;
Enter on a focused Decline button declines."""

from __future__ import annotations

import time

import pytest

from tests.support.paths import ARTIFACTS
from tests.support.phone import customer_channel, hang_up_all, login, ringing, wait_state
from tests.support.stack import fresh_agent

pytestmark = pytest.mark.e2e


def focused(page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id || document.activeElement.tagName : ''")


def hangups(ami, channel: str) -> list[dict]:
    return [e for e in ami.events if e.get("Event") == "Hangup" and e.get("Channel") == channel]


def test_escape_in_the_directory_search_or_transfer_box_keeps_the_call(browser, stack, ami):
    page = login(browser, stack, fresh_agent(stack, prefix="kbd"))
    number = "+358405550201"
    page.fill("#dial-number", number)
    page.keyboard.press("Enter")
    wait_state(page, "In call")
    cust = customer_channel(ami, number)

    page.fill("#directory-search", "Agent")
    page.wait_for_selector("#directory-results .directory-item", timeout=5000)
    page.keyboard.press("Escape")  # clears the search ...
    assert page.input_value("#directory-search") == ""
    page.wait_for_selector("#directory-results .directory-item", state="detached", timeout=2000)
    assert focused(page) == "directory-search"
    page.keyboard.press("Escape")  # ... then leaves it
    assert focused(page) == "BODY"

    page.fill("#transfer-target", "Sales")
    page.keyboard.press("Escape")
    assert page.input_value("#transfer-target") == ""
    page.keyboard.press("Escape")
    time.sleep(1.0)
    assert page.text_content("#call-state") == "In call"
    assert hangups(ami, cust) == [], "Escape in a text field dropped the customer"
    page.set_viewport_size({"width": 400, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "keyboard-escape-keeps-call-400.png"), full_page=True)

    page.keyboard.press("Escape")  # not in a field: hangs up, as documented
    wait_state(page, "Call ended")
    ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == cust)
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_enter_in_the_workflow_search_while_ringing_searches_and_does_not_answer(browser, stack, customers):
    page = login(browser, stack, fresh_agent(stack, "contact_account", prefix="kbd"))
    try:
        ringing(page, customers, "+358457770101")  # not identified: the dialog offers a search while it rings
        page.wait_for_selector("#wf-search", state="visible", timeout=5000)
        page.fill("#wf-search", "Virtanen")
        page.keyboard.press("Enter")
        page.wait_for_selector("#wf-search-results tbody tr", timeout=8000)
        assert "Virtanen" in page.text_content("#wf-search-results")
        assert page.text_content("#call-state") == "Ringing", "Enter in the search answered the call"
        assert page.is_visible("#incoming")

        page.keyboard.press("Escape")  # in the search field: clears it, the call still rings
        assert page.input_value("#wf-search") == ""
        assert page.text_content("#call-state") == "Ringing"
        page.screenshot(path=str(ARTIFACTS / "keyboard-ringing-search-full.png"), full_page=True)

        page.focus("#decline")
        page.keyboard.press("Enter")  # Enter on a focused button is that button's, not "answer"
        wait_state(page, "Call ended")
        assert page.evaluate("window.switchboardPhone.timings.answered_at_ms") is None
    finally:
        customers.hang_up_all()
        hang_up_all(stack)
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()
