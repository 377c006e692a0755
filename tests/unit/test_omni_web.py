"""The Omni-Channel sync in the web app: the admin page (mapping table, agents' Salesforce users; admins and
supervisors only, CSRF on every form) and the phone's two endpoints for the Lightning component."""

from __future__ import annotations

import pytest

from switchboard import contracts as c
from switchboard.store import Store
from tests.support.web import csrf_from
from web import create_app
from web.presence import SENT_KEY


@pytest.fixture
def app(settings, database_url):
    store = Store(database_url)
    for name, kind in (("Available", "available"), ("Busy", "busy"), ("OffWork", "offwork")):
        store.upsert_status(name, kind)
    store.engine.dispose()
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def login(app, username: str, password: str):  # noqa: ANN201
    client = app.test_client()
    client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(client)})
    return client


def form_token(client) -> str:  # noqa: ANN001
    page = client.get("/admin/omni").get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_only_admins_and_supervisors_open_the_page(app):
    assert login(app, "alice1", "pw1").get("/admin/omni").status_code == 403
    assert app.test_client().get("/admin/omni").status_code == 302  # to the login page
    page = login(app, "sam", "pw-sam").get("/admin/omni")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Omni Presence Status Type" in text and "Switchboard Presence Status Type" in text
    assert "could not be read" in text  # no Salesforce here: the admin types the API name


def test_the_admin_maps_a_status_and_a_bad_row_or_a_missing_token_is_refused(app, database_url):
    client = login(app, "sam", "pw-sam")
    token = form_token(client)
    assert client.post("/admin/omni/map", data={"omni_status": "Busy", "status": "Busy", "omni_kind": "busy",
                                                "direction": "both"}).status_code == 403  # no CSRF token
    saved = client.post("/admin/omni/map", follow_redirects=True, data={
        "csrf_token": token, "omni_status": "Busy", "status": "Busy", "omni_kind": "busy", "direction": "both"})
    assert "Busy ↔ Busy saved" in saved.get_data(as_text=True)
    hostile = client.post("/admin/omni/map", follow_redirects=True, data={
        "csrf_token": token, "omni_status": "<script>x</script>", "status": "Nope", "omni_kind": "busy",
        "direction": "both"}).get_data(as_text=True)
    assert "&lt;script&gt;" in hostile and "<script>x" not in hostile and "not a Switchboard status" in hostile
    rows = Store(database_url).list_omni_mappings()
    assert [(r.omni_developer_name, r.status, r.omni_kind) for r in rows] == [("Busy", "Busy", "busy")]
    client.post("/admin/omni/unmap", data={"csrf_token": token, "omni_status": "Busy"})
    assert Store(database_url).list_omni_mappings() == []


def test_linking_needs_salesforce_and_unlinking_does_not(app, database_url):
    client = login(app, "sam", "pw-sam")
    token = form_token(client)
    Store(database_url).set_sf_user("agent1", "005000000000001AAA")
    failed = client.post("/admin/omni/link", follow_redirects=True,
                         data={"csrf_token": token, "agent": "agent1", "sf_user": "someone@example.com"})
    assert "Salesforce could not be reached" in failed.get_data(as_text=True)
    assert Store(database_url).get_agent("agent1").sf_user_id == "005000000000001AAA"
    client.post("/admin/omni/link", data={"csrf_token": token, "agent": "agent1", "sf_user": ""})
    assert Store(database_url).get_agent("agent1").sf_user_id == ""


def test_the_phone_tells_the_server_the_agent_chose_offline_and_reads_the_mapping(app, database_url):
    Store(database_url).upsert_omni_mapping("Lunch", omni_status_id="0N5x", omni_label="Lunch", omni_kind="busy",
                                            status="OffWork", direction="both")
    client = login(app, "alice1", "pw1")
    headers = {"X-CSRF-Token": csrf_from(client, "/phone")}
    assert client.post("/api/presence/omni-logout").status_code == 403  # no CSRF header
    assert client.post("/api/presence/omni-logout", headers=headers, json={"agent": "agent2"}).status_code == 202
    assert app.extensions[SENT_KEY][-1] == {"command": c.PRESENCE_OMNI_LOGOUT, "agent": "agent1"}  # never agent2
    data = client.get("/api/presence/omni").get_json()
    assert data["sync"] is False
    assert data["mapping"] == [{"omni_status_id": "0N5x", "omni_developer_name": "Lunch", "omni_kind": "busy",
                                "status": "OffWork", "kind": "offwork", "direction": "both"}]
    Store(database_url).delete_omni_mapping("Lunch")
