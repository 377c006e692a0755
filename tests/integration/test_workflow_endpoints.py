"""Phone-workflow endpoints against the Salesforce emulator and a real Redis: identity on ringing,
search, cases, record creation, phone update, the agent's choice relating the call Task, CSRF and
another agent's call."""

from __future__ import annotations

import contextlib
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
from sfemu.testing import emulator_control, running_emulator
from switchboard.config import Settings
from switchboard.salesforce import connect, soql_quote
from switchboard.sip import derive_sip_password
from switchboard.store import Store, upgrade
from switchboard.store.live import REFRESH_SECONDS
from tests.support.redis_server import running_redis
from tests.support.web import HOSTILE, logged_in
from web import create_app
from worker import tasks
from worker.context import get_context, reset_context

pytestmark = pytest.mark.integration
CREDS = Credentials()
SECRET = "workflow-test-secret"
_ids = itertools.count(1)

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


def offer(env: dict[str, Any], number: str, agent: str = "agent1", queue_label: str = "Customer Service EN",
          direction: str = "inbound") -> str:
    """Record an offer (or the agent's own outbound call) as the orchestrator's dispatcher does."""
    call_id = f"{int(time.time())}.{next(_ids)}"
    env["redis"].set(f"switchboard:offer:{call_id}:{agent}", json.dumps(
        {"call_id": call_id, "caller_number": number, "queue_label": queue_label, "direction": direction}), ex=600)
    return call_id


@contextlib.contextmanager
def workflow(env: dict[str, Any], username: str, name: str) -> Iterator[None]:
    """``username`` uses the phone workflow ``name`` inside the block (as `switchboard agent set` sets it)."""
    env["store"].update_user(username, phone_workflow=name)
    try:
        yield
    finally:
        env["store"].update_user(username, phone_workflow="contact_account")


def post(client: FlaskClient, url: str, data: dict[str, Any], csrf: bool = True):
    headers = {"X-CSRF-Token": client.csrf} if csrf else {}  # type: ignore[attr-defined]
    return client.post(url, json=data, headers=headers)


def test_identity_single_none_multiple_lead_and_directory(env, app):
    c = logged_in(app, "alice1", "pw1")
    single = c.get(f"/api/calls/{offer(env, DEMO_CALLER_NUMBER)}/identity").get_json()
    assert single["salesforce"]["kind"] == "single"
    assert single["salesforce"]["records"][0]["Name"] == DEMO_CONTACT_NAME
    assert single["queue_label"] == "Customer Service EN" and single["workflow"] == "contact_account"
    assert single["lightning_url"] == "https://example.lightning.force.com"
    multiple = c.get(f"/api/calls/{offer(env, DEMO_SHARED_PHONE)}/identity").get_json()
    assert multiple["salesforce"]["kind"] == "multiple"
    none = c.get(f"/api/calls/{offer(env, '+358509999111', queue_label='')}/identity").get_json()
    assert none["salesforce"]["kind"] == "none" and none["queue_label"] == "Direct"
    # Contact&Account identifies no Leads (seed 2.3); Contact&Lead does (seed 2.4)
    assert c.get(f"/api/calls/{offer(env, DEMO_LEAD_PHONE)}/identity").get_json()["salesforce"]["kind"] == "none"
    with workflow(env, "alice1", "contact_lead"):
        lead = c.get(f"/api/calls/{offer(env, DEMO_LEAD_PHONE)}/identity").get_json()
    assert lead["salesforce"]["kind"] == "single" and lead["salesforce"]["records"][0]["Name"] == DEMO_LEAD_NAME
    colleague = c.get(f"/api/calls/{offer(env, 'agent2')}/identity").get_json()
    assert colleague["directory"]["name"] == "Alice 2"


def test_matches_rows_have_account_names_and_admin_columns(env, app):
    c = logged_in(app, "alice1", "pw1")
    body = c.get(f"/api/calls/{offer(env, DEMO_SHARED_PHONE)}/matches").get_json()
    contacts = [r for r in body["rows"] if r["type"] == "Contact"]
    assert len(contacts) >= 2 and all(r["AccountName"] for r in contacts)
    assert "Email" in contacts[0]["extra"]


