"""Call history and display-number APIs of the web phone: an agent sees only their own calls and
only the display numbers they may use, each signed so the dialplan can check it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from switchboard.outbound import display_key, display_signature, display_token, split_dial_template
from switchboard.store import Store
from tests.support.web import signed_in
from web import create_app
from web.calls_api import clean_number


@pytest.fixture
def client(settings, database_url):
    store = Store(database_url)
    store.upsert_queue("sales", "Sales", "+35891000003")
    store.add_member("agent1", ["sales"])
    now = datetime.now(UTC)
    for i, agent in enumerate(("agent1", "agent1", "agent2")):
        store.record_call(call_id=f"77{i}.1", direction="inbound", caller_number=f"+35840000000{i}",
                          caller_name="", queue="sales", agent=agent, disposition="answered",
                          started_at=now - timedelta(minutes=10 - i), answered_at=None,
                          ended_at=now - timedelta(minutes=9 - i), duration_seconds=30 + i)
    app = create_app(settings, store=store)
    return app.test_client()


def test_given_an_agent_then_history_lists_only_their_calls_newest_first(client):
    signed_in(client, "alice1", "pw1")
    calls = client.get("/api/history").get_json()["calls"]
    assert [c["number"] for c in calls if c["call_id"].startswith("77")] == ["+358400000001", "+358400000000"]
    assert all(c["agent"] == "agent1" for c in calls)
    assert calls[0]["duration_seconds"] == 31 and calls[0]["disposition"] == "answered"
    assert (calls[0]["queue"], calls[0]["queue_label"]) == ("sales", "Sales")  # the page shows the label


def test_given_no_login_then_history_is_refused_as_json(client):
    r = client.get("/api/history")
    assert r.status_code == 401 and r.get_json()["error"] == "not_logged_in"


def test_given_a_supervisor_without_phone_then_history_says_not_an_agent(client):
    signed_in(client, "sam", "pw-sam")
    r = client.get("/api/history")
    assert r.status_code == 403 and r.get_json()["error"] == "not_an_agent"


def test_given_queue_membership_then_display_numbers_offer_it_with_a_valid_signature(client, settings):
    signed_in(client, "alice1", "pw1")
    choices = client.get("/api/display-numbers").get_json()["choices"]
    kinds = [c["kind"] for c in choices]
    assert kinds[:2] == ["default", "hidden"] and "queue:sales" in kinds
    sales = next(c for c in choices if c["kind"] == "queue:sales")
    number, expires, sig = sales["token"].split("~")
    assert number == "+35891000003"
    assert sig == display_signature(display_key(settings.secret_key), "agent1", "queue:sales", number, int(expires))
    signed_in(client, "alice2", "pw2")  # not in Sales
    assert "queue:sales" not in [c["kind"] for c in client.get("/api/display-numbers").get_json()["choices"]]


def test_a_token_is_bound_to_its_agent_and_kind():
    t1 = display_token("k", "agent1", "work", "+358401")
    t2 = display_token("k", "agent2", "work", "+358401")
    assert t1.split("~")[2] != t2.split("~")[2]
    with pytest.raises(ValueError):
        display_token("k", "agent1", "queue:a b", "+1")


def test_dial_redirects_to_the_phone_with_a_clean_number(client):
    signed_in(client, "alice1", "pw1")
    r = client.get("/dial?number=%2B358%2040%20123-45%2067")
    assert r.status_code == 302 and r.headers["Location"].endswith("/phone?dial=%2B358401234567")
    assert client.get("/dial?number=javascript:alert(1)").headers["Location"].endswith("/phone")


@pytest.mark.parametrize(("raw", "want"), [("00358 40 1", "+358401"), ("(040) 123", "040123"), ("*43", "*43"),
                                           ("agent2", "agent2"), ("<b>", ""), ("", "")])
def test_clean_number(raw, want):
    assert clean_number(raw) == want


def test_dial_template_splits_around_the_number():
    assert split_dial_template("PJSIP/{number}@trunk") == ("PJSIP/", "@trunk")
    with pytest.raises(ValueError):
        split_dial_template("PJSIP/trunk")
