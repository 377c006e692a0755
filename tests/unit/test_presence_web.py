"""Presence API: login and CSRF required, an agent acts only on themselves and their own calls."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from switchboard.store import Store
from tests.support.web import csrf_from
from web import create_app
from web.presence import SENT_KEY

CALL = {"call_id": "1795625999.3", "direction": "inbound", "caller_number": "+358401234567", "caller_name": "",
        "queue": "cs-en", "agent": "agent1", "disposition": "answered",
        "started_at": "2026-11-25T10:00:00+00:00", "answered_at": "2026-11-25T10:00:05+00:00",
        "ended_at": "2026-11-25T10:01:00+00:00", "wait_seconds": 5, "duration_seconds": 55}


@pytest.fixture(scope="module")
def seeded(database_url: str) -> dict[str, int]:
    store = Store(database_url)
    store.upsert_queue("cs-en", "Customer Service EN", "+35891000001")
    store.set_queue_wrapup("cs-en", 30, ["No Note", "Manager Request"], True)
    store.add_member("agent1", ["cs-en"])
    store.add_member("agent2", ["cs-en"])
    store.record_call(**CALL)
    ids = {s.name: s.id for s in (store.upsert_status("Available", "available"),
                                  store.upsert_status("DND (30 min)", "dnd", 30))}
    store.engine.dispose()
    return ids


@pytest.fixture
def app(settings, seeded):
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def login(app, username: str, password: str) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    token = csrf_from(client)
    client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    return client, {"X-CSRF-Token": csrf_from(client, "/phone")}  # a new session has a new token


def sent(app) -> list[dict]:
    return app.extensions.setdefault(SENT_KEY, [])


def test_presence_needs_a_login(app):
    assert app.test_client().get("/api/presence").status_code == 401


def test_agent_sees_own_presence_statuses_and_queues(app, seeded):
    client, _ = login(app, "alice1", "pw1")
    data = client.get("/api/presence").get_json()
    assert data["agent"] == "agent1" and data["kind"] == "available"
    assert [q["name"] for q in data["queues"]] == ["cs-en"]
    assert {s["name"] for s in data["statuses"]} >= {"Available", "DND (30 min)"}


def test_a_change_without_the_csrf_header_is_refused(app, seeded):
    client, _ = login(app, "alice1", "pw1")
    r = client.post("/api/presence", json={"status_id": seeded["DND (30 min)"]})
    assert r.status_code == 403 and r.get_json()["error"] == "csrf_failed"
    assert sent(app) == []


def test_the_command_names_the_logged_in_agent_whatever_the_body_says(app, seeded):
    client, csrf = login(app, "alice1", "pw1")
    r = client.post("/api/presence", json={"status_id": seeded["DND (30 min)"], "agent": "agent2"}, headers=csrf)
    assert r.status_code == 202
    r = client.post("/api/presence/pool-calls", json={"on": False, "agent": "agent2"}, headers=csrf)
    assert r.status_code == 202
    assert [(c["command"], c["agent"]) for c in sent(app)] == [("presence_set", "agent1"),
                                                               ("presence_pool", "agent1")]


def test_an_agent_switches_only_queues_they_belong_to(app):
    client, csrf = login(app, "alice1", "pw1")
    assert client.post("/api/presence/queues/sales", json={"active": False}, headers=csrf).status_code == 404
    assert client.post("/api/presence/queues/cs-en", json={"active": False}, headers=csrf).status_code == 202
    assert sent(app)[-1] == {"command": "presence_queue", "agent": "agent1", "queue": "cs-en", "active": False}


def test_one_agent_cannot_remove_another_agents_schedule(app, seeded):
    one, csrf1 = login(app, "alice1", "pw1")
    r = one.post("/api/presence/schedule", headers=csrf1, json={
        "status_id": seeded["DND (30 min)"], "starts_at": datetime(2030, 1, 1, 9, tzinfo=UTC).isoformat()})
    assert r.status_code == 201
    two, csrf2 = login(app, "alice2", "pw2")
    assert two.delete(f"/api/presence/schedule/{r.get_json()['id']}", headers=csrf2).status_code == 404
    assert one.delete(f"/api/presence/schedule/{r.get_json()['id']}", headers=csrf1).status_code == 202


def test_wrapup_only_for_a_call_the_agent_took_and_only_with_a_queue_code(app):
    other, csrf2 = login(app, "alice2", "pw2")
    r = other.post(f"/api/calls/{CALL['call_id']}/wrapup", json={"code": "No Note"}, headers=csrf2)
    assert r.status_code == 404 and r.get_json()["error"] == "not_your_call"
    assert other.post("/api/calls/1.1/wrapup", json={"code": "No Note"}, headers=csrf2).status_code == 404
    own, csrf1 = login(app, "alice1", "pw1")
    r = own.post(f"/api/calls/{CALL['call_id']}/wrapup", json={"code": "Made up"}, headers=csrf1)
    assert r.status_code == 400
    r = own.post(f"/api/calls/{CALL['call_id']}/wrapup", json={"code": "Manager Request"}, headers=csrf1)
    assert r.status_code == 202
    assert sent(app) == [{"command": "wrapup_code", "agent": "agent1", "call_id": CALL["call_id"],
                          "code": "Manager Request"}]
