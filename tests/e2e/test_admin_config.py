"""Admin configuration end to end, all real (CLI, Asterisk, Chromium, customers over the trunk): an agent's
work number set with `switchboard agent set` is the display number the carrier's customer sees, and a
customer calling it rings the agent as a direct call that a DND agent refuses (busy); a queue's wrap-up
set with `switchboard admin queue wrapup` is enforced in Asterisk after the next answered call. No
restart anywhere."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from switchboard.store import Store
from tests.support.phone import choose, login, ring, shots, wait_state
from tests.support.stack import cli, cli_env, fresh_agent, member_line, wait_for

pytestmark = pytest.mark.e2e

CUSTOMER = "+358407770123"


def new_work_number() -> str:
    """A Finnish mobile number no other agent or queue has."""
    return f"+35850{int(time.time() * 1000) % 10**7:07d}"


def give_work_number(stack, agent: str) -> str:
    """Set a fresh work number with the CLI and wait until Asterisk routes it to the agent."""
    number = new_work_number()
    r = cli(stack, "agent", "set", agent, "--work-number", number)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: f"sb-work-number,{agent}" in stack.asterisk.cli(
        f"dialplan show {number}@from-trunk", check=False).stdout, 10, "the work number is not in the dialplan")
    return number


def test_the_work_number_is_a_display_number_the_customer_sees(browser, stack, carrier):
    agent = fresh_agent(stack, prefix="wn")
    number = give_work_number(stack, agent)
    page = login(browser, stack, agent)
    page.wait_for_function("[...document.querySelectorAll('#display-number option')].some(o => o.value === 'work')",
                           timeout=5000)
    label = page.eval_on_selector("#display-number option[value=work]", "o => o.textContent")
    assert number in label
    page.select_option("#display-number", "work")
    shots(page, "workflow-admin-work-number-display")
    page.fill("#dial-number", "+358401000077")
    page.click("#dial-call")
    wait_state(page, "In call")
    shown = carrier.invite_to("+358401000077").header("From")  # what reached the customer's network
    assert f"<sip:{number}@" in shown, shown
    page.click("#hangup")
    wait_state(page, "Call ended")
    page.context.close()


def test_a_call_to_the_work_number_rings_the_agent_directly_and_dnd_refuses_it(browser, stack, ami, customers):
    agent = fresh_agent(stack, prefix="wd")
    number = give_work_number(stack, agent)
    page = login(browser, stack, agent)
    # `switchboard call --to` (the demo's customer, sent over SIP into the trunk) dials the agent's DID
    demo = subprocess.Popen([sys.executable, "-m", "control.cli", "call", "--from", CUSTOMER, "--name",
                             "Work Caller", "--to", number, "--hangup-after", "6"], env=cli_env(stack),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    page.wait_for_selector("#incoming", state="visible", timeout=10000)
    assert page.text_content("#caller-number").strip() == CUSTOMER
    assert page.text_content("#caller-name").strip() == "Work Caller"
    assert page.text_content("#queue-name").strip() == "Direct"  # not a queue call
    shots(page, "workflow-admin-work-number-ringing")
    out, err = demo.communicate(timeout=30)
    assert demo.returncode == 0 and number in out, err
    page.wait_for_selector("#incoming", state="hidden", timeout=5000)  # the customer hung up

    choose(page, "DND")
    wait_for(lambda: "dnd" in stack.asterisk.cli(f"database get switchboard/presence {agent}").stdout, 5,
             "DND did not reach Asterisk")
    ami.events.clear()
    refused = customers.call(number, CUSTOMER, "Work Caller")  # a carrier's customer, from SIPp
    with pytest.raises(Exception):  # noqa: B017  (playwright's TimeoutError): a DND agent does not ring
        page.wait_for_selector("#incoming", state="visible", timeout=3000)
    dialed = [e.get("DestChannel", "") for e in ami.events if e.get("Event") == "DialBegin"]
    assert not [c for c in dialed if f"/{agent}" in c], dialed
    outcome = refused.wait(15)  # the customer hears busy: the INVITE is refused, never answered
    assert outcome.final_status == 486 and outcome.ended_by is None, outcome
    r = cli(stack, "call", "--from", CUSTOMER, "--to", number)  # and the demo's customer is told so
    assert r.returncode != 0 and "busy" in r.stderr, r.stderr
    choose(page, "Available")
    page.context.close()


@pytest.fixture
def cs_fi_wrapup_restored(stack):
    """Leave Customer Service FI without wrap-up (the demo data) for the tests that follow."""
    yield
    store = Store(stack.settings.database_url)
    store.set_queue_wrapup("cs-fi", 0, [], False)
    store.engine.dispose()


def test_a_wrapup_time_set_by_the_admin_is_enforced_in_asterisk(browser, stack, customers, cs_fi_wrapup_restored):
    agent = fresh_agent(stack, queue="Customer Service FI", prefix="wu")
    wait_for(lambda: member_line(stack, agent, "cs-fi") is not None, 10, "not a member of cs-fi")
    r = cli(stack, "admin", "queue", "wrapup", "Customer Service FI", "--seconds", "6", "--code", "Sold",
            "--code", "No sale", "--optional")
    assert r.returncode == 0, r.stderr
    page = login(browser, stack, agent)
    ring(customers, number="+358407770124", name="Wrap Up", queue_number="+35891000002")
    page.wait_for_selector("#incoming", state="visible", timeout=10000)
    page.click("#answer")
    wait_state(page, "In call")
    time.sleep(0.5)
    page.click("#hangup")
    ended = time.monotonic()
    page.wait_for_selector("#wrapup-dialog[open]", timeout=5000)
    assert page.text_content("#wrapup-code-0") == "Sold" and page.text_content("#wrapup-code-1") == "No sale"
    wait_for(lambda: "paused:wrap-up" in member_line(stack, agent, "cs-fi"), 5, "not paused for wrap-up")
    assert time.monotonic() - ended < 5, "the wrap-up ended early"
    shots(page, "workflow-admin-wrapup")
    wait_for(lambda: "paused" not in member_line(stack, agent, "cs-fi"), 10, "the 6 s wrap-up did not end")
    assert time.monotonic() - ended > 4, "the wrap-up was shorter than the admin set"
    page.context.close()
