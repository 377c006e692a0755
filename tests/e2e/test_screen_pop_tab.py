"""Screen pop outside Salesforce, in Chromium against the whole stack. A real browser blocks a
window.open made without a user gesture; Playwright does not, and its own calls into the page count
as gestures, so the page's window.open and navigator.userActivation are stubbed to behave like a
browser with its pop-up blocker: only the agent's real input (trusted clicks and keys) is a gesture,
and window.open returns null without one. A pop found while the phone rings opens the record's
Lightning URL in the one named tab on the agent's Answer click; when the browser blocks it, an
"Open record" link to the same named tab is shown, and clicking it twice reuses one tab. The page
also offers itself as the browser's tel: handler, and a tel: URI through /dial calls the number."""

from __future__ import annotations

import json
import time

import pytest

from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME
from tests.support.phone import customer_channel, login, ringing, shots, wait_state
from tests.support.stack import fresh_agent

pytestmark = pytest.mark.e2e

LIGHTNING = "https://example.lightning.force.com"
TAB = "switchboard-salesforce"
# A browser's pop-up blocker: a gesture is a trusted input event, for the task that handles it; window.open
# without one (or with window.__openReturns = 'null': a stricter blocker) returns null. Records every
# window.open call and every tel: handler registration.
STUB = """
(() => {
  let gesture = false;
  for (const type of ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click', 'keydown', 'keyup']) {
    window.addEventListener(type, (e) => {
      if (!e.isTrusted) return;
      gesture = true;
      setTimeout(() => { gesture = false; }, 0);
    }, true);
  }
  Object.defineProperty(navigator, 'userActivation', { configurable: true,
    get: () => ({ isActive: gesture, hasBeenActive: true }) });
  window.__opened = [];
  window.__openReturns = 'tab';
  window.open = (url, name) => {
    window.__opened.push({ url: String(url), name: String(name), gesture });
    return gesture && window.__openReturns !== 'null' ? { closed: false, focus() {} } : null;
  };
  window.__protocolHandlers = [];
  navigator.registerProtocolHandler = (scheme, url) => window.__protocolHandlers.push([scheme, url]);
})();
"""


def with_lightning_url(route) -> None:
    """The identity the page fetches, as a stack configured with the org's Lightning URL sends it."""
    response = route.fetch()
    if response.status != 200:
        route.fulfill(response=response)
        return
    body = response.json()
    body["lightning_url"] = LIGHTNING
    route.fulfill(response=response, body=json.dumps(body), content_type="application/json")


def stubbed_phone(browser, stack, agent: str):
    page = login(browser, stack, agent)
    page.context.add_init_script(STUB)
    page.route(lambda url: "/identity" in url, with_lightning_url)
    page.evaluate("localStorage.removeItem('switchboard.telHandler')")
    page.reload()
    page.wait_for_function("document.querySelector('#reg-status').textContent.trim() === 'Registered'",
                           timeout=15000)
    page.wait_for_function("document.querySelector('#link-status').dataset.state === 'connected'", timeout=15000)
    return page


def contact_url(page, nth: int = 1) -> str:
    """The Lightning URL of the ``nth`` record the page popped (a Contact)."""
    page.wait_for_function(f"window.switchboardWorkflows.popped.length === {nth}", timeout=5000)
    popped = page.evaluate("window.switchboardWorkflows.popped.at(-1)")
    assert popped["object"] == "Contact"
    return f"{LIGHTNING}/lightning/r/Contact/{popped['recordId']}/view"


def end_call(page, customers) -> None:
    page.click("#hangup")
    wait_state(page, "Call ended")
    customers.hang_up_all()
    time.sleep(1.0)


def test_a_ring_time_pop_opens_the_named_tab_on_answer_or_leaves_an_open_record_link(browser, stack, customers):
    page = stubbed_phone(browser, stack, fresh_agent(stack, "contact_account", prefix="pop"))
    assert page.evaluate("window.__protocolHandlers") == [["tel", f"{stack.settings.public_url}/dial?number=%s"]]

    ringing(page, customers, DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME)  # a single identified Contact pops at ring
    url = contact_url(page)
    page.wait_for_selector("#screen-pop", state="visible", timeout=3000)
    assert page.evaluate("window.__opened") == []  # no pop-up without a gesture: a browser would block it
    assert page.get_attribute("#screen-pop", "data-state") == "pending"
    assert page.get_attribute("#screen-pop-link", "href") == url
    assert page.get_attribute("#screen-pop-link", "target") == TAB
    page.click("#answer")
    page.wait_for_function("window.__opened.length === 1", timeout=3000)
    assert page.evaluate("window.__opened") == [{"url": url, "name": TAB, "gesture": True}]
    page.wait_for_selector("#screen-pop", state="hidden", timeout=3000)
    wait_state(page, "In call")
    end_call(page, customers)

    page.evaluate("window.__openReturns = 'null'")  # now the browser blocks the pop-up
    ringing(page, customers, DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME)
    url = contact_url(page, 2)
    page.click("#answer")
    page.wait_for_selector("#screen-pop[data-state=blocked]", timeout=3000)
    assert len(page.evaluate("window.__opened")) == 2  # it was tried, on the click
    assert page.is_visible("#screen-pop-link")
    assert page.text_content("#screen-pop-link") == "Open record"
    assert "allow pop-ups" in page.text_content("#screen-pop-note")
    assert page.get_attribute("#screen-pop-link", "href") == url
    shots(page, "workflow-screen-pop-blocked")

    # The link is an ordinary link to the named tab: a first click opens it, a second reuses it.
    page.context.route(f"{LIGHTNING}/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>Lightning</title>record"))
    with page.context.expect_page() as opened:
        page.click("#screen-pop-link")
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == url and tab.evaluate("window.name") == TAB
    page.wait_for_selector("#screen-pop", state="hidden", timeout=3000)
    pages = len(page.context.pages)
    page.evaluate("document.querySelector('#screen-pop').hidden = false")
    page.click("#screen-pop-link")
    time.sleep(1.0)
    assert len(page.context.pages) == pages  # the same tab, not a new one
    end_call(page, customers)
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_a_declined_call_drops_its_waiting_pop(browser, stack, customers):
    page = stubbed_phone(browser, stack, fresh_agent(stack, "contact_account", prefix="pop"))
    try:
        ringing(page, customers, DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME)
        contact_url(page)
        page.wait_for_selector("#screen-pop[data-state=pending]", timeout=3000)
        page.click("#decline")
        wait_state(page, "Call ended")
        page.wait_for_selector("#screen-pop", state="hidden", timeout=3000)
        assert page.evaluate("window.__opened") == []
    finally:
        customers.hang_up_all()
    page.context.close()


def test_a_tel_uri_through_dial_calls_the_number(browser, stack, ami):
    page = login(browser, stack, fresh_agent(stack, prefix="tel"))
    page.goto(f"{stack.settings.public_url}/dial?number=tel%3A%2B358-40-555-0401%3Bext%3D7")
    wait_state(page, "In call", timeout=15000)
    assert page.text_content("#caller-number") == "+358405550401"
    customer_channel(ami, "+358405550401")
    page.keyboard.press("Escape")
    wait_state(page, "Call ended")
    page.context.close()