def test_hostile_search_strings_and_caller_ids_are_literal(env, app):
    c = logged_in(app, "alice1", "pw1")
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
    other = logged_in(app, "alice2", "pw2")
    assert other.get(f"/api/calls/{call_id}/identity").status_code == 404
    assert other.get(f"/api/calls/{call_id}/search?q=Maija").status_code == 404
    assert post(other, f"/api/calls/{call_id}/choose", {"id": "003000000000001AAA"}).status_code == 404
    assert post(other, f"/api/calls/{call_id}/case", {}).status_code == 404
    assert other.get("/api/calls/not-a-call/identity").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"/api/calls/{call_id}/identity").status_code == 401


def test_posts_need_the_csrf_header(env, app):
    c = logged_in(app, "alice1", "pw1")
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
    c = logged_in(app, "alice1", "pw1")
    call_id = offer(env, DEMO_SHARED_PHONE)
    rows = c.get(f"/api/calls/{call_id}/matches").get_json()["rows"]
    chosen = next(r for r in rows if r["type"] == "Contact")
    r = post(c, f"/api/calls/{call_id}/choose", {"id": chosen["Id"], "type": "Contact",
                                                 "account_id": chosen["AccountId"]})
    assert r.status_code == 200, r.get_json()
    found = _finish(env, call_id, DEMO_SHARED_PHONE, monkeypatch)
    assert len(found) == 1 and found[0]["WhoId"] == chosen["Id"] and found[0]["WhatId"] == chosen["AccountId"]


def test_choice_after_the_task_was_written_updates_the_same_task(env, app, monkeypatch):
    c = logged_in(app, "alice1", "pw1")
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


def sf_api(env: dict[str, Any]):
    """simple-salesforce on the emulator, for a test's own records."""
    return connect(env["settings"])


def unique_number() -> str:
    """A Finnish mobile number no seeded or earlier record of this module has."""
    return f"+35845{int(time.time() * 1000) % 10**7:07d}{next(_ids) % 10}"


def api_requests(env: dict[str, Any]) -> list[dict[str, Any]]:
    """The Salesforce API requests the emulator logged since the last ``reset_requests``."""
    return emulator_control(env["settings"].sf_emulator_url, "GET", "requests?kind=api").json()["requests"]


def reset_requests(env: dict[str, Any]) -> None:
    emulator_control(env["settings"].sf_emulator_url, "POST", "reset-log")


def identified(c: FlaskClient, env: dict[str, Any], number: str) -> list[str]:
    """The ids the ringing phone shows for a call from ``number``."""
    return [r["Id"] for r in c.get(f"/api/calls/{offer(env, number)}/identity").get_json()["salesforce"]["records"]]


def test_update_phone_forgets_the_old_and_the_new_number_and_new_account_lead(env, app):
    c = logged_in(app, "alice1", "pw1")
    old, new = unique_number(), unique_number()
    contact = sf_api(env).Contact.create({"FirstName": "Moving", "LastName": "Phonebook", "Phone": old})["id"]
    assert identified(c, env, old) == [contact] and identified(c, env, new) == []  # both cached now
    call_id = offer(env, new)
    found = c.get(f"/api/calls/{call_id}/search", query_string={"q": "Moving Phonebook"}).get_json()["rows"]
    assert [r["Id"] for r in found] == [contact]
    r = post(c, f"/api/calls/{call_id}/phone", {"type": "Contact", "id": contact})
    assert r.status_code == 200, r.get_json()
    reset_requests(env)
    assert identified(c, env, new) == [contact]
    assert identified(c, env, old) == []  # not the stale cached match of the old number
    assert len(api_requests(env)) == 2, "both numbers are looked up again"
    acc = post(c, f"/api/calls/{call_id}/records", {"type": "Account", "name": "Hostile {Co} 'Ltd'"})
    assert acc.status_code == 201 and acc.get_json()["id"].startswith("001")
    lead = post(c, f"/api/calls/{call_id}/records", {"type": "Lead", "last_name": "Lead", "company": "X"})
    assert lead.status_code == 201 and lead.get_json()["id"].startswith("00Q")
    assert post(c, f"/api/calls/{call_id}/records", {"type": "User", "last_name": "x"}).status_code == 400


