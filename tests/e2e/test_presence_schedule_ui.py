"""The presence panel's upcoming-availability form in Chromium against the whole stack: add a
scheduled status, see it listed (and stored), remove it, see it gone."""

from __future__ import annotations

import pytest

from tests.support.paths import ARTIFACTS
from tests.support.phone import login
from tests.support.stack import fresh_agent

pytestmark = pytest.mark.e2e

LOCAL_INPUT = """(hoursAhead) => {
  const d = new Date(Date.now() + hoursAhead * 3600e3);
  d.setSeconds(0, 0);
  const p = (n) => String(n).padStart(2, '0');
  return [`${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`,
          d.getTime() / 1000];
}"""


def api_presence(page) -> dict:
    return page.evaluate("fetch('/api/presence', {credentials: 'same-origin'}).then(r => r.json())")


def test_schedule_form_adds_lists_and_removes_an_upcoming_availability(browser, stack):
    agent = fresh_agent(stack)
    page = login(browser, stack, agent)
    page.wait_for_function("document.querySelector('#schedule-status').options.length > 0", timeout=5000)
    page.wait_for_selector("#schedule-list li.muted", state="attached", timeout=5000)
    assert page.text_content("#schedule-list") == "No upcoming availabilities"
    page.click("#presence-schedules summary")
    start, start_epoch = page.evaluate(LOCAL_INPUT, 24)
    end, end_epoch = page.evaluate(LOCAL_INPUT, 26)
    page.select_option("#schedule-status", label="DND")
    page.fill("#schedule-start", start)
    page.fill("#schedule-end", end)
    page.click("#schedule-add")

    item = page.locator("#schedule-list li.schedule-item")
    item.first.wait_for(state="visible", timeout=5000)
    assert item.count() == 1
    assert item.first.text_content().startswith("DND, ")
    assert page.text_content("#schedule-count") == "(1)"
    assert page.input_value("#schedule-start") == ""  # the form was reset after the add
    assert page.is_hidden("#presence-error")
    stored = api_presence(page)["schedules"]
    assert len(stored) == 1
    assert stored[0]["starts_at"] == start_epoch and stored[0]["ends_at"] == end_epoch
    page.screenshot(path=str(ARTIFACTS / "presence-schedule-listed.png"), full_page=True)

    remove = page.locator(f"#schedule-remove-{stored[0]['id']}")
    assert remove.get_attribute("aria-label").startswith("Remove DND ")
    remove.click()
    item.first.wait_for(state="detached", timeout=5000)
    assert page.text_content("#schedule-list") == "No upcoming availabilities"
    assert page.text_content("#schedule-count") == ""
    assert api_presence(page)["schedules"] == []
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()
