"""/api/calls/current gives an agent their own kept call only (restored after a page reload)."""

from __future__ import annotations

import dataclasses
import json

import redis

from switchboard.contracts import live_call_key, offer_key
from tests.support.web import csrf_from
from web import create_app


def logged_in(app, username: str, password: str):
    client = app.test_client()
    client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(client)})
    return client


def test_an_agent_gets_their_own_kept_call_and_another_agent_gets_none(settings, redis_url):
    app = create_app(dataclasses.replace(settings, redis_url=redis_url))
    call = {"call_id": "1795627525.0", "caller_number": "+358401234567", "queue_label": "Customer Service EN",
            "answered_at": 1795627525.8}
    redis.Redis.from_url(redis_url).set(live_call_key("agent1"), json.dumps(call))
    own = logged_in(app, "alice1", "pw1").get("/api/calls/current")
    assert own.status_code == 200 and own.get_json()["call"] == call
    other = logged_in(app, "alice2", "pw2").get("/api/calls/current")
    assert other.status_code == 200 and other.get_json()["call"] is None


def test_a_user_without_a_phone_gets_a_clear_error(settings):
    app = create_app(settings)
    response = logged_in(app, "sam", "pw-sam").get("/api/calls/current")
    assert response.status_code == 403 and response.get_json()["error"] == "not_an_agent"


def test_a_page_that_missed_the_offer_event_can_ask_for_its_own_offer_only(settings, redis_url):

    app = create_app(dataclasses.replace(settings, redis_url=redis_url))
    offer = {"call_id": "1795627999.4", "caller_number": "+358401234567", "caller_name": "Maija",
             "queue": "cs-en", "queue_label": "Customer Service EN", "direction": "inbound"}
    redis.Redis.from_url(redis_url).set(offer_key(offer["call_id"], "agent1"), json.dumps(offer))
    own = logged_in(app, "alice1", "pw1").get(f"/api/calls/{offer['call_id']}/offer")
    assert own.status_code == 200 and own.get_json()["queue_label"] == "Customer Service EN"
    other = logged_in(app, "alice2", "pw2").get(f"/api/calls/{offer['call_id']}/offer")
    assert other.status_code == 404
