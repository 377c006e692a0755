"""The web phone's entry points for a number to call: ``tel:`` URIs through /dial (the page registers
itself as the browser's tel: handler) and the transfer targets an agent picks by name."""

from __future__ import annotations

import pytest

from switchboard.store import Store
from tests.support.web import signed_in
from web import create_app
from web.calls_api import clean_number


@pytest.fixture
def client(settings, database_url):
    store = Store(database_url)
    store.upsert_queue("cs-fi", "Customer Service FI", "+35891000002")
    store.upsert_queue("sales", "Sales", "+35891000003")
    store.upsert_queue("draft", "No Number Yet", "")
    store.add_member("agent1", ["sales"])
    return create_app(settings, store=store).test_client()


@pytest.mark.parametrize(("raw", "want"), [
    ("tel:+358401234567", "+358401234567"),
    ("tel:+358-40-123-4567", "+358401234567"),  # RFC 3966 visual separators
    ("TEL:+358 (40) 123.45.67", "+358401234567"),
    ("tel:+358401234567;ext=12;phone-context=example.com", "+358401234567"),  # parameters go
    ("tel:0401234567;phone-context=+358", "0401234567"),
    ("tel:%2B358%2040%20123", "+35840123"),  # still percent-encoded once
    ("tel:00358401", "+358401"),
    ("tel:agent2", ""),  # a tel: URI names a number, never an agent
    ("tel:", ""),
    ("tel:javascript:alert(1)", ""),
    ("telephone:+358", ""),
])
def test_clean_number_accepts_tel_uris(raw, want):
    assert clean_number(raw) == want


def test_dial_with_a_tel_uri_redirects_to_the_phone_with_the_number(client):
    signed_in(client, "alice1", "pw1")
    r = client.get("/dial?number=tel%3A%2B358-40-123-4567%3Bext%3D9")
    assert r.status_code == 302 and r.headers["Location"].endswith("/phone?dial=%2B358401234567")


def test_transfer_targets_list_queues_with_numbers_own_first_and_the_other_agents(client):
    signed_in(client, "alice1", "pw1")  # agent1, a member of Sales
    body = client.get("/api/transfer-targets").get_json()
    queues = [(q["label"], q["number"], q["mine"]) for q in body["queues"]]
    assert queues == [("Sales", "+35891000003", True), ("Customer Service FI", "+35891000002", False)]
    agents = [(a["name"], a["number"]) for a in body["agents"]]
    assert agents == [("Alice 2", "agent2")]  # never the agent themselves, nor a user without a phone


def test_transfer_targets_need_an_agent(client):
    assert client.get("/api/transfer-targets").status_code == 401
    signed_in(client, "sam", "pw-sam")
    assert client.get("/api/transfer-targets").get_json()["error"] == "not_an_agent"
