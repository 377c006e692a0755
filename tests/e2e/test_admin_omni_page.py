"""The admin's Omni-Channel page in Chromium: the demo admin maps an Omni status of the (emulated) org to a
Switchboard status and links an agent to their Salesforce user by username; the table shows both types."""

from __future__ import annotations

import pytest

from control.stack import DEMO_ADMIN, DEMO_PASSWORD
from switchboard.store import Store
from tests.support.paths import ARTIFACTS

pytestmark = pytest.mark.e2e


def test_the_admin_maps_a_status_and_links_an_agent(browser, stack):
    page = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{stack.settings.public_url}/login?next=/admin/omni")
    page.fill("#username", DEMO_ADMIN[0])
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/admin/omni")
    options = page.eval_on_selector_all("#omni-status option", "os => os.map(o => o.textContent)")
    assert "Lunch (Lunch)" in options and "Available - Voice (Available_Voice)" in options  # from the org
    try:
        page.select_option("#omni-status", "Lunch")
        page.select_option("#omni-kind", "busy")
        page.select_option("#sb-status", "Lunch (45 min)")
        page.click("#omni-map-save")
        page.wait_for_selector("text=Lunch ↔ Lunch (45 min) saved")
        row = page.text_content("#omni-map tbody tr")
        assert "Lunch" in row and "busy" in row and "Lunch (45 min)" in row and "offwork" in row and "both" in row
        page.fill("#sf-user-agent2", "agent2@switchboard.demo")
        page.click("#link-agent2")
        page.wait_for_selector("text=agent2: Salesforce user 005")
        assert page.input_value("#sf-user-agent2").startswith("005")
        page.screenshot(path=str(ARTIFACTS / "e2e-admin-omni.png"), full_page=True)
        assert errors == []
    finally:
        store = Store(stack.settings.database_url)
        store.delete_omni_mapping("Lunch")
        store.set_sf_user("agent2", "")
        store.engine.dispose()
    anonymous = browser.new_context().new_page()
    anonymous.goto(f"{stack.settings.public_url}/admin/omni")
    assert "/login" in anonymous.url  # not logged in: the login page
