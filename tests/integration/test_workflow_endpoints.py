"""Phone-workflow endpoints against the Salesforce emulator and a real Redis: identity on ringing,
search, cases, record creation, phone update, the agent's choice relating the call Task, CSRF and
another agent's call."""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from sfemu.auth import Credentials
from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME, DEMO_LEAD_NAME, DEMO_LEAD_PHONE, DEMO_SHARED_PHONE
from sfemu.testing import running_emulator
from switchboard.config import Settings
from switchboard.sip import derive_sip_password
from switchboard.store import Store, upgrade
from tests.unit.test_web_app import csrf_from
from web import create_app
from worker import tasks
from worker.context import get_context, reset_context
from worker.salesforce import soql_quote
from worker.testing import running_redis

pytestmark = pytest.mark.integration
CREDS = Credentials()
SECRET = "workflow-test-secret"
_ids = itertools.count(1)
HOSTILE = ["x'y", 'a"b', "{Robert}", "back\\slash", "a OR b", "?&|!{}[]()^~*:\\\"'+-", "Maija') OR Name != ('",
           "}) RETURNING User(Id", "%_%", "\n\tNOT x"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_emulator("demo") as sf_url, running_redis() as redis_url:
        db = f"sqlite:///{tmp_path_factory.mktemp('wf') / 'wf.db'}"
        upgrade(db)
        store = Store(db)
        for n in (1, 2):
            store.create_user(f"alice{n}", f"pw{n}", f"Alice {n}", sip_username=f"agent{n}",
                              sip_password=derive_sip_password(SECRET, f"agent{n}", 1))
        settings = Settings(database_url=db, redis_url=redis_url, secret_key=SECRET, sf_emulator_url=sf_url,
                            sf_auth="password", sf_username=CREDS.username, sf_password=CREDS.password,
                            sf_security_token=CREDS.security_token, rq_queue="wf-test",
                            sf_lightning_url="https://example.lightning.force.com")
        yield {"settings": settings, "store": store, "redis": redis.Redis.from_url(redis_url)}


@pytest.fixture
def app(env: dict[str, Any]):
    app = create_app(env["settings"])
    app.config["TESTING"] = True
    return app


def login(app, username: str, password: str) -> FlaskClient:
    client = app.test_client()
    token = csrf_from(client)
    client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    client.csrf = csrf_from(client, "/login")  # type: ignore[attr-defined]  # the new session's token
    return client


def offer(env: dict[str, Any], number: str, agent: str = "agent1", queue_label: str = "Customer Service EN") -> str:
    """Record an offer as the orchestrator's dispatcher does."""
    call_id = f"{int(time.time())}.{next(_ids)}"
    env["redis"].set(f"switchboard:offer:{call_id}:{agent}", json.dumps(
        {"call_id": call_id, "caller_number": number, "queue_label": queue_label, "direction": "inbound"}), ex=600)
    return call_id


def post(client: FlaskClient, url: str, data: dict[str, Any], csrf: bool = True):
    headers = {"X-CSRF-Token": client.csrf} if csrf else {}  # type: ignore[attr-defined]
    return client.post(url, json=data, headers=headers)


def test_identity_single_none_multiple_lead_and_directory(env, app):
    c = login(app, "alice1", "pw1")
    single = c.get(f"/api/calls/{offer(env, DEMO_CALLER_NUMBER)}/identity").get_json()
    assert single["salesforce"]["kind"] == "single"
    assert single["salesforce"]["records"][0]["Name"] == DEMO_CONTACT_NAME
    assert single["queue_label"] == "Customer Service EN" and single["workflow"] == "contact_account"
    assert single["lightning_url"] == "https://example.lightning.force.com"
    multiple = c.get(f"/api/calls/{offer(env, DEMO_SHARED_PHONE)}/identity").get_json()
    assert multiple["salesforce"]["kind"] == "multiple"
    none = c.get(f"/api/calls/{offer(env, '+358509999111', queue_label='')}/identity").get_json()
    assert none["salesforce"]["kind"] == "none" and none["queue_label"] == "Direct"
    lead = c.get(f"/api/calls/{offer(env, DEMO_LEAD_PHONE)}/identity").get_json()
    assert lead["salesforce"]["records"][0]["Name"] == DEMO_LEAD_NAME
    colleague = c.get(f"/api/calls/{offer(env, 'agent2')}/identity").get_json()
    assert colleague["directory"]["name"] == "Alice 2"


def test_matches_rows_have_account_names_and_admin_columns(env, app):
    c = login(app, "alice1", "pw1")
    body = c.get(f"/api/calls/{offer(env, DEMO_SHARED_PHONE)}/matches").get_json()
    contacts = [r for r in body["rows"] if r["type"] == "Contact"]
    assert len(contacts) >= 2 and all(r["AccountName"] for r in contacts)
    assert "Email" in contacts[0]["extra"]


def test_hostile_search_strings_and_caller_ids_are_literal(env, app):
    c = login(app, "alice1", "pw1")
    call_id = offer(env, DEMO_CALLER_NUMBER)
    for text in HOSTILE:
        r = c.get(f"/api/calls/{call_id}/search", query_string={"q": text})
        assert r.status_code in (200, 400), (text, r.get_json())
        if r.status_code == 200:
            assert all(row["type"] in ("Contact", "Account") for row in r.get_json()["rows"])
        cases = c.get(f"/api/calls/{call_id}/cases", query_string={"q": text})
        assert cases.status_code in (200, 400), (text, cases.get_json())
    for hostile in ["{x} OR Name:*", "' OR 1=1 --", "\\\\'}"]:
        r = c.get(f"/api/calls/{offer(env, hostile)}/identity")
        assert r.status_code == 200 and r.get_json()["salesforce"]["kind"] in ("none", "error")
    found = c.get(f"/api/calls/{call_id}/search", query_string={"q": "Maija"}).get_json()["rows"]
    assert any(r["Name"] == DEMO_CONTACT_NAME and r["AccountName"] for r in found)


def test_another_agent_cannot_read_or_act_on_the_call(env, app):
    call_id = offer(env, DEMO_CALLER_NUMBER, agent="agent1")
    other = login(app, "alice2", "pw2")
    assert other.get(f"/api/calls/{call_id}/identity").status_code == 404
    assert other.get(f"/api/calls/{call_id}/search?q=Maija").status_code == 404
    assert post(other, f"/api/calls/{call_id}/choose", {"id": "003000000000001AAA"}).status_code == 404
    assert post(other, f"/api/calls/{call_id}/case", {}).status_code == 404
    assert other.get("/api/calls/not-a-call/identity").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"/api/calls/{call_id}/identity").status_code == 401


