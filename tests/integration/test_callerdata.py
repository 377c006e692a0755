"""SalesforceData against the Salesforce emulator process, through the production connector
(SalesforceClient): who a number is, their account's fields, their most recent open Case, what a warm
lookup costs (the emulator counts API requests), and the demo rules routing on those records."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from plugins.salesforce_rules.rules import DEMO_RULES, parse_rules, route
from sfemu.auth import Credentials
from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_LEAD_NAME, DEMO_LEAD_PHONE, DEMO_SHARED_PHONE
from sfemu.testing import emulator_control, running_emulator
from switchboard.callerdata import SalesforceData
from switchboard.config import Settings
from switchboard.meter import Meter
from switchboard.salesforce import find_user_id
from switchboard.sfclient import SESSION_KEY, SalesforceClient

pytestmark = pytest.mark.integration
CREDS = Credentials()
VIP_CONTACT_PHONE = "+358 50 700 1001"
VIP_ACCOUNT_PHONE = "+358 9 700 1000"
ACCOUNT_FIELDS = ["SLA__c", "Language__c", "VIP__c", "OwnerId"]


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with running_emulator("demo") as url:
        yield url


@pytest.fixture
def client(emulator_url: str, redis_conn: redis.Redis) -> SalesforceClient:
    redis_conn.delete(SESSION_KEY)  # another module's emulator session
    settings = Settings(sf_auth="password", sf_emulator_url=emulator_url, sf_username=CREDS.username,
                        sf_password=CREDS.password, sf_security_token=CREDS.security_token)
    return SalesforceClient(settings, redis_conn, Meter(redis_conn))


@pytest.fixture
def org(client: SalesforceClient) -> Iterator[dict[str, str]]:
    """A VIP account owned by agent1 with a contact whose cases are: an older open one (agent2's), the most
    recent open one (agent1's), and a closed one created last."""
    sf = client.salesforce()
    users = {n: find_user_id(sf, f"{n}@switchboard.demo") or "" for n in ("agent1", "agent2")}
    account = sf.Account.create({"Name": "Routing Test Oy", "Phone": VIP_ACCOUNT_PHONE, "SLA__c": "Platinum",
                                 "Language__c": "fi", "VIP__c": True, "OwnerId": users["agent1"]})["id"]
    contact = sf.Contact.create({"FirstName": "Aino", "LastName": "Reititys", "Phone": VIP_CONTACT_PHONE,
                                 "AccountId": account})["id"]
    cases = {}
    for name, status, owner in (("older", "New", "agent2"), ("recent", "Working", "agent1"),
                                ("closed", "Closed", "agent2")):
        cases[name] = sf.Case.create({"Subject": f"{name} case", "Status": status, "ContactId": contact,
                                      "AccountId": account, "OwnerId": users[owner]})["id"]
        time.sleep(0.01)  # CreatedDate has milliseconds
    account_case = sf.Case.create({"Subject": "account's own", "AccountId": account, "OwnerId": users["agent2"]})["id"]
    yield {"account": account, "contact": contact, **cases, "account_case": account_case,
           "agent1_user": users["agent1"], "agent2_user": users["agent2"]}
    for case in (*cases.values(), account_case):
        sf.Case.delete(case)
    sf.Contact.delete(contact)
    sf.Account.delete(account)


def api_requests(url: str) -> int:
    r = emulator_control(url, "GET", "requests?api=1")
    r.raise_for_status()
    return int(r.json()["count"])


def reset_log(url: str) -> None:
    emulator_control(url, "POST", "reset-log").raise_for_status()


def test_a_contact_caller_comes_with_their_accounts_fields_and_most_recent_open_case(
        client: SalesforceClient, org: dict[str, str], emulator_url: str):
    data = SalesforceData(client, "FI", lambda: {})
    client.salesforce()
    reset_log(emulator_url)
    answer = data.caller("0507001001", {"Account": ACCOUNT_FIELDS, "Case": ["Priority"]})
    assert answer["kind"] == "single"
    assert answer["contact"]["Id"] == org["contact"] and answer["contact"]["Name"] == "Aino Reititys"
    account = answer["account"]
    assert {k: account[k] for k in ("Id", *ACCOUNT_FIELDS)} == {
        "Id": org["account"], "SLA__c": "Platinum", "Language__c": "fi", "VIP__c": True,
        "OwnerId": org["agent1_user"]}
    assert answer["case"]["Id"] == org["recent"]
    assert (answer["case"]["OwnerId"], answer["case"]["Subject"]) == (org["agent1_user"], "recent case")
    assert "Priority" in answer["case"] and answer["lead"] is None
    assert api_requests(emulator_url) == 2  # one search, one query


def test_an_account_caller_gets_the_accounts_own_fields_and_its_open_case(
        client: SalesforceClient, org: dict[str, str]):
    answer = SalesforceData(client, "FI", lambda: {}).caller(VIP_ACCOUNT_PHONE, {"Account": ["VIP__c"], "Case": []})
    assert (answer["kind"], answer["contact"]) == ("single", None)
    assert answer["account"]["Id"] == org["account"] and answer["account"]["VIP__c"] is True
    assert answer["case"]["Id"] == org["account_case"]


def test_without_case_fields_only_the_search_runs_and_a_warm_lookup_costs_no_request(
        client: SalesforceClient, org: dict[str, str], emulator_url: str):
    data = SalesforceData(client, "FI", lambda: {})
    client.salesforce()
    reset_log(emulator_url)
    cold = data.caller(VIP_CONTACT_PHONE, {"Account": ["SLA__c"]})
    assert cold["case"] is None and api_requests(emulator_url) == 1
    started = time.perf_counter()
    warm = data.caller("+358507001001", {"Account": ["SLA__c"]})
    took = time.perf_counter() - started
    assert warm == cold and api_requests(emulator_url) == 1
    assert took < 0.005, f"a warm lookup took {took * 1000:.2f} ms"


def test_a_lead_a_shared_number_and_an_unknown_number(client: SalesforceClient, emulator_url: str):
    data = SalesforceData(client, "FI", lambda: {})
    lead = data.caller(DEMO_LEAD_PHONE, {"Lead": ["Email"], "Case": []})
    assert (lead["kind"], lead["lead"]["Name"], lead["case"]) == ("single", DEMO_LEAD_NAME, None)
    assert lead["lead"]["Email"] == "erik.lindqvist@example.se"
    shared = data.caller(DEMO_SHARED_PHONE, {"Account": ["SLA__c"]})
    assert (shared["kind"], shared["contact"]) == ("multiple", None)
    assert (shared["account"]["SLA__c"]) == "Silver"  # both Korhonens work for Korhonen Kuljetus Oy
    reset_log(emulator_url)
    assert data.caller("+1 202 555 0199", {"Case": []}) == {
        "kind": "none", "contact": None, "account": None, "lead": None, "case": None}
    assert api_requests(emulator_url) == 1


class Presence:
    def __init__(self, views: dict[str, dict[str, Any]]) -> None:
        self.views = views

    def status(self, agent: str) -> dict[str, Any] | None:
        return self.views.get(agent)


def test_the_demo_rules_route_on_the_emulators_records(client: SalesforceClient, org: dict[str, str]):
    linked = {"agent1": org["agent1_user"], "agent2": org["agent2_user"]}
    data = SalesforceData(client, "FI", lambda: linked)
    rules = parse_rules(DEMO_RULES.read_text())
    call = {"call_id": "c1", "caller_number": "+358507001001", "dialled": "+35891000004", "queue": "cs-en",
            "ivr": "language"}  # the number with the language menu
    available = {"kind": "available", "status": "Available", "system": None, "wrapup": None}
    owner_free = route(rules, call, data, Presence({"agent1": available}))
    assert owner_free is not None
    assert (owner_free.queue, owner_free.skip_ivr, owner_free.agent, owner_free.agent_seconds,
            owner_free.priority) == ("cs-fi", True, "agent1", 20, 50)
    assert owner_free.rules == ("finnish-speaking", "vip", "open-case-owner", "gold-sla")
    nobody_free = route(rules, call, data, Presence({}))
    assert nobody_free is not None and (nobody_free.agent, nobody_free.priority) == (None, 100)
    maija = route(rules, {**call, "caller_number": DEMO_CALLER_NUMBER}, data, Presence({}))
    assert maija is not None and (maija.queue, maija.priority) == ("cs-fi", 50)  # the seed's Gold, fi account
