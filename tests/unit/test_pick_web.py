"""Pick mode on the web: a pick goes to the orchestrator for the session's agent only and its answer comes
back at once (409 "Already picked by ..." for the slower agent); the page asks for its waiting list; the
phone page carries the waiting-calls panel, hidden until the orchestrator says the agent is in pick mode."""

from __future__ import annotations

import dataclasses

import pytest

from tests.support.web import login
from web import call_control, create_app, phone
from web.auth import CSRF_KEY
from web.presence import SENT_KEY


def client_of(app):
    """agent1's client (alice1) and the headers of a page's request (its CSRF token)."""
    client = app.test_client()
    login(client, "alice1", "pw1")
    with client.session_transaction() as s:
        return client, {"X-CSRF-Token": s[CSRF_KEY]}


@pytest.fixture
def app(settings):
    """The web app without Redis: commands it publishes are kept in ``app.extensions[SENT_KEY]``."""
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def asking(settings, monkeypatch):
    """The web app with an orchestrator stand-in: the commands it was asked, and its answers by command."""
    sent: list[dict] = []
    answers: dict[str, dict] = {}

    def request(_client, command, timeout=5.0, **args):
        sent.append({"command": command, **args})
        return answers.get(command, {"ok": True})

    monkeypatch.setattr(call_control, "request", request)
    app = create_app(dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0"))
    app.config["TESTING"] = True
    return app, sent, answers


def test_given_a_pick_then_the_orchestrator_is_asked_for_the_sessions_agent_and_the_winner_gets_ok(asking):
    app, sent, _ = asking
    client, csrf = client_of(app)
    assert client.post("/api/calls/1.1/pick", json={"agent": "agent2"}).status_code == 403  # no CSRF token
    response = client.post("/api/calls/1.1/pick", json={"agent": "agent2"}, headers=csrf)
    assert response.status_code == 200 and response.get_json() == {"ok": True}
    assert sent == [{"command": "call_pick", "agent": "agent1", "call_id": "1.1"}]


def test_given_another_agent_was_faster_then_the_pick_answers_409_saying_who(asking):
    app, _, answers = asking
    answers["call_pick"] = {"error": "already_picked", "message": "Already picked by Alice 2."}
    client, csrf = client_of(app)
    response = client.post("/api/calls/1.1/pick", headers=csrf)
    assert response.status_code == 409
    assert response.get_json() == {"error": "already_picked", "message": "Already picked by Alice 2."}


def test_given_the_page_connects_then_it_asks_for_its_own_waiting_list(app):
    assert app.test_client().post("/api/pick/refresh", json={}).status_code == 401
    client, csrf = client_of(app)
    assert client.post("/api/pick/refresh", json={"agent": "agent2"}, headers=csrf).status_code == 202
    assert app.extensions[SENT_KEY][-1] == {"command": "pick_refresh", "agent": "agent1"}


def test_given_the_phone_page_then_the_waiting_calls_panel_is_there_hidden(app, monkeypatch):
    monkeypatch.setattr(phone, "missing_vendor_files", lambda _folder: [])  # no browser bundles needed here
    client, _ = client_of(app)
    page = client.get("/phone").get_data(as_text=True)
    panel = page.split('<section id="pick"', 1)[1].split(">", 1)[0]
    assert "hidden" in panel and 'id="pick-list"' in page and "phone/pick.js" in page