def test_posts_need_the_csrf_header(env, app):
    c = login(app, "alice1", "pw1")
    call_id = offer(env, DEMO_CALLER_NUMBER)
    assert post(c, f"/api/calls/{call_id}/case", {}, csrf=False).status_code == 403
    assert c.post(f"/api/calls/{call_id}/case", json={}, headers={"X-CSRF-Token": "wrong"}).status_code == 403


def _finish(env: dict[str, Any], call_id: str, number: str, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Run finish_call and flush like the worker, then read the call's Task."""
    s = env["settings"]
    for key, value in {"SWITCHBOARD_SF_EMULATOR_URL": s.sf_emulator_url, "SWITCHBOARD_SF_AUTH": "password",
                       "SWITCHBOARD_SF_USERNAME": s.sf_username, "SWITCHBOARD_SF_PASSWORD": s.sf_password,
                       "SWITCHBOARD_SF_SECURITY_TOKEN": s.sf_security_token,
                       "SWITCHBOARD_DATABASE_URL": s.database_url, "SWITCHBOARD_REDIS_URL": s.redis_url}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    reset_context()
    call = {"call_id": call_id, "direction": "inbound", "caller_number": number, "caller_name": "",
            "queue": "cs-en", "queue_label": "Customer Service EN", "agent": "agent1", "disposition": "answered",
            "started_at": "2024-06-03T10:00:00+03:00", "answered_at": "2024-06-03T10:00:07+03:00",
            "ended_at": "2024-06-03T10:02:07+03:00", "wait_seconds": 7, "duration_seconds": 120}
    tasks.finish_call(call)
    get_context().flusher().run_once(force=True)
    sf = get_context().client.salesforce()
    return sf.query(f"SELECT Id, WhoId, WhatId FROM Task WHERE Call_Id__c = {soql_quote(call_id)}")["records"]


def test_contact_account_multiple_choose_relates_the_task(env, app, monkeypatch):
    c = login(app, "alice1", "pw1")
    call_id = offer(env, DEMO_SHARED_PHONE)
    rows = c.get(f"/api/calls/{call_id}/matches").get_json()["rows"]
    chosen = next(r for r in rows if r["type"] == "Contact")
    r = post(c, f"/api/calls/{call_id}/choose", {"id": chosen["Id"], "type": "Contact",
                                                 "account_id": chosen["AccountId"]})
    assert r.status_code == 200, r.get_json()
    found = _finish(env, call_id, DEMO_SHARED_PHONE, monkeypatch)
    assert len(found) == 1 and found[0]["WhoId"] == chosen["Id"] and found[0]["WhatId"] == chosen["AccountId"]


def test_choice_after_the_task_was_written_updates_the_same_task(env, app, monkeypatch):
    c = login(app, "alice1", "pw1")
    number = "+358505550101"
    call_id = offer(env, number)
    first = _finish(env, call_id, number, monkeypatch)
    assert len(first) == 1 and not first[0]["WhoId"]
    created = post(c, f"/api/calls/{call_id}/records", {"type": "Contact", "first_name": "Late",
                                                        "last_name": "O'Chooser {x}"})
    assert created.status_code == 201, created.get_json()
    contact_id = created.get_json()["id"]
    # the web re-queued finish_call with the remembered summary: run it as the worker would
    summary = json.loads(env["redis"].get(f"switchboard:call:{call_id}:summary"))
    tasks.finish_call(summary)
    get_context().flusher().run_once(force=True)
    sf = get_context().client.salesforce()
    after = sf.query(f"SELECT Id, WhoId FROM Task WHERE Call_Id__c = {soql_quote(call_id)}")["records"]
    assert len(after) == 1 and after[0]["Id"] == first[0]["Id"] and after[0]["WhoId"] == contact_id
    # the caller is now identified (the lookup cache was invalidated)
    again = c.get(f"/api/calls/{offer(env, number)}/identity").get_json()
    assert again["salesforce"]["kind"] == "single" and again["salesforce"]["records"][0]["Id"] == contact_id


def test_not_identified_update_phone_and_new_account_lead(env, app):
    c = login(app, "alice1", "pw1")
    number = "+358505550202"
    call_id = offer(env, number)
    found = c.get(f"/api/calls/{call_id}/search", query_string={"q": DEMO_CONTACT_NAME}).get_json()["rows"]
    contact = next(r for r in found if r["type"] == "Contact")
    r = post(c, f"/api/calls/{call_id}/phone", {"type": "Contact", "id": contact["Id"]})
    assert r.status_code == 200, r.get_json()
    ident = c.get(f"/api/calls/{offer(env, number)}/identity").get_json()
    assert [x["Id"] for x in ident["salesforce"]["records"]] == [contact["Id"]]
    acc = post(c, f"/api/calls/{call_id}/records", {"type": "Account", "name": "Hostile {Co} 'Ltd'"})
    assert acc.status_code == 201 and acc.get_json()["id"].startswith("001")
    lead = post(c, f"/api/calls/{call_id}/records", {"type": "Lead", "last_name": "Lead", "company": "X"})
    assert lead.status_code == 201 and lead.get_json()["id"].startswith("00Q")
    assert post(c, f"/api/calls/{call_id}/records", {"type": "User", "last_name": "x"}).status_code == 400


def test_case_workflow_auto_case_once_and_recent_cases(env, app):
    c = login(app, "alice1", "pw1")
    call_id = offer(env, DEMO_CALLER_NUMBER)
    contact = c.get(f"/api/calls/{call_id}/identity").get_json()["salesforce"]["records"][0]
    first = post(c, f"/api/calls/{call_id}/case", {"contact_id": contact["Id"], "auto": True})
    assert first.status_code == 201, first.get_json()
    second = post(c, f"/api/calls/{call_id}/case", {"contact_id": contact["Id"], "auto": True})
    assert second.get_json()["id"] == first.get_json()["id"]
    recent = c.get(f"/api/calls/{call_id}/cases", query_string={"contact_id": contact["Id"]}).get_json()["cases"]
    assert 1 <= len(recent) <= 5 and recent[0]["Id"] == first.get_json()["id"]
    assert recent[0]["CaseNumber"]
    by_number = c.get(f"/api/calls/{call_id}/cases", query_string={"q": recent[0]["CaseNumber"]}).get_json()
    assert any(x["Id"] == recent[0]["Id"] for x in by_number["cases"])
    ctx = json.loads(env["redis"].get(f"switchboard:call:{call_id}:context"))
    assert ctx["case_id"] == first.get_json()["id"] and ctx["who_id"] == contact["Id"]


def test_softphone_can_be_framed_by_salesforce_only_there(env, app):
    c = login(app, "alice1", "pw1")
    r = c.get("/softphone")
    if r.status_code == 500:
        pytest.skip("browser bundles not built")
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://*.lightning.force.com" in csp
    assert "opencti.js" in r.get_data(as_text=True)
    assert "frame-ancestors 'self';" in c.get("/phone").headers["Content-Security-Policy"] + ";"


def test_samesite_none_setting_makes_the_cookie_secure(env):
    app = create_app(dataclasses.replace(env["settings"], session_cookie_samesite="None"))
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None" and app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("setting", ["relate", "ignore"])
def test_outbound_from_an_account_follows_the_tenant_setting(env, setting, monkeypatch):
    import dataclasses

    app = create_app(dataclasses.replace(env["settings"], outbound_other_object=setting))
    c = login(app, "alice1", "pw1")
    call_id = f"{int(time.time())}.{next(_ids)}"
    env["redis"].set(f"switchboard:offer:{call_id}:agent1", json.dumps(
        {"call_id": call_id, "caller_number": "+358401234567", "queue_label": "", "direction": "outbound"}), ex=600)
    account = next(r for r in c.get(f"/api/calls/{offer(env, DEMO_SHARED_PHONE)}/matches").get_json()["rows"]
                   if r.get("AccountId"))["AccountId"]
    r = post(c, f"/api/calls/{call_id}/choose", {"id": account, "type": "Account"})
    assert r.status_code == 200, r.get_json()
    assert bool(r.get_json().get("ignored")) is (setting == "ignore")
    contact_call = f"{int(time.time())}.{next(_ids)}"
    env["redis"].set(f"switchboard:offer:{contact_call}:agent1", json.dumps(
        {"call_id": contact_call, "caller_number": "+358401234567", "queue_label": "", "direction": "outbound"}),
        ex=600)
    contact = next(r for r in c.get(f"/api/calls/{offer(env, DEMO_SHARED_PHONE)}/matches").get_json()["rows"]
                   if r["type"] == "Contact")["Id"]
    assert not post(c, f"/api/calls/{contact_call}/choose", {"id": contact, "type": "Contact"}).get_json().get(
        "ignored")  # a contact is always related
