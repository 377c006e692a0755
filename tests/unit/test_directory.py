"""The directory API without Salesforce (no Redis): agents, limits, login, and the dashboard refresh."""

from __future__ import annotations

import pytest

from switchboard.store import Store
from tests.support.web import login
from web import create_app
from web.auth import CSRF_KEY
from web.directory import looks_like_number
from web.presence import SENT_KEY


@pytest.fixture(scope="module")
def seeded(database_url: str) -> str:
    store = Store(database_url)
    store.create_user("bob", "pw-bob", "Bob Builder", sip_username="bob", sip_password="pw")
    for n in range(25):
        store.create_user(f"many{n}", "pw", f"Manyname {n:02d}", sip_username=f"many{n}", sip_password="pw")
    store.engine.dispose()
    return database_url


@pytest.fixture
def app(settings, seeded):
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def logged_in(app):
    client = app.test_client()
    login(client, "alice1", "pw1")
    return client


def test_given_no_login_then_directory_answers_401_json(app):
    response = app.test_client().get("/api/directory?q=bob")
    assert response.status_code == 401
    assert response.get_json()["error"] == "not_logged_in"


def test_given_one_character_then_query_too_short(app):
    response = logged_in(app).get("/api/directory?q=%20b%20")
    assert response.status_code == 400
    assert response.get_json()["error"] == "query_too_short"


def test_given_a_name_then_the_agent_is_found_with_number_and_presence_and_salesforce_marked_unavailable(app):
    body = logged_in(app).get("/api/directory?q=builder").get_json()
    assert body["salesforce"] == "unavailable"  # no Redis here: the agents still come back
    [bob] = body["results"]
    assert (bob["type"], bob["name"], bob["number"]) == ("agent", "Bob Builder", "bob")
    assert set(bob) >= {"work_number", "presence"}


def test_given_the_own_name_then_the_agent_does_not_find_themselves(app):
    names = [r["name"] for r in logged_in(app).get("/api/directory?q=alice").get_json()["results"]]
    assert names == ["Alice 2"]


def test_given_many_matches_then_at_most_twenty_sorted_by_name(app):
    results = logged_in(app).get("/api/directory?q=manyname").get_json()["results"]
    assert len(results) == 20
    assert [r["name"] for r in results] == sorted(r["name"] for r in results)


@pytest.mark.parametrize("hostile", ["x'y", 'a"b', "{Robert}", "back\\slash", "?&|!{}[]()^~*:\\\"'+-",
                                     "%_%", "<img src=x>", "a OR b", "\n\tNOT x"])
def test_given_a_hostile_query_then_it_is_plain_text(app, hostile):
    response = logged_in(app).get("/api/directory", query_string={"q": hostile})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.get_json()["results"] == []


def test_numbers_are_told_from_names():
    assert looks_like_number("+358 40 123 4567") and looks_like_number("040-123")
    assert not looks_like_number("Maija") and not looks_like_number("12") and not looks_like_number("a 123")


def test_given_a_refresh_request_then_the_orchestrator_is_asked_for_this_agent_only(app):
    client = logged_in(app)
    assert client.post("/api/dashboard/refresh", json={}).status_code == 403  # no CSRF token
    with client.session_transaction() as s:
        csrf = s[CSRF_KEY]
    response = client.post("/api/dashboard/refresh", json={"agent": "agent2"}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 202
    assert app.extensions[SENT_KEY][-1] == {"command": "dashboard_refresh", "agent": "agent1"}
