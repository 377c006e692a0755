"""The page's call control (hang up, transfer, the phone's state) and /api/me of a SIP-phone agent: login
and CSRF required, the agent is the session's, the orchestrator's answer (or its absence) comes back as
JSON with a stable error code."""

from __future__ import annotations

import dataclasses
import re

import pytest
from flask.testing import FlaskClient

from switchboard.commands import NoOrchestrator
from switchboard.sip import derive_sip_password
from switchboard.store import Store
from web import call_control, create_app


@pytest.fixture(scope="module")
def sip_agent2(database_url: str) -> None:
    store = Store(database_url)
    store.set_device("agent2", "sip")
    store.engine.dispose()


class Orchestrator(list):
    """A stand-in orchestrator: the commands it was sent, answered from ``answers`` (by command)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, object] = {}

    def request(self, _client, command, timeout=5.0, **args):
        self.append({"command": command, **args})
        answer = self.answers.get(command, {"ok": True})
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def asked(monkeypatch) -> Orchestrator:
    orchestrator = Orchestrator()
    monkeypatch.setattr(call_control, "request", orchestrator.request)
    return orchestrator


@pytest.fixture
def app(settings, sip_agent2):
    app = create_app(dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0"))
    app.config["TESTING"] = True
    return app


def login(app, username: str, password: str) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    with client.session_transaction() as session:
        return client, {"X-CSRF-Token": session["csrf_token"]}


def test_given_a_sip_phone_agent_then_api_me_says_so_and_gives_the_phone_account(app):
    client, _ = login(app, "alice2", "pw2")
    me = client.get("/api/me").get_json()
    assert me["device"] == "sip"
    assert me["phone"]["username"] == "agent2" and me["phone"]["domain"] == "pbx.example"
    assert me["phone"]["password"] == derive_sip_password("unit-test-secret-key", "agent2", 1)
    web_agent, _ = login(app, "alice1", "pw1")
    assert web_agent.get("/api/me").get_json()["device"] == "webrtc" and "phone" not in web_agent.get(
        "/api/me").get_json()


def test_given_no_login_or_no_csrf_then_call_control_is_refused(app, asked):
    assert app.test_client().post("/api/calls/1.1/hangup").status_code == 401
    client, _ = login(app, "alice2", "pw2")
    r = client.post("/api/calls/1.1/hangup")
    assert r.status_code == 403 and r.get_json()["error"] == "csrf_failed"
    assert asked == []


def test_given_a_hang_up_then_the_orchestrator_is_asked_for_the_sessions_agent(app, asked):
    client, csrf = login(app, "alice2", "pw2")
    r = client.post("/api/calls/1795625999.3/hangup", json={"agent": "agent1"}, headers=csrf)
    assert r.status_code == 200 and r.get_json() == {"ok": True}
    assert asked == [{"command": "call_hangup", "agent": "agent2", "call_id": "1795625999.3"}]


def test_given_a_transfer_then_the_target_is_cleaned_and_a_bad_one_never_leaves_the_web(app, asked):
    client, csrf = login(app, "alice2", "pw2")
    r = client.post("/api/calls/1.1/transfer", json={"target": "+358 9 100-0002"}, headers=csrf)
    assert r.status_code == 200
    assert asked[-1] == {"command": "call_transfer", "agent": "agent2", "call_id": "1.1", "target": "+35891000002"}
    for bad in ({"target": "a b; c"}, {"target": 5}, {}):
        r = client.post("/api/calls/1.1/transfer", json=bad, headers=csrf)
        assert r.status_code == 400 and r.get_json()["error"] == "bad_target"
    assert len(asked) == 1


@pytest.mark.parametrize(("answer", "status", "error"), [
    ({"error": "not_on_call", "message": "You are not on this call."}, 409, "not_on_call"),
    ({"error": "asterisk_refused", "message": "The transfer failed: x."}, 502, "asterisk_refused"),
    (NoOrchestrator("orchestrator_unavailable", "The call server is not running."), 503, "orchestrator_unavailable"),
    (NoOrchestrator("orchestrator_timeout", "The call server did not answer in 5 s."), 504, "orchestrator_timeout"),
])
def test_given_a_refusal_or_no_orchestrator_then_the_page_gets_a_json_error(app, asked, answer, status, error):
    asked.answers["call_transfer"] = answer
    client, csrf = login(app, "alice2", "pw2")
    r = client.post("/api/calls/1.1/transfer", json={"target": "agent1"}, headers=csrf)
    assert r.status_code == status
    assert r.get_json()["error"] == error and r.get_json()["message"]


def test_given_the_phone_state_asked_then_it_is_the_orchestrators_view_of_the_sessions_agent(app, asked):
    asked.answers["agent_device_state"] = {"agent": "agent2", "registered": True}
    client, _ = login(app, "alice2", "pw2")
    r = client.get("/api/device")
    assert r.get_json() == {"agent": "agent2", "registered": True}
    assert r.headers["Cache-Control"] == "no-store"
    assert asked == [{"command": "agent_device_state", "agent": "agent2"}]


def test_given_a_consult_transfer_then_each_step_asks_the_orchestrator_for_the_sessions_agent(app, asked):
    client, csrf = login(app, "alice2", "pw2")
    r = client.post("/api/calls/1.1/consult", json={"target": "+358 9 100-0002", "agent": "agent1"}, headers=csrf)
    assert r.status_code == 200
    asked.answers["call_consult_state"] = {"ok": True, "call_id": "1.1", "state": "in_call"}
    r = client.get("/api/calls/1.1/consult")
    assert r.get_json()["state"] == "in_call" and r.headers["Cache-Control"] == "no-store"
    assert client.post("/api/calls/1.1/consult/complete", headers=csrf).status_code == 200
    assert client.post("/api/calls/1.1/consult/cancel", headers=csrf).status_code == 200
    assert client.post("/api/calls/1.1/consult/swap", headers=csrf).status_code == 404
    assert client.post("/api/calls/1.1/consult/complete").status_code == 403  # no CSRF token
    assert asked == [
        {"command": "call_consult", "agent": "agent2", "call_id": "1.1", "target": "+35891000002"},
        {"command": "call_consult_state", "agent": "agent2", "call_id": "1.1"},
        {"command": "call_consult_complete", "agent": "agent2", "call_id": "1.1"},
        {"command": "call_consult_cancel", "agent": "agent2", "call_id": "1.1"},
    ]
    asked.answers["call_consult_complete"] = {"error": "not_consulting", "message": "There is no consultation."}
    r = client.post("/api/calls/1.1/consult/complete", headers=csrf)
    assert r.status_code == 409 and r.get_json()["error"] == "not_consulting"
