"""Phone workflows in Chromium against the whole stack: what the agent sees when the phone rings, and
that the call Task in the Salesforce emulator relates to the record the agent chose."""

from __future__ import annotations

import itertools
import time

import pytest

from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME, DEMO_SHARED_PHONE
from switchboard.salesforce import soql_quote
from tests.support.phone import finish, login, ringing, shots
from tests.support.stack import cli, fresh_agent, sf_client, task_of

pytestmark = pytest.mark.e2e
_contacts = itertools.count(1)


def test_contact_account_single_pops_the_contact_and_relates_the_task(browser, stack, customers):
    page = login(browser, stack, fresh_agent(stack, "contact_account"))
    call_id = ringing(page, customers, DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME)
    assert page.text_content("#wf-id-name") == DEMO_CONTACT_NAME
    page.wait_for_function("window.switchboardWorkflows.popped.length === 1", timeout=3000)
    popped = page.evaluate("window.switchboardWorkflows.popped[0]")
    assert popped["object"] == "Contact" and popped["recordId"].startswith("003")
    assert page.is_hidden("#wf-dialog")
    page.click("#answer")
    page.wait_for_function("document.querySelector('#call-state').textContent === 'In call'", timeout=10000)
    finish(page)
    assert task_of(stack, call_id)["WhoId"] == popped["recordId"]
    page.context.close()


def test_contact_account_multiple_lists_records_and_choose_relates_the_task(browser, stack, customers):
    page = login(browser, stack, fresh_agent(stack, "contact_account"))
    call_id = ringing(page, customers, DEMO_SHARED_PHONE.replace(" ", ""))
    page.wait_for_selector("#wf-dialog .wf-table tbody tr", timeout=5000)
    title = page.text_content("#wf-title")
    assert "Customer Service EN" in title and "Call Disposition" in title
    heads = page.locator("#wf-dialog .wf-table th").all_text_contents()
    assert heads[:3] == ["Type", "Full Name", "Account Name"] and "Email" in heads
    assert page.locator("#wf-dialog .wf-table tbody tr").count() >= 2
    assert page.is_visible("text=New Contact") and page.is_visible("text=New Account")
    shots(page, "workflow-contact_account-multiple")
    row = page.locator("#wf-dialog .wf-table tbody tr").first
    chosen = row.get_attribute("data-id")
    page.click("#answer")
    row.locator("button.choose").click()
    page.wait_for_function("window.switchboardWorkflows.chosen", timeout=5000)
    finish(page)
    assert task_of(stack, call_id)["WhoId"] == chosen
    page.context.close()


def test_contact_lead_not_identified_new_lead_relates_the_task(browser, stack, customers):
    page = login(browser, stack, fresh_agent(stack, "contact_lead"))
    call_id = ringing(page, customers, "+358457770001")
    page.wait_for_selector("#wf-dialog", state="visible", timeout=5000)
    assert page.text_content("#wf-id-kind") == "Not identified"
    assert page.is_visible("text=New Lead") and not page.is_visible("text=New Account")
    page.fill("#wf-search", "Maija")
    page.click("#wf-search-results >> xpath=.. >> button[type=submit]")
    page.wait_for_selector("#wf-search-results tbody tr", timeout=5000)
    shots(page, "workflow-contact_lead-not-identified")
    page.click("#answer")
    page.fill("#wf-first", "Nora")
    page.fill("#wf-last", "O'Lead {x}")
    page.fill("#wf-org", "Lead Co")
    page.click("text=New Lead")
    page.wait_for_function("window.switchboardWorkflows.chosen", timeout=5000)
    lead_id = page.evaluate("window.switchboardWorkflows.chosen")
    assert lead_id.startswith("00Q")
    finish(page)
    assert task_of(stack, call_id)["WhoId"] == lead_id
    page.context.close()


def test_case_single_creates_a_case_on_answer_and_relates_the_task(browser, stack, customers):
    page = login(browser, stack, fresh_agent(stack, "case"))
    call_id = ringing(page, customers, DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME)
    page.wait_for_function("window.switchboardWorkflows.popped.length === 1", timeout=3000)
    assert page.evaluate("window.switchboardWorkflows.caseId") is None  # not before answering
    page.click("#answer")
    page.wait_for_function("window.switchboardWorkflows.caseId", timeout=8000)
    case_id = page.evaluate("window.switchboardWorkflows.caseId")
    assert case_id.startswith("500")
    assert page.evaluate("window.switchboardWorkflows.popped.at(-1).object") == "Case"
    shots(page, "workflow-case-single")
    finish(page)
    task = task_of(stack, call_id)
    assert task["WhatId"] == case_id and task["WhoId"].startswith("003")
    page.context.close()


