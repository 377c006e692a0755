"""Seed section 2, the phone workflow scenarios test_workflow_dialogs.py does not cover: what the agent
sees (identity line, dialog, buttons) and what lands in the Salesforce emulator (the call Task's
WhoId/WhatId, a Case created or not, a Contact's phone). One fresh agent per test."""

from __future__ import annotations

import random
import time

import pytest

from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME, DEMO_LEAD_NAME, DEMO_LEAD_PHONE, DEMO_SHARED_PHONE
from switchboard.salesforce import soql_quote
from tests.support.paths import ARTIFACTS
from tests.support.phone import finish, login, ringing, wait_state
from tests.support.stack import fresh_agent, sf_client, task_of

pytestmark = pytest.mark.e2e

SHARED = DEMO_SHARED_PHONE.replace(" ", "")


def shot(page, name: str) -> None:
    """test-artifacts/scenario-<name>.png at 400 px wide."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 400, "height": 900})
    time.sleep(0.2)
    page.screenshot(path=str(ARTIFACTS / f"scenario-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1100, "height": 760})


def unknown_number() -> str:
    """A Finnish mobile number no seeded record has."""
    return f"+358458{random.randint(0, 999999):06d}"


def record(stack, sobject: str, record_id: str, fields: str) -> dict:
    return sf_client(stack).query(f"SELECT {fields} FROM {sobject} WHERE Id = {soql_quote(record_id)}")["records"][0]


def record_id_by_name(stack, sobject: str, name: str) -> str:
    return sf_client(stack).query(f"SELECT Id FROM {sobject} WHERE Name = {soql_quote(name)}")["records"][0]["Id"]


def answer(page) -> None:
    page.click("#answer")
    wait_state(page, "In call", timeout=10000)


def click_to_dial(page, number: str, record_id: str) -> str:
    """Click-to-dial from a Salesforce record; the call id once the customer answered."""
    page.evaluate("([n, r]) => window.switchboardPhone.core.dial(n, {recordId: r})", [number, record_id])
    wait_state(page, "In call", timeout=15000)
    page.wait_for_function("window.switchboardPhone.currentCallId() !== null", timeout=5000)
    page.wait_for_function("window.switchboardWorkflows.chosen", timeout=5000)
    return page.evaluate("window.switchboardPhone.currentCallId()")


def cases_of_call(stack, number: str, since: str) -> list[dict]:
    """Cases created for a call from/to ``number`` after ``since`` (ISO time)."""
    return [c for c in sf_client(stack).query(
        f"SELECT Id, ContactId, SuppliedPhone, CreatedDate FROM Case WHERE SuppliedPhone = {soql_quote(number)}"
    )["records"] if (c.get("CreatedDate") or "") >= since]


# Case workflow -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["not_identified", "multiple"])
def test_case_unidentified_or_multiple_creates_a_case_without_customer_on_answer(browser, stack, customers, kind):
    """2.1.2: the phone rings and nothing else happens; on answer a Case without customer is created."""
    number = unknown_number() if kind == "not_identified" else SHARED
    page = login(browser, stack, fresh_agent(stack, "case"))
    call_id = ringing(page, customers, number)
    assert page.text_content("#wf-id-kind") == ("Not identified" if kind == "not_identified" else "2 matches")
    time.sleep(0.5)
    assert page.is_hidden("#wf-dialog")
    assert page.evaluate("window.switchboardWorkflows.popped.length") == 0  # no other action while ringing
    assert page.evaluate("window.switchboardWorkflows.caseId") is None
    answer(page)
    page.wait_for_function("window.switchboardWorkflows.caseId", timeout=8000)
    case_id = page.evaluate("window.switchboardWorkflows.caseId")
    assert page.evaluate("window.switchboardWorkflows.popped.at(-1)") == {"recordId": case_id, "object": "Case"}
    shot(page, f"case-{kind}")
    finish(page)
    case = record(stack, "Case", case_id, "Id, ContactId, AccountId, SuppliedPhone, Origin")
    assert not case["ContactId"] and not case["AccountId"] and case["Origin"] == "Phone"
    assert case["SuppliedPhone"] == number
    task = task_of(stack, call_id)
    assert task["WhatId"] == case_id and not task["WhoId"]
    page.context.close()


def test_case_outbound_single_creates_a_case_with_the_contact_when_answered(browser, stack):
    """2.1.3: click-to-dial from the contact; the customer answers: a Case with the contact."""
    contact_id = record_id_by_name(stack, "Contact", DEMO_CONTACT_NAME)
    page = login(browser, stack, fresh_agent(stack, "case"))
    call_id = click_to_dial(page, DEMO_CALLER_NUMBER, contact_id)
    page.wait_for_function("window.switchboardWorkflows.caseId", timeout=8000)
    case_id = page.evaluate("window.switchboardWorkflows.caseId")
    assert page.evaluate("window.switchboardWorkflows.popped.at(-1)") == {"recordId": case_id, "object": "Case"}
    assert page.text_content("#wf-id-name") == DEMO_CONTACT_NAME
    shot(page, "case-outbound-single")
    time.sleep(0.5)
    finish(page)
    case = record(stack, "Case", case_id, "Id, ContactId, Subject")
    assert case["ContactId"] == contact_id and case["Subject"].startswith("Outbound call to")
    task = task_of(stack, call_id)
    assert task["WhatId"] == case_id and task["WhoId"] == contact_id
    page.context.close()


# CaseDialog workflow -------------------------------------------------------------------------------------
def test_case_dialog_not_identified_new_case_relates_the_task(browser, stack, customers):
    """2.2.1: number + queue, search by name, "New Case" without identification, Close."""
    number = unknown_number()
    page = login(browser, stack, fresh_agent(stack, "case_dialog"))
    call_id = ringing(page, customers, number)
    page.wait_for_selector("#wf-dialog .wf-footer", timeout=5000)
    title = page.text_content("#wf-title")
    assert number in title and "Customer Service EN" in title
    assert page.text_content("#wf-id-kind") == "Not identified"
    assert page.is_visible("#wf-search")
    for label in ("New Case", "Close"):
        assert page.is_visible(f"#wf-dialog button:text-is('{label}')")
    page.fill("#wf-search", DEMO_CONTACT_NAME.split()[0])
    page.click("#wf-search-results >> xpath=.. >> button[type=submit]")
    page.wait_for_selector("#wf-search-results tbody tr", timeout=5000)
    shot(page, "case_dialog-not-identified")
    answer(page)
    page.click("#wf-dialog button:text-is('New Case')")
    page.wait_for_function("window.switchboardWorkflows.caseId", timeout=5000)
    case_id = page.evaluate("window.switchboardWorkflows.caseId")
    page.wait_for_selector("#wf-dialog", state="hidden", timeout=5000)
    finish(page)
    assert not record(stack, "Case", case_id, "Id, ContactId")["ContactId"]
    task = task_of(stack, call_id)
    assert task["WhatId"] == case_id and not task["WhoId"]
    page.context.close()


def test_case_dialog_multiple_choose_contact_then_new_case_for_it(browser, stack, customers):
    """2.2.3: the matches are listed; choosing one opens the single-identified dialog; New Case there."""
    page = login(browser, stack, fresh_agent(stack, "case_dialog"))
    call_id = ringing(page, customers, SHARED)
    page.wait_for_selector("#wf-dialog .wf-table tbody tr", timeout=5000)
    assert "Customer Service EN" in page.text_content("#wf-title")
    heads = page.locator("#wf-dialog .wf-table th").all_text_contents()
    assert heads[:3] == ["Type", "Full Name", "Account Name"]
    rows = page.locator("#wf-dialog .wf-table tbody tr")
    assert rows.count() == 2 and set(rows.evaluate_all("rs => rs.map(r => r.dataset.type)")) == {"Contact"}
    assert page.is_visible("#wf-search")
    assert page.is_visible("#wf-dialog button:text-is('New Case')")
    shot(page, "case_dialog-multiple")
    contact_id = rows.first.get_attribute("data-id")
    name = rows.first.locator("td").nth(1).text_content()
    answer(page)
    rows.first.locator("button.choose").click()
    page.wait_for_selector("#wf-contact", timeout=5000)
    assert name in page.text_content("#wf-contact")
    # the buttons follow the contact's recent cases, which the dialog fetches after drawing the contact
    page.wait_for_selector("#wf-dialog button:text-is('New Case – Not identified')", timeout=5000)
    page.click("#wf-dialog button:text-is('New Case')")
    page.wait_for_function("window.switchboardWorkflows.caseId", timeout=5000)
    case_id = page.evaluate("window.switchboardWorkflows.caseId")
    finish(page)
    assert record(stack, "Case", case_id, "Id, ContactId")["ContactId"] == contact_id
    task = task_of(stack, call_id)
    assert task["WhatId"] == case_id and task["WhoId"] == contact_id
    page.context.close()


def test_case_dialog_outbound_has_no_dialog_and_relates_the_task_to_the_contact(browser, stack):
    """2.2.4: no workflow action for outbound calls; the Task names the contact dialled from."""
    contact_id = record_id_by_name(stack, "Contact", DEMO_CONTACT_NAME)
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
    page = login(browser, stack, fresh_agent(stack, "case_dialog"))
    call_id = click_to_dial(page, DEMO_CALLER_NUMBER, contact_id)
    time.sleep(1.0)
    assert page.is_hidden("#wf-dialog")
    assert page.evaluate("window.switchboardWorkflows.caseId") is None
    shot(page, "case_dialog-outbound")
    finish(page)
    task = task_of(stack, call_id)
    assert task["WhoId"] == contact_id and not (task["WhatId"] or "").startswith("500")  # no case
    assert not cases_of_call(stack, DEMO_CALLER_NUMBER, since)
    page.context.close()


# Contact&Account workflow --------------------------------------------------------------------------------
def test_contact_account_not_identified_update_phone_then_caller_is_identified(browser, stack, customers):
    """2.3.1: search by name, update the phone of the found contact and choose it; the next call from
    that number is a single identified caller."""
    sf = sf_client(stack)
    last = f"Scenario{random.randint(0, 10**8):08d}"
    contact_id = sf.Contact.create({"FirstName": "Sanna", "LastName": last, "Phone": "+44 20 7946 0000"})["id"]
    number = unknown_number()
    page = login(browser, stack, fresh_agent(stack, "contact_account"))
    call_id = ringing(page, customers, number)
    page.wait_for_selector("#wf-dialog .wf-footer", timeout=5000)
    assert page.text_content("#wf-id-kind") == "Not identified"
    assert number in page.text_content("#wf-title")
    page.fill("#wf-search", last)
    page.click("#wf-search-results >> xpath=.. >> button[type=submit]")
    row = page.locator(f"#wf-search-results tbody tr[data-id='{contact_id}']")
    row.wait_for(timeout=5000)
    shot(page, "contact_account-not-identified-search")
    answer(page)
    row.locator("button:text-is('Update phone')").click()
    page.wait_for_function("document.querySelector('#wf-message').textContent.includes('set to')", timeout=5000)
    assert record(stack, "Contact", contact_id, "Id, Phone")["Phone"] == number
    row.locator("button.choose").click()
    page.wait_for_function(f"window.switchboardWorkflows.chosen === {contact_id!r}", timeout=5000)
    page.wait_for_selector("#wf-dialog", state="hidden", timeout=5000)
    assert page.evaluate("window.switchboardWorkflows.popped.at(-1)") == {"recordId": contact_id, "object": "Contact"}
    finish(page)
    assert task_of(stack, call_id)["WhoId"] == contact_id
    # the same number again: now a single identified caller, the contact pops, no dialog
    second = ringing(page, customers, number)
    assert second != call_id
    assert page.text_content("#wf-id-kind") == "Contact"
    assert page.text_content("#wf-id-name") == f"Sanna {last}"
    page.wait_for_function("window.switchboardWorkflows.popped.length === 2", timeout=3000)
    assert page.evaluate("window.switchboardWorkflows.popped.at(-1).recordId") == contact_id
    assert page.is_hidden("#wf-dialog")
    shot(page, "contact_account-updated-phone-identified")
    answer(page)
    finish(page)
    assert task_of(stack, second)["WhoId"] == contact_id
    page.context.close()


def test_contact_account_not_identified_new_contact_gets_the_caller_number(browser, stack, customers):
    """2.3.1: "New Contact" / "New Account"; the caller number is the new record's phone."""
    number = unknown_number()
    page = login(browser, stack, fresh_agent(stack, "contact_account"))
    call_id = ringing(page, customers, number)
    page.wait_for_selector("#wf-dialog .wf-new", timeout=5000)
    assert number in page.text_content("#wf-dialog .wf-new h3")
    assert page.is_visible("text=New Contact") and page.is_visible("text=New Account")
    answer(page)
    page.fill("#wf-first", "Ville")
    page.fill("#wf-last", "Uusi")
    page.click("#wf-dialog button:text-is('New Contact')")
    page.wait_for_function("window.switchboardWorkflows.chosen", timeout=5000)
    contact_id = page.evaluate("window.switchboardWorkflows.chosen")
    assert contact_id.startswith("003")
    assert page.evaluate("window.switchboardWorkflows.popped.at(-1)") == {"recordId": contact_id, "object": "Contact"}
    shot(page, "contact_account-new-contact")
    finish(page)
    contact = record(stack, "Contact", contact_id, "Id, Phone, FirstName, LastName")
    assert (contact["Phone"], contact["FirstName"], contact["LastName"]) == (number, "Ville", "Uusi")
    assert task_of(stack, call_id)["WhoId"] == contact_id
    page.context.close()


