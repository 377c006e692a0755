"""The page at 400 px (a Salesforce utility bar) in Chromium against the whole stack: the workflow
tables stack each row as a card with every column shown and labelled (Account Name in the match
list; Subject and the admin's Status column in the CaseDialog's case list), nothing runs off the
side, and the mini dashboard shows the queue's whole name. At full width they are tables again."""

from __future__ import annotations

import pytest

from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME, DEMO_SHARED_PHONE
from tests.support.phone import login, ringing, shots
from tests.support.stack import contact_id, fresh_agent, sf_client

pytestmark = pytest.mark.e2e
NARROW = {"width": 400, "height": 900}

# Per body row of a table: each cell's column label, its ::before text, whether it is drawn, how far
# right it reaches (the action buttons' cell has no label).
CELLS = """(sel) => [...document.querySelectorAll(sel + ' tbody tr')].map((tr) => [...tr.children].map((td) => {
  const box = td.getBoundingClientRect();
  return { label: td.dataset.label || '', before: getComputedStyle(td, '::before').content,
           drawn: getComputedStyle(td).display !== 'none' && box.width > 0 && box.height > 0,
           right: box.right, text: td.textContent, actions: td.classList.contains('wf-actions') };
}))"""


def heads(page, sel: str) -> list[str]:
    return [h for h in page.locator(f"{sel} thead th").all_text_contents() if h]


def assert_stacked(page, sel: str) -> list[list[dict]]:
    """At 400 px: every cell of every row is drawn, labelled with its column, inside the page's width."""
    page.set_viewport_size(NARROW)
    columns = heads(page, sel)
    rows = page.evaluate(CELLS, sel)
    assert rows, f"no rows in {sel}"
    for row in rows:
        data = [c for c in row if not c["actions"]]
        assert [c["label"] for c in data] == columns
        for cell in row:
            assert cell["drawn"], f"{cell['label'] or 'actions'} is hidden at 400 px"
            assert cell["right"] <= NARROW["width"], f"{cell['label'] or 'actions'} runs off the side"
        assert [c["before"] for c in data] == [f'"{c}"' for c in columns]  # the label is shown
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    return rows


def assert_table_at_full_width(page, sel: str) -> None:
    page.set_viewport_size({"width": 1100, "height": 760})
    assert page.is_visible(f"{sel} thead th >> nth=0")
    assert {c["before"] for row in page.evaluate(CELLS, sel) for c in row} == {"none"}


def test_match_list_and_dashboard_at_400px_show_every_column_and_the_whole_queue_name(browser, stack, customers):
    page = login(browser, stack, fresh_agent(stack, "contact_account", prefix="narrow"))
    try:
        ringing(page, customers, DEMO_SHARED_PHONE.replace(" ", ""))  # several matches: the list with Account Name
        table = "#wf-dialog .wf-table"
        page.wait_for_selector(f"{table} tbody tr", timeout=5000)
        assert heads(page, table)[:3] == ["Type", "Full Name", "Account Name"]
        rows = assert_stacked(page, table)
        contacts = [r for r in rows if r[0]["text"] == "Contact"]
        assert contacts and all(r[2]["label"] == "Account Name" and r[2]["text"] for r in contacts)

        label = "#dashboard-rows tr[data-queue='cs-en'] td.dash-label"
        assert page.text_content(label) == "Customer Service EN"
        assert page.evaluate(f"(e => e.scrollWidth <= e.clientWidth)(document.querySelector(\"{label}\"))"), \
            "the queue name is cut off"
        figures = page.eval_on_selector_all("#dashboard-rows tr[data-queue='cs-en'] td[data-label]",
                                            "tds => tds.map(td => getComputedStyle(td, '::before').content)")
        assert figures == ['"Serving"', '"Active"', '"In queue"', '"Max wait"', '"Today"']
        assert_table_at_full_width(page, table)
        shots(page, "workflow-narrow-matches")  # full width, then 400 px
        page.click("#decline")
    finally:
        customers.hang_up_all()
    page.context.close()


def test_case_dialog_case_list_at_400px_shows_subject_and_status(browser, stack, customers):
    sf_client(stack).Case.create({"ContactId": contact_id(stack, DEMO_CONTACT_NAME),
                                  "Subject": "Narrow layout: every column", "Status": "Working"})
    page = login(browser, stack, fresh_agent(stack, "case_dialog", prefix="narrow"))
    try:
        ringing(page, customers, DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME)
        table = "#wf-cases .wf-table"
        page.wait_for_selector(f"{table} tbody tr", timeout=8000)
        assert {"Case Number", "Account Name", "Subject", "Status"} <= set(heads(page, table))
        rows = assert_stacked(page, table)
        newest = {c["label"]: c["text"] for c in rows[0]}
        assert newest["Subject"] == "Narrow layout: every column" and newest["Status"] == "Working"
        assert_table_at_full_width(page, table)
        shots(page, "workflow-narrow-case-dialog")
        page.click("#decline")
    finally:
        customers.hang_up_all()
    page.context.close()
