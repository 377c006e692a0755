"""An agent's outbound call is a call like any other: one Task (Outbound, our display number as Phone
From), in the agent's history, and related to the Salesforce record the agent clicked to dial from."""

from __future__ import annotations

import time

import pytest

from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME
from switchboard.salesforce import soql_quote
from tests.support.phone import login, wait_audio, wait_state
from tests.support.stack import sf_client

pytestmark = pytest.mark.e2e


def test_click_to_dial_from_a_contact_writes_one_outbound_task_related_to_it(browser, stack):
    sf = sf_client(stack)
    contact = sf.query(f"SELECT Id FROM Contact WHERE Name = {soql_quote(DEMO_CONTACT_NAME)}")["records"][0]
    page = login(browser, stack, "agent3")
    page.evaluate("([n, r]) => window.switchboardPhone.core.dial(n, {recordId: r})",
                  [DEMO_CALLER_NUMBER, contact["Id"]])
    wait_state(page, "In call", timeout=15000)
    wait_audio(page)
    page.wait_for_function("window.switchboardPhone.currentCallId() !== null", timeout=5000)
    call_id = page.evaluate("window.switchboardPhone.currentCallId()")
    page.wait_for_function("window.switchboardWorkflows && window.switchboardWorkflows.chosen", timeout=5000)
    time.sleep(1.0)
    page.click("#hangup")
    wait_state(page, "Call ended")
    deadline = time.monotonic() + 6
    tasks: list = []
    while time.monotonic() < deadline and not tasks:
        tasks = sf.query("SELECT Id, CallType, WhoId, Phone_From__c, Phone_Number_2__c, CallDisposition, "
                         "CallDurationInSeconds FROM Task WHERE CallObject = " + soql_quote(call_id))["records"]
        time.sleep(0.2)
    assert len(tasks) == 1
    task = tasks[0]
    assert task["CallType"] == "Outbound"
    assert task["WhoId"] == contact["Id"]
    assert task["Phone_Number_2__c"].replace(" ", "") == DEMO_CALLER_NUMBER.replace(" ", "")
    assert task["Phone_From__c"] == stack.settings.company_number
    assert task["CallDisposition"] == "answered" and task["CallDurationInSeconds"] >= 1
    page.reload()
    page.wait_for_selector("#history-list li", timeout=5000)
    numbers = page.eval_on_selector_all("#history-list .history-number", "els => els.map(e => e.textContent)")
    assert DEMO_CALLER_NUMBER.replace(" ", "") in [n.replace(" ", "") for n in numbers]
    page.context.close()
