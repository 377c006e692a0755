"""The Open CTI shell in Chromium against the whole stack: a fake Salesforce page (routed by
Playwright on https://example.lightning.force.com) frames /softphone exactly as Lightning's softphone
utility does, and serves a stub opencti_min.js that records every sforce.opencti call. The real
framing path runs: the CSP's frame-ancestors, opencti.js finding the parent origin and loading the
library from it, click-to-dial placing a real call with audio, and the screen pop of an inbound call."""

from __future__ import annotations

import json
import time

import pytest

from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME
from tests.support.paths import ARTIFACTS
from tests.support.phone import CHROMIUM_ARGS, login, ring, submit_login
from tests.support.stack import contact_id, fresh_agent

pytestmark = pytest.mark.e2e

SF_ORIGIN = "https://example.lightning.force.com"
OUTBOUND = "+358405550101"

# Records every call (arguments without functions), keeps the click-to-dial listener, answers callbacks.
STUB_OPENCTI = """
(() => {
  const cti = { calls: [], clickToDial: null };
  window.__cti = cti;
  const plain = (args) => JSON.parse(JSON.stringify(args || {}, (k, v) => (typeof v === 'function' ? undefined : v)));
  const method = (name) => (args) => {
    cti.calls.push({ name, args: plain(args) });
    if (name === 'onClickToDial') cti.clickToDial = args.listener;
    if (args && typeof args.callback === 'function') {
      setTimeout(() => args.callback({ success: true, returnValue: name === 'isSoftphonePanelVisible'
        ? { visible: true } : null, errors: null }), 0);
    }
  };
  const names = ['notifyInitializationComplete', 'enableClickToDial', 'disableClickToDial', 'onClickToDial',
    'screenPop', 'searchAndScreenPop', 'setSoftphonePanelVisibility', 'isSoftphonePanelVisible',
    'setSoftphoneItemIcon', 'setSoftphoneItemLabel', 'setSoftphonePanelLabel', 'setSoftphonePanelIcon',
    'getCallCenterSettings', 'saveLog', 'refreshView', 'onNavigationChange', 'getAppViewInfo'];
  const api = {
    SCREENPOP_TYPE: { SOBJECT: 'sobject', URL: 'url', OBJECTHOME: 'objecthome', LIST: 'list', SEARCH: 'search',
                      NEW_RECORD_MODAL: 'newRecord', FLOW: 'flow' },
    CALL_TYPE: { INBOUND: 'inbound', OUTBOUND: 'outbound', INTERNAL: 'internal' },
  };
  for (const n of names) api[n] = method(n);
  window.sforce = { opencti: api };
})();
"""