@pytest.mark.parametrize("workflow", ["contact_account", "contact_lead"])
def test_a_contact_beside_a_lead_is_single_for_contact_account_and_two_for_contact_lead(browser, stack, customers,
                                                                                         workflow):
    """2.3 identifies contacts and accounts, 2.4 contacts and leads: a number on one Contact and one Lead
    is a single identified caller (the contact pops, the Task names it) for the first, two matches for
    the second."""
    sf = sf_client(stack)
    number = unknown_number()
    contact_id = sf.Contact.create({"FirstName": "Both", "LastName": "Kinds", "Phone": number})["id"]
    lead_id = sf.Lead.create({"FirstName": "Both", "LastName": "Kinds", "Company": "Kinds Oy", "Phone": number})["id"]
    page = login(browser, stack, fresh_agent(stack, workflow))
    call_id = ringing(page, customers, number)
    if workflow == "contact_account":
        assert page.text_content("#wf-id-kind") == "Contact"
        page.wait_for_function("window.switchboardWorkflows.popped.length === 1", timeout=3000)
        assert page.evaluate("window.switchboardWorkflows.popped[0].recordId") == contact_id
        assert page.is_hidden("#wf-dialog")
        page.wait_for_function(f"window.switchboardWorkflows.chosen === {contact_id!r}", timeout=3000)
        answer(page)
        finish(page)
        assert task_of(stack, call_id)["WhoId"] == contact_id
    else:
        assert page.text_content("#wf-id-kind") == "2 matches"
        page.wait_for_selector("#wf-dialog .wf-table tbody tr", timeout=5000)
        rows = page.eval_on_selector_all("#wf-dialog .wf-table tbody tr", "rs => rs.map(r => r.dataset.id)")
        assert sorted(rows) == sorted([contact_id, lead_id])
        answer(page)
        finish(page)
    page.context.close()