def test_case_declined_creates_no_case(browser, stack, customers):
    page = login(browser, stack, fresh_agent(stack, "case"))
    ringing(page, customers, "+358457770002")
    page.click("#decline")
    time.sleep(1.0)
    assert page.evaluate("window.switchboardWorkflows.caseId") is None
    page.context.close()


def contact_with_cases(stack, n: int = 7) -> tuple[str, str, list[dict]]:
    """A new contact (its own phone number) with ``n`` cases, the first one modified after the others were
    made: (phone, name, cases most recently modified first)."""
    sf = sf_client(stack)
    phone = f"+35845{int(time.time() * 1000) % 10**7:07d}"
    last = f"Dialog{next(_contacts)}x{int(time.time()) % 10000}"
    account = sf.Account.create({"Name": f"{last} Oy", "Phone": "+358 9 555 0199"})["id"]
    contact = sf.Contact.create({"FirstName": "Casey", "LastName": last, "Phone": phone, "AccountId": account})["id"]
    ids = [sf.Case.create({"Subject": f"Router {i} rebooting", "ContactId": contact, "AccountId": account,
                           "Origin": "Phone"})["id"] for i in range(n)]
    time.sleep(0.05)
    sf.Case.update(ids[0], {"Status": "Working"})
    cases = sf.query(f"SELECT Id, CaseNumber, Subject FROM Case WHERE ContactId = {soql_quote(contact)} "
                     "ORDER BY LastModifiedDate DESC")["records"]
    return phone, f"Casey {last}", cases


def search_cases(page, text: str) -> list[str]:
    """Search another case in the CaseDialog; the ids listed afterwards ([] for "No cases found.")."""
    page.evaluate("delete document.querySelector('#wf-cases').dataset.query")
    page.fill("#wf-case-search", text)
    page.click("#wf-dialog form:has(#wf-case-search) button[type=submit]")
    page.wait_for_function("t => document.querySelector('#wf-cases').dataset.query === t", arg=text, timeout=5000)
    return page.eval_on_selector_all("#wf-cases tbody tr", "rows => rows.map(r => r.dataset.id)")


def test_case_dialog_single_shows_five_recent_cases_searches_another_and_choose(browser, stack, customers):
    from switchboard.store.live import REFRESH_SECONDS

    phone, name, cases = contact_with_cases(stack)
    assert cases[0]["Subject"] == "Router 0 rebooting"  # modified last, so first
    page = login(browser, stack, fresh_agent(stack, "case_dialog"))
    call_id = ringing(page, customers, phone, name)
    page.wait_for_selector("#wf-contact", timeout=5000)
    page.wait_for_selector("#wf-dialog .wf-footer", timeout=5000)
    assert name in page.text_content("#wf-contact") and "Customer Service EN" in page.text_content("#wf-contact")
    for label in ("New Case", "New Case – Not identified", "Close"):
        assert page.is_visible(f"#wf-dialog button:text-is('{label}')")
    shown = page.eval_on_selector_all("#wf-cases tbody tr", "rows => rows.map(r => r.dataset.id)")
    assert shown == [c["Id"] for c in cases[:5]]  # exactly five, most recently modified first
    assert page.get_attribute("#wf-case-search", "placeholder") == "Case number"
    shots(page, "workflow-case_dialog-single")

    older = cases[-1]  # not among the five
    assert search_cases(page, older["CaseNumber"]) == [older["Id"]]
    wanted = next(c for c in cases if c["Subject"] == "Router 3 rebooting")
    assert search_cases(page, "Router 3") == []  # by default only by case number (seed 2.2.2)
    r = cli(stack, "admin", "workflow", "set", "--case-search-fields", "Subject")
    assert r.returncode == 0, r.stderr
    try:
        time.sleep(REFRESH_SECONDS)
        assert search_cases(page, "Router 3") == [wanted["Id"]]  # the admin-added field
        shots(page, "workflow-case_dialog-search")
    finally:
        assert cli(stack, "admin", "workflow", "reset", "workflow_case_search_fields").returncode == 0
    page.click("#answer")
    page.locator(f"#wf-cases tbody tr[data-id='{wanted['Id']}'] button.choose").click()
    page.wait_for_selector("#wf-dialog", state="hidden", timeout=5000)
    finish(page)
    assert task_of(stack, call_id)["WhatId"] == wanted["Id"]
    page.context.close()