def test_one_lookup_per_new_caller_carries_the_admin_columns_and_none_when_cached(env, app):
    number = unique_number()
    api = sf_api(env)
    account = api.Account.create({"Name": "Columns Oy", "Phone": "+358 9 555 0101"})["id"]
    for first in ("Ada", "Bo"):
        api.Contact.create({"FirstName": first, "LastName": "Columns", "Phone": number, "AccountId": account,
                            "Title": f"{first}'s title", "Email": f"{first.lower()}@example.fi"})
    env["store"].set_admin_setting("workflow_contact_columns", ["Email", "Title"])
    try:
        c = logged_in(app, "alice1", "pw1")
        reset_requests(env)
        call_id = offer(env, number)
        assert c.get(f"/api/calls/{call_id}/identity").get_json()["salesforce"]["kind"] == "multiple"
        body = c.get(f"/api/calls/{call_id}/matches").get_json()
        sent = api_requests(env)
        assert len(sent) == 1 and "/search" in sent[0]["path"], sent  # the lookup, nothing else
        assert "Email" in sent[0]["query"] and "Title" in sent[0]["query"]
        assert sorted(r["extra"]["Title"] for r in body["rows"]) == ["Ada's title", "Bo's title"]
        assert {r["AccountName"] for r in body["rows"]} == {"Columns Oy"}
        assert body["columns"]["Contact"] == ["Email", "Title"]
        again = offer(env, number)
        c.get(f"/api/calls/{again}/identity")
        assert len(c.get(f"/api/calls/{again}/matches").get_json()["rows"]) == 2
        assert len(api_requests(env)) == 1, "a cached caller costs no request"
    finally:
        env["store"].set_admin_setting("workflow_contact_columns", None)
    # the admin's change reaches the running app within REFRESH_SECONDS, and the cached entry (filled
    # without MobilePhone) no longer counts
    env["store"].set_admin_setting("workflow_contact_columns", ["MobilePhone"])
    try:
        time.sleep(REFRESH_SECONDS)
        body = c.get(f"/api/calls/{offer(env, number)}/matches").get_json()
        assert body["columns"]["Contact"] == ["MobilePhone"] and "MobilePhone" in body["rows"][0]["extra"]
        assert len(api_requests(env)) == 2
    finally:
        env["store"].set_admin_setting("workflow_contact_columns", None)


def test_matches_follow_the_workflow_up_to_ten_of_each_kind(env, app):
    number = unique_number()
    api = sf_api(env)
    for i in range(12):
        api.Contact.create({"FirstName": f"Many{i:02d}", "LastName": "Matches", "Phone": number})
    accounts = {api.Account.create({"Name": f"Matches {i} Oy", "Phone": number})["id"] for i in range(2)}
    leads = {api.Lead.create({"LastName": f"Matches Lead {i}", "Company": "Leads Oy", "Phone": number})["id"]
             for i in range(2)}
    c = logged_in(app, "alice1", "pw1")

    def kinds(workflow_name: str) -> dict[str, set[str]]:
        with workflow(env, "alice1", workflow_name):
            call_id = offer(env, number)
            assert c.get(f"/api/calls/{call_id}/identity").get_json()["salesforce"]["kind"] == "multiple"
            rows = c.get(f"/api/calls/{call_id}/matches").get_json()["rows"]
        out: dict[str, set[str]] = {}
        for r in rows:
            out.setdefault(r["type"], set()).add(r["Id"])
        return out

    for name in ("contact_account", "case_dialog"):  # seed 2.3.3 and 2.2.3: contacts and accounts
        found = kinds(name)
        assert set(found) == {"Contact", "Account"} and len(found["Contact"]) == 10 and found["Account"] == accounts
    found = kinds("contact_lead")  # seed 2.4: leads instead of accounts
    assert set(found) == {"Contact", "Lead"} and len(found["Contact"]) == 10 and found["Lead"] == leads


def test_case_workflow_auto_case_once_and_recent_cases(env, app):
    c = logged_in(app, "alice1", "pw1")
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


def many_cases(env: dict[str, Any], n: int = 7) -> tuple[str, list[dict[str, Any]]]:
    """A new contact with ``n`` cases; the first one is modified last. Returns (contact id, cases newest
    modified first, each with Id, CaseNumber, Subject)."""
    api = sf_api(env)
    contact = api.Contact.create({"FirstName": "Casey", "LastName": f"Many{next(_ids)}", "Phone": unique_number()})
    ids = [api.Case.create({"Subject": f"Printer {i} jammed 100%_done", "ContactId": contact["id"],
                            "Origin": "Phone"})["id"] for i in range(n)]
    time.sleep(0.01)
    api.Case.update(ids[0], {"Status": "Working"})
    q = (f"SELECT Id, CaseNumber, Subject FROM Case WHERE ContactId = {soql_quote(contact['id'])} "
         "ORDER BY LastModifiedDate DESC")
    return contact["id"], api.query(q)["records"]


