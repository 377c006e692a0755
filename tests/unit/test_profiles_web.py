"""The agent's profile on the web: offered on the login form (only when profiles exist) and on the phone page,
changed with a CSRF-checked POST for the logged-in agent only; the orchestrator is asked to provision."""

from __future__ import annotations

import re

import pytest

from switchboard import contracts as c
from switchboard.store import Store
from tests.support.web import csrf_from, logged_in
from web import create_app
from web.presence import SENT_KEY


@pytest.fixture(scope="module")
def store(database_url: str) -> Store:
    """alice1 (agent1) and alice2 (agent2) in cs-en and sales; no profiles yet."""
    s = Store(database_url)
    for name, label, number in (("cs-en", "Customer Service EN", "+35891000001"),
                                ("cs-fi", "Customer Service FI", "+35891000002"), ("sales", "Sales", "+35891000003")):
        s.upsert_queue(name, label, number)
    for agent in ("agent1", "agent2"):
        s.add_member(agent, ["cs-en", "sales"])
    yield s
    s.engine.dispose()


@pytest.fixture
def app(settings, store):
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def profiles(store):
    """Two profiles for the test, gone after it."""
    store.save_profile("Finnish specialist")
    store.set_profile_skill("Finnish specialist", "cs-fi", 9)
    store.set_profile_skill("Finnish specialist", "cs-en", 4)
    store.save_profile("Picker", pick_mode=True)
    store.set_profile_skill("Picker", "cs-en", 5)
    yield
    for name in ("Finnish specialist", "Picker"):
        store.delete_profile(name)
    for agent in ("agent1", "agent2"):
        store.use_profile(agent, None)


def queues(store: Store, agent: str) -> dict[str, int]:
    return {m.queue.name: m.penalty for a in store.list_agents() if a.sip_username == agent for m in a.memberships}


def sent(app) -> list[dict]:
    return app.extensions.setdefault(SENT_KEY, [])


def test_without_profiles_the_login_form_has_no_profile_choice(app, store):
    assert store.list_profiles() == []
    assert 'name="profile"' not in app.test_client().get("/login").get_data(as_text=True)


def test_the_login_form_offers_the_profiles_and_the_chosen_one_is_used(app, store, profiles):
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]*)"', form) == ["", "Finnish specialist", "Picker"]
    r = client.post("/login", data={"username": "alice1", "password": "pw1", "csrf_token": csrf_from(client),
                                    "profile": "Finnish specialist"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/phone")
    assert queues(store, "agent1") == {"cs-fi": 1, "cs-en": 6}
    assert sent(app) == [{"command": c.PROVISION}]
    page = client.get("/phone").get_data(as_text=True)
    assert re.search(r'<option value="Finnish specialist" selected', page)  # the page shows the current one


def test_keeping_the_queues_or_an_unknown_profile_at_login_still_logs_in_and_changes_nothing(app, store, profiles):
    for choice in ("", "No such profile"):
        client = app.test_client()
        r = client.post("/login", data={"username": "alice2", "password": "pw2", "csrf_token": csrf_from(client),
                                        "profile": choice})
        assert r.status_code == 302 and r.headers["Location"].endswith("/phone")
    assert queues(store, "agent2") == {"cs-en": 0, "sales": 0}
    assert sent(app) == []


def test_the_agent_changes_their_own_profile_on_the_phone_page(app, store, profiles):
    client = logged_in(app, "alice1", "pw1")
    assert client.post("/api/profile", json={"profile": "Picker"}).status_code == 403  # no CSRF header
    headers = {"X-CSRF-Token": client.csrf}
    r = client.post("/api/profile", json={"profile": "Picker", "agent": "agent2"}, headers=headers)
    assert r.status_code == 202 and r.get_json()["profile"] == "Picker"
    assert queues(store, "agent1") == {"cs-en": 5} and queues(store, "agent2") == {"cs-en": 0, "sales": 0}
    assert sent(app) == [{"command": c.PROVISION}]
    data = client.get("/api/profile").get_json()
    assert data["profile"] == "Picker"
    assert data["profiles"][0] == {"name": "Finnish specialist", "pick_mode": False, "skills": [
        {"queue": "cs-fi", "label": "Customer Service FI", "skill": 9},
        {"queue": "cs-en", "label": "Customer Service EN", "skill": 4}]}
    r = client.post("/api/profile", json={"profile": "Nope"}, headers=headers)
    assert r.status_code == 400 and r.get_json()["error"] == "unknown_profile"
    assert client.post("/api/profile", json={"profile": 3}, headers=headers).status_code == 400
    r = client.post("/api/profile", json={"profile": None}, headers=headers)
    assert r.status_code == 202 and r.get_json()["profile"] is None
    assert queues(store, "agent1") == {"cs-en": 5}  # no profile: the queues as they were


def test_a_user_without_a_phone_has_no_profile(app, profiles):
    client = logged_in(app, "sam", "pw-sam")
    r = client.post("/api/profile", json={"profile": "Picker"}, headers={"X-CSRF-Token": client.csrf})
    assert r.status_code == 403 and r.get_json()["error"] == "not_an_agent"
