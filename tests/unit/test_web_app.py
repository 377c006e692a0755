"""The web app: login with CSRF, the agent's own SIP config, JSON errors, the /phone socket rooms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from switchboard.config import ConfigError, Settings
from switchboard.contracts import PHONE_NAMESPACE, agent_room
from switchboard.sip import derive_sip_password
from tests.support.web import SECRET, csrf_from, login
from web import create_app, get_socketio

WEB_DIR = Path(__file__).resolve().parents[2] / "web"


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- login -----------------------------------------------------------------------------------------

def test_given_wrong_password_then_login_page_shows_error(client: FlaskClient) -> None:
    response = login(client, "alice1", "wrong")
    assert response.status_code == 200
    assert "Unknown user or wrong password" in response.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401


def test_given_unknown_user_then_the_same_error_is_shown(client: FlaskClient) -> None:
    response = login(client, "nobody", "pw1")
    assert "Unknown user or wrong password" in response.get_data(as_text=True)


def test_given_no_csrf_token_then_login_is_refused(client: FlaskClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "alice1", "password": "pw1"})
    assert response.status_code == 400
    assert client.get("/api/me").status_code == 401


def test_given_a_wrong_csrf_token_then_login_is_refused(client: FlaskClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "alice1", "password": "pw1", "csrf_token": "forged"})
    assert response.status_code == 400
    assert client.get("/api/me").status_code == 401


def test_given_good_credentials_then_redirected_to_phone_with_a_safe_cookie(client: FlaskClient) -> None:
    response = login(client, "alice1", "pw1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/phone"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_given_an_offsite_next_then_login_goes_to_phone(client: FlaskClient) -> None:
    token = csrf_from(client)
    response = client.post("/login", data={"username": "alice1", "password": "pw1", "csrf_token": token,
                                           "next": "//evil.example/x"})
    assert response.headers["Location"] == "/phone"


def test_logout_needs_csrf_and_ends_the_session(client: FlaskClient) -> None:
    login(client, "alice1", "pw1")
    assert client.post("/logout").status_code == 400
    assert client.get("/api/me").status_code == 200
    token = csrf_from(client, "/phone")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/me").status_code == 401


def test_root_redirects_to_phone_and_phone_requires_login(client: FlaskClient) -> None:
    assert client.get("/").headers["Location"] == "/phone"
    response = client.get("/phone")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/phone")


def test_create_app_refuses_an_empty_secret_key(settings: Settings) -> None:
    from dataclasses import replace

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(replace(settings, secret_key=""))


# --- /api/me -----------------------------------------------------------------------------------------

def test_given_agent1_logged_in_then_api_me_returns_only_agent1_sip_config(client: FlaskClient) -> None:
    login(client, "alice1", "pw1")
    response = client.get("/api/me")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "username": "alice1",
        "display_name": "Alice 1",
        "device": "webrtc",
        "sip": {
            "ws_url": "ws://127.0.0.1:8088/ws",
            "uri": "sip:agent1@pbx.example",
            "username": "agent1",
            "password": derive_sip_password(SECRET, "agent1", 1),
            "display_name": "Alice 1",
        },
    }
    assert "agent2" not in response.get_data(as_text=True)
    assert derive_sip_password(SECRET, "agent2", 1) not in response.get_data(as_text=True)


def test_given_agent2_logged_in_then_api_me_returns_agent2(client: FlaskClient) -> None:
    login(client, "alice2", "pw2")
    sip = client.get("/api/me").get_json()["sip"]
    assert sip["username"] == "agent2"
    assert sip["password"] == derive_sip_password(SECRET, "agent2", 1)


def test_given_a_user_without_agent_then_api_me_says_not_an_agent(client: FlaskClient) -> None:
    login(client, "sam", "pw-sam")
    response = client.get("/api/me")
    assert response.status_code == 403
    body = response.get_json()
    assert body["error"] == "not_an_agent"
    assert "not an agent" in body["message"]
    assert "sip" not in body


def test_given_no_login_then_api_errors_are_json_with_a_code(client: FlaskClient) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.get_json()["error"] == "not_logged_in"
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404
    assert missing.get_json()["error"] == "not_found"


# --- the phone page ------------------------------------------------------------------------------

def test_given_bundles_built_then_phone_page_has_the_stable_ids(app: Flask, client: FlaskClient,
                                                                  tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "vendor").mkdir(parents=True)
    for name in ("jssip.min.js", "socket.io.min.js"):
        (static / "vendor" / name).write_text("// built")
    app.static_folder = str(static)
    login(client, "alice1", "pw1")
    html = client.get("/phone").get_data(as_text=True)
    for element_id in ("reg-status", "incoming", "caller-number", "caller-name", "queue-name", "answer",
                       "decline", "hangup", "call-state", "call-timer"):
        assert f'id="{element_id}"' in html, element_id
    assert "innerHTML" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script on the phone page"
    assert "http://" not in html.replace("http://localhost", "") and "https://" not in html, "external URL"


def test_given_bundles_missing_then_phone_page_says_how_to_build(app: Flask, client: FlaskClient,
                                                                  tmp_path: Path) -> None:
    app.static_folder = str(tmp_path)
    login(client, "alice1", "pw1")
    response = client.get("/phone")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "jssip.min.js" in text
    assert "web/build.sh" in text


def test_phone_scripts_never_write_html() -> None:
    for name in ("core.js", "standalone.js"):
        source = (WEB_DIR / "static" / "phone" / name).read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{name} uses {sink}"
    standalone = (WEB_DIR / "static" / "phone" / "standalone.js").read_text()
    for field in ("callerNumber", "callerName", "queueName"):
        assert re.search(rf"els\.{field}\.textContent = ", standalone), field


def test_pages_send_a_strict_content_security_policy(client: FlaskClient) -> None:
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "ws://127.0.0.1:8088" in csp


# --- sockets ---------------------------------------------------------------------------------------

def test_given_no_login_then_phone_socket_is_refused(app: Flask, client: FlaskClient) -> None:
    sio = get_socketio(app).test_client(app, namespace=PHONE_NAMESPACE, flask_test_client=client)
    assert not sio.is_connected(PHONE_NAMESPACE)


def test_given_a_user_without_agent_then_phone_socket_is_refused(app: Flask, client: FlaskClient) -> None:
    login(client, "sam", "pw-sam")
    sio = get_socketio(app).test_client(app, namespace=PHONE_NAMESPACE, flask_test_client=client)
    assert not sio.is_connected(PHONE_NAMESPACE)


def test_given_two_agents_then_an_emit_to_agent1_reaches_only_agent1(app: Flask) -> None:
    socketio = get_socketio(app)
    clients = {}
    for n in (1, 2):
        http = app.test_client()
        login(http, f"alice{n}", f"pw{n}")
        clients[n] = socketio.test_client(app, namespace=PHONE_NAMESPACE, flask_test_client=http)
        assert clients[n].is_connected(PHONE_NAMESPACE)
    # A client cannot ask for another agent's room: there is no handler that takes a room name.
    clients[2].emit("join", {"room": agent_room("agent1")}, namespace=PHONE_NAMESPACE)
    offer = {"call_id": "1700000000.42", "caller_number": "+358401234567", "caller_name": "Acme Oy",
             "queue": "cs-en", "queue_label": "Customer Service EN", "direction": "inbound",
             "offered_at": 1700000000.5}
    socketio.emit("call_offered", offer, to=agent_room("agent1"), namespace=PHONE_NAMESPACE)

    received1 = clients[1].get_received(PHONE_NAMESPACE)
    assert [(m["name"], m["args"][0]) for m in received1] == [("call_offered", offer)]
    assert clients[2].get_received(PHONE_NAMESPACE) == []


def test_given_a_message_queue_then_the_channel_is_the_configured_one(settings: Settings) -> None:
    from dataclasses import replace

    app = create_app(replace(settings, redis_url="redis://127.0.0.1:1/0", socketio_channel="sb-test"))
    manager = get_socketio(app).server.manager
    assert manager.channel == "sb-test"


def test_the_softphone_login_may_be_framed_by_salesforce_and_the_plain_login_may_not(client: FlaskClient) -> None:
    plain = client.get("/login")
    assert "frame-ancestors 'self';" in plain.headers["Content-Security-Policy"] + ";"
    assert "force.com" not in plain.headers["Content-Security-Policy"]
    framed = client.get("/login?next=/softphone")
    assert "frame-ancestors 'self' https://*.lightning.force.com" in framed.headers["Content-Security-Policy"]
    assert "script-src 'self';" in framed.headers["Content-Security-Policy"]  # no third-party script on login