def test_recent_cases_are_the_five_last_modified_and_search_by_number_then_admin_fields(env, app):
    contact, cases = many_cases(env)
    assert cases[0]["Subject"].startswith("Printer 0 ")  # modified after the others were created
    c = logged_in(app, "alice1", "pw1")
    call_id = offer(env, "+358401234567")
    recent = c.get(f"/api/calls/{call_id}/cases", query_string={"contact_id": contact}).get_json()["cases"]
    assert [x["Id"] for x in recent] == [x["Id"] for x in cases[:5]]
    older = cases[-1]  # not among the five
    by_number = c.get(f"/api/calls/{call_id}/cases", query_string={"contact_id": contact, "q": older["CaseNumber"]})
    assert [x["Id"] for x in by_number.get_json()["cases"]] == [older["Id"]]
    short = older["CaseNumber"].lstrip("0")  # "1234" finds case 00001234
    found = c.get(f"/api/calls/{call_id}/cases", query_string={"q": short}).get_json()["cases"]
    assert older["Id"] in [x["Id"] for x in found]

    def by_subject(text: str) -> list[str]:
        r = c.get(f"/api/calls/{call_id}/cases", query_string={"contact_id": contact, "q": text})
        assert r.status_code == 200, r.get_json()
        return [x["Id"] for x in r.get_json()["cases"]]

    assert by_subject("jammed") == []  # by default a case is searched by its number only (seed 2.2.2)
    env["store"].set_admin_setting("workflow_case_search_fields", ["Subject"])
    try:
        time.sleep(REFRESH_SECONDS)
        assert by_subject("Printer 6") == [x["Id"] for x in cases if x["Subject"].startswith("Printer 6 ")]
        assert len(by_subject("jammed")) == 7
        assert len(by_subject("100%_")) == 7 and by_subject("r%d") == [] and by_subject("1_0") == []  # literal
        assert by_subject("' OR Subject != '") == []
    finally:
        env["store"].set_admin_setting("workflow_case_search_fields", None)


def test_softphone_can_be_framed_by_salesforce_only_there(env, app):
    c = logged_in(app, "alice1", "pw1")
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


@pytest.mark.parametrize(("tenant", "user", "related"), [
    (None, "", False),  # seed 2.2.4/2.3.4: by default not related
    ("relate", "", True),  # switchboard admin workflow set --outbound-other-object relate
    ("relate", "ignore", False),  # the user's own setting wins (switchboard agent set --outbound-other-object)
    (None, "relate", True),
], ids=["default", "tenant-relate", "user-ignore", "user-relate"])
def test_outbound_from_an_account_follows_the_user_then_the_tenant_setting(env, app, tenant, user, related):
    env["store"].set_admin_setting("outbound_other_object", tenant)
    env["store"].update_user("alice1", outbound_other_object=user)
    try:
        c = logged_in(app, "alice1", "pw1")
        account = sf_api(env).Account.create({"Name": "Dialled From Oy", "Phone": unique_number()})["id"]
        call_id = offer(env, "+358401234567", queue_label="", direction="outbound")
        r = post(c, f"/api/calls/{call_id}/choose", {"id": account, "type": "Account"})
        assert r.status_code == 200, r.get_json()
        assert bool(r.get_json().get("ignored")) is not related
        context = json.loads(env["redis"].get(f"switchboard:call:{call_id}:context") or "{}")
        assert (context.get("what_id") == account) is related
        contact = sf_api(env).Contact.create({"LastName": "Dialled", "Phone": unique_number()})["id"]
        contact_call = offer(env, "+358401234567", queue_label="", direction="outbound")
        chosen = post(c, f"/api/calls/{contact_call}/choose", {"id": contact, "type": "Contact"}).get_json()
        assert not chosen.get("ignored") and chosen["context"]["who_id"] == contact  # a contact always is
    finally:
        env["store"].set_admin_setting("outbound_other_object", None)
        env["store"].update_user("alice1", outbound_other_object="")