@pytest.fixture(scope="module")
def sf_browser(stack):
    """Chromium that treats the stack's http origin as secure (a deployment serves https) so the
    session cookie can be SameSite=None; Secure; Partitioned, as an embedded phone's must be; and
    without Local Network Access checks, which apply only because this test's "public" Salesforce
    page frames a phone on loopback (Chromium 142+ would block
    the frame and ICE to 127.0.0.1; a deployed phone is on a public https origin)."""
    from playwright.sync_api import sync_playwright

    args = [*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={stack.settings.public_url}",
            "--disable-features=LocalNetworkAccessChecks,LocalNetworkAccessChecksWebRTC"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
        yield b
        b.close()


def parent_page(softphone_url: str) -> str:
    return ("<!doctype html><html><head><title>Lightning</title></head>"
            "<body style='margin:0;background:#f3f3f3'>"
            f"<iframe id='softphone' src='{softphone_url}' allow='microphone; autoplay' "
            "style='border:0;width:400px;height:900px'></iframe></body></html>")


def poll(frame, expression: str, timeout: float = 10, what: str = "") -> object:
    """Evaluate ``expression`` in ``frame`` until it is truthy (no eval in the page: its CSP stays on)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = frame.evaluate(expression)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or expression}; last value {value!r}")


def calls_named(frame, name: str) -> list[dict]:
    return frame.evaluate(f"(window.__cti ? window.__cti.calls : []).filter(c => c.name === {json.dumps(name)})")


def framed_softphone(browser, stack, username: str):
    """A Chromium page on the fake Salesforce origin framing /softphone, logged in as ``username``.
    The session cookie gets SameSite=None (the setting for an embedded phone) so the framed,
    cross-site request carries it."""
    public = stack.settings.public_url
    context = browser.new_context(viewport={"width": 400, "height": 900})  # CSP enforced
    context.grant_permissions(["microphone"], origin=public)  # the agent allowed the microphone once
    page = context.new_page()
    errors = submit_login(page, stack, username)
    cookies = context.cookies()
    context.clear_cookies()
    context.add_cookies([{**c, "sameSite": "None", "secure": True, "partitionKey": SF_ORIGIN} for c in cookies])
    requested: list[str] = []

    def salesforce(route) -> None:
        url = route.request.url
        requested.append(url)
        if "/support/api/" in url and url.endswith("/lightning/opencti_min.js"):
            route.fulfill(status=200, content_type="application/javascript", body=STUB_OPENCTI)
        elif url.rstrip("/") == SF_ORIGIN:
            route.fulfill(status=200, content_type="text/html", body=parent_page(f"{public}/softphone"))
        else:
            route.fulfill(status=404, body="")

    page.route(f"{SF_ORIGIN}/**", salesforce)
    page.goto(f"{SF_ORIGIN}/")
    deadline = time.monotonic() + 10
    frame = None
    while frame is None and time.monotonic() < deadline:
        frame = next((f for f in page.frames if f.url.startswith(f"{public}/softphone")), None)
        time.sleep(0.05)
    assert frame is not None, f"no softphone frame; frames: {[f.url for f in page.frames]}"
    frame.wait_for_load_state()
    poll(frame, "document.querySelector('#reg-status') && "
         "document.querySelector('#reg-status').textContent.trim() === 'Registered'", 15, "registration")
    page.js_errors = errors  # type: ignore[attr-defined]
    page.requested = requested  # type: ignore[attr-defined]
    return page, frame


def test_framed_softphone_initializes_dials_on_click_to_dial_and_pops_the_caller(sf_browser, stack, customers):
    agent = fresh_agent(stack, "contact_account")
    page, frame = framed_softphone(sf_browser, stack, agent)

    # Initialization: the library came from the parent org's domain, and the shell reported in.
    poll(frame, "window.switchboardOpenCti && window.switchboardOpenCti.ready", 10, "Open CTI ready")
    assert frame.evaluate("window.switchboardOpenCti.origin") == SF_ORIGIN
    assert any(u.endswith("/lightning/opencti_min.js") for u in page.requested)  # type: ignore[attr-defined]
    assert len(calls_named(frame, "notifyInitializationComplete")) == 1
    assert len(calls_named(frame, "enableClickToDial")) == 1
    assert len(calls_named(frame, "onClickToDial")) == 1
    assert frame.evaluate("typeof window.__cti.clickToDial") == "function"

    # Click-to-dial from a Contact record: a real outbound call over the trunk to the carrier, with audio.
    frame.evaluate("window.__cti.clickToDial({number: '+358 40 555 0101', recordId: '003000000000001AAA', "
                   "recordName: 'Click Dial', objectType: 'Contact'})")
    poll(frame, "document.querySelector('#call-state').textContent === 'In call'", 15, "outbound call up")
    assert frame.text_content("#caller-number") == OUTBOUND
    poll(frame, "window.switchboardPhone.stats()", 10, "inbound RTP on the outbound call")
    assert frame.evaluate("window.switchboardOpenCti.lastDial") == {
        "number": "+358 40 555 0101", "recordId": "003000000000001AAA"}
    frame.click("#hangup")
    poll(frame, "document.querySelector('#call-state').textContent === 'Call ended'", 10, "call ended")

    # An inbound queue call from a single identified Contact opens the softphone panel (seed 2.1.1a:
    # the phone UI opens automatically) and pops that Contact in Salesforce.
    assert calls_named(frame, "setSoftphonePanelVisibility") == []  # not for the agent's own call
    expected = contact_id(stack, DEMO_CONTACT_NAME)
    ring(customers, number=DEMO_CALLER_NUMBER, name=DEMO_CONTACT_NAME)
    poll(frame, "!document.querySelector('#incoming').hidden", 10, "ringing")
    shown = poll(frame, "window.__cti.calls.filter(c => c.name === 'setSoftphonePanelVisibility')", 5,
                 "setSoftphonePanelVisibility")
    assert [c["args"] for c in shown] == [{"visible": True}]
    pops = poll(frame, "window.__cti.calls.filter(c => c.name === 'screenPop')", 8, "screenPop")
    assert len(pops) == 1, pops
    assert pops[0]["args"]["type"] == "sobject"
    assert pops[0]["args"]["params"] == {"recordId": expected}
    assert frame.text_content("#wf-id-name") == DEMO_CONTACT_NAME
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "opencti-ringing-400.png"))
    frame.click("#answer")
    poll(frame, "document.querySelector('#call-state').textContent === 'In call'", 10, "inbound answered")
    poll(frame, "window.switchboardPhone.stats()", 10, "inbound RTP on the queue call")
    page.screenshot(path=str(ARTIFACTS / "opencti-in-call-400.png"))
    frame.click("#hangup")
    poll(frame, "document.querySelector('#call-state').textContent === 'Call ended'", 10, "call ended")
    assert len(calls_named(frame, "screenPop")) == 1  # one pop per call, not one per event
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_softphone_alone_is_the_standalone_phone(sf_browser, stack):
    """Not framed by Salesforce: opencti.js stays quiet and loads nothing."""
    page = login(sf_browser, stack, "agent3")
    page.goto(f"{stack.settings.public_url}/softphone")
    page.wait_for_function("document.querySelector('#reg-status').textContent.trim() === 'Registered'",
                           timeout=15000)
    assert page.evaluate("window.switchboardOpenCti.framed") is False
    assert page.evaluate("window.switchboardOpenCti.ready") is False
    assert page.evaluate("!!document.querySelector('script[src*=opencti_min]')") is False
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()