# Contact&Lead workflow -----------------------------------------------------------------------------------
def test_contact_lead_single_identified_lead_pops(browser, stack, customers):
    """2.4 (as 2.3.2): a caller with one Lead: the lead pops, no dialog; the Task names the lead."""
    lead_id = record_id_by_name(stack, "Lead", DEMO_LEAD_NAME)
    page = login(browser, stack, fresh_agent(stack, "contact_lead"))
    call_id = ringing(page, customers, DEMO_LEAD_PHONE.replace(" ", ""), DEMO_LEAD_NAME)
    assert page.text_content("#wf-id-kind") == "Lead"
    assert page.text_content("#wf-id-name") == DEMO_LEAD_NAME
    page.wait_for_function("window.switchboardWorkflows.popped.length === 1", timeout=3000)
    assert page.evaluate("window.switchboardWorkflows.popped[0]") == {"recordId": lead_id, "object": "Lead"}
    assert page.is_hidden("#wf-dialog")
    shot(page, "contact_lead-single-lead")
    answer(page)
    finish(page)
    task = task_of(stack, call_id)
    assert task["WhoId"] == lead_id and not task["WhatId"]
    page.context.close()


def test_contact_lead_multiple_lists_matches_with_new_lead_and_choose(browser, stack, customers):
    """2.4 (as 2.3.3): the matches listed, New Contact / New Lead (no New Account); choose relates."""
    page = login(browser, stack, fresh_agent(stack, "contact_lead"))
    call_id = ringing(page, customers, SHARED)
    page.wait_for_selector("#wf-dialog .wf-table tbody tr", timeout=5000)
    assert "Customer Service EN" in page.text_content("#wf-title")
    rows = page.locator("#wf-dialog .wf-table tbody tr")
    assert rows.count() == 2
    assert page.is_visible("text=New Contact") and page.is_visible("text=New Lead")
    assert not page.is_visible("text=New Account")
    shot(page, "contact_lead-multiple")
    chosen = rows.nth(1).get_attribute("data-id")
    answer(page)
    rows.nth(1).locator("button.choose").click()
    page.wait_for_function(f"window.switchboardWorkflows.chosen === {chosen!r}", timeout=5000)
    page.wait_for_selector("#wf-dialog", state="hidden", timeout=5000)
    assert page.evaluate("window.switchboardWorkflows.popped.at(-1)") == {"recordId": chosen, "object": "Contact"}
    finish(page)
    task = task_of(stack, call_id)
    assert task["WhoId"] == chosen
    page.context.close()


def test_contact_lead_outbound_from_a_lead_relates_the_task_to_it(browser, stack):
    """2.4 (as 2.3.4): no workflow action for outbound; the Task names the lead dialled from."""
    lead_id = record_id_by_name(stack, "Lead", DEMO_LEAD_NAME)
    page = login(browser, stack, fresh_agent(stack, "contact_lead"))
    call_id = click_to_dial(page, DEMO_LEAD_PHONE.replace(" ", ""), lead_id)
    time.sleep(1.0)
    assert page.is_hidden("#wf-dialog")
    assert page.text_content("#wf-id-kind") == "Lead"
    shot(page, "contact_lead-outbound")
    finish(page)
    assert task_of(stack, call_id)["WhoId"] == lead_id
    page.context.close()
