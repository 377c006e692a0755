"""Advanced call details (/calls/<id>): only the agent who took the call or a supervisor sees it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.support.web import csrf_from
from web import create_app

CALL = {"call_id": "1795625118.7", "direction": "inbound", "caller_number": "+358401234567",
        "caller_name": "<b>Maija</b>", "queue": "cs-en", "agent": "agent1", "disposition": "answered",
        "started_at": "2026-11-25T10:00:00+00:00", "answered_at": "2026-11-25T10:00:05+00:00",
        "ended_at": "2026-11-25T10:01:00+00:00", "wait_seconds": 5, "duration_seconds": 55}


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    (tmp_path / f"{CALL['call_id']}.wav").write_bytes(b"RIFF" + b"\0" * 100)
    return tmp_path


@pytest.fixture
def client_for(settings, recordings):
    from switchboard.store import Store

    Store(settings.database_url).record_call(**CALL)
    app = create_app(dataclasses.replace(settings, recordings_dir=str(recordings)))
    app.config["TESTING"] = True

    def login(username: str, password: str) -> FlaskClient:
        client = app.test_client()
        token = csrf_from(client)
        client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        return client

    return login


def test_the_agent_who_took_the_call_sees_details_and_recording(client_for):
    client = client_for("alice1", "pw1")
    page = client.get(f"/calls/{CALL['call_id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "+358401234567" in html and "&lt;b&gt;Maija&lt;/b&gt;" in html and "<b>Maija" not in html
    assert 'id="recording"' in html
    wav = client.get(f"/calls/{CALL['call_id']}/recording.wav")
    assert wav.status_code == 200 and wav.data.startswith(b"RIFF")


def test_another_agent_gets_not_found(client_for):
    client = client_for("alice2", "pw2")
    assert client.get(f"/calls/{CALL['call_id']}").status_code == 404
    assert client.get(f"/calls/{CALL['call_id']}/recording.wav").status_code == 404


def test_a_supervisor_sees_any_call_and_nobody_sees_bad_ids(client_for):
    client = client_for("sam", "pw-sam")
    assert client.get(f"/calls/{CALL['call_id']}").status_code == 200
    assert client.get("/calls/..%2f..%2fetc%2fpasswd").status_code == 404
    assert client.get("/calls/1.2/recording.wav").status_code == 404


def test_anonymous_users_are_sent_to_login(settings):
    client = create_app(settings).test_client()
    response = client.get(f"/calls/{CALL['call_id']}")
    assert response.status_code in (302, 401) and "login" in response.headers.get("Location", "login")
