"""The web phone in Chromium (Playwright's sync API) and the calls around it: log an agent in, ring them
with a customer over the trunk, wait for what the page shows, find the customer's channel."""

from __future__ import annotations

import time
from typing import Any

from control.stack import DEMO_PASSWORD
from tests.support.ami import AmiWatch
from tests.support.paths import ARTIFACTS
from tests.support.sipp import CustomerCall, SipCustomers

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required",
]
CUSTOMER = "+358401234567"
CUSTOMER_NAME = "Maija Virtanen"
CS_EN_NUMBER = "+35891000001"
TRUNK_CHANNEL = "PJSIP/trunk-"


def login(browser: Any, stack: Any, username: str) -> Any:
    """A page logged in as ``username`` and registered to Asterisk."""
    context = browser.new_context(viewport={"width": 1100, "height": 760}, bypass_csp=True)  # for wait_for_function
    return sign_in(context.new_page(), stack, username)


def submit_login(page: Any, stack: Any, username: str) -> list[str]:
    """Log ``page`` in as ``username`` with the login form (until the phone page loads); the list that
    collects the page's JavaScript errors from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{stack.settings.public_url}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/phone")
    return errors


def sign_in(page: Any, stack: Any, username: str) -> Any:
    """``page`` (of any context: a persistent one too) logged in as ``username`` and registered to Asterisk."""
    errors = submit_login(page, stack, username)
    page.wait_for_function("document.querySelector('#reg-status').textContent.trim() === 'Registered'",
                           timeout=15000)
    # and the call events: an offer sent before the socket joined its room is only fetched later
    page.wait_for_function("document.querySelector('#link-status').dataset.state === 'connected'", timeout=15000)
    page.js_errors = errors
    return page


def ring(customers: SipCustomers, number: str = CUSTOMER, name: str = CUSTOMER_NAME,
         queue_number: str = CS_EN_NUMBER, talk: float | None = None) -> CustomerCall:
    """A customer calls ``queue_number`` over the trunk (talks until hung up, or ``talk`` seconds)."""
    return customers.call(queue_number, number, name, talk=talk)


def ringing(page: Any, customers: SipCustomers, number: str, name: str = "Customer") -> str:
    """A customer calls Customer Service EN and ``page`` rings with the workflow's identity line; the call id."""
    for attempt in range(3):  # the agent's device may still be "in use" from the previous test's call
        ring(customers, number=number, name=name)
        try:
            page.wait_for_selector("#incoming", state="visible", timeout=8000)
            break
        except Exception:
            if attempt == 2:
                raise
            customers.hang_up_all()
            time.sleep(2)
    page.wait_for_function("window.switchboardPhone.currentCallId()", timeout=5000)
    page.wait_for_selector("#wf-identity", state="visible", timeout=5000)
    return page.evaluate("window.switchboardPhone.currentCallId()")


def wait_state(page: Any, text: str, timeout: float = 10000) -> None:
    """Wait until the call card shows ``text`` (Calling…, In call, Call ended)."""
    page.wait_for_function(f"document.querySelector('#call-state').textContent === {text!r}", timeout=timeout)


def wait_audio(page: Any, timeout: float = 10) -> int:
    """Inbound audio bytes of the current call, once some arrived."""
    deadline = time.monotonic() + timeout
    received = 0
    while time.monotonic() < deadline and received == 0:
        received = page.evaluate("window.switchboardPhone.stats()")
        time.sleep(0.2)
    assert received > 0, "no inbound RTP reached the browser"
    return received


def choose(page: Any, label: str) -> None:
    """The agent picks the availability status ``label`` in the page."""
    page.wait_for_function("document.querySelector('#presence-select').options.length > 0", timeout=5000)
    page.select_option("#presence-select", label=label)


def finish(page: Any) -> None:
    """The agent hangs up and the card says so."""
    page.click("#hangup")
    wait_state(page, "Call ended", timeout=5000)
    time.sleep(1.0)


def customer_channel(ami: AmiWatch, number: str) -> str:
    """The trunk channel of the customer an agent's call (or a transfer) dialled at ``number``."""
    e = ami.wait_for(lambda e: e.get("Event") == "DialBegin" and e.get("DialString") == f"{number}@trunk"
                     and e.get("DestChannel", "").startswith(TRUNK_CHANNEL))
    return e["DestChannel"]


def hang_up_all(stack: Any) -> None:
    """End every call still up (between tests)."""
    stack.asterisk.cli("channel request hangup all", check=False)


def shots(page: Any, name: str) -> None:
    """test-artifacts/<name>-full.png, then <name>-400.png at a Salesforce utility bar's width."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-full.png"), full_page=True)
    page.set_viewport_size({"width": 400, "height": 900})
    time.sleep(0.2)
    page.screenshot(path=str(ARTIFACTS / f"{name}-400.png"), full_page=True)
    page.set_viewport_size({"width": 1100, "height": 760})
