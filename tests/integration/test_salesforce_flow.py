"""Smart routing by a Salesforce Flow against the emulator process running the package's two Flow templates
(``--flows package``): the built-in plugin through the routing plugins' SalesforceData, simple-salesforce and
the REST invocable-action endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from simple_salesforce import Salesforce

import plugins.salesforce_flow as plugin
from sfemu.auth import Credentials
from sfemu.flow_sources import PACKAGE_FLOWS
from sfemu.seed import DEMO_AGENT_USERNAMES, DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME
from sfemu.testing import emulator_control, running_emulator
from switchboard.callerdata import SalesforceData
from switchboard.config import Settings
from switchboard.flows import FlowError, invoke_flow
from switchboard.routing import Decision
from switchboard.salesforce import connect, soql_quote

pytestmark = pytest.mark.integration
T = TypeVar("T")
CREDS = Credentials()
LANGUAGE_VIP = "Switchboard_Language_VIP_Routing"
CASE_OWNER = "Switchboard_Case_Owner_Routing"
FAILING = "Switchboard_Test_Failing"


@pytest.fixture(scope="module")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # A flow of our own whose Get Records reads a field Account does not have: its interview fails.
    folder = tmp_path_factory.mktemp("flows")
    template = (PACKAGE_FLOWS / f"{CASE_OWNER}.flow-meta.xml").read_text()
    (folder / f"{FAILING}.flow-meta.xml").write_text(
        template.replace("<queriedFields>CaseNumber</queriedFields>", "<queriedFields>Mood__c</queriedFields>"))
    with running_emulator("demo", args=["--flows", "package", "--flows", str(folder)]) as url:
        yield url


@pytest.fixture(scope="module")
def sf(emulator_url: str) -> Salesforce:
    return connect(Settings(sf_auth="password", sf_emulator_url=emulator_url, sf_username=CREDS.username,
                            sf_password=CREDS.password, sf_security_token=CREDS.security_token))


@pytest.fixture(scope="module")
def users(sf: Salesforce) -> dict[str, str]:
    """agent1, agent2 -> their Salesforce user ids (the agents' links, as Store.linked_agents gives them)."""
    names = ", ".join(soql_quote(u) for u in DEMO_AGENT_USERNAMES[:2])
    rows = sf.query(f"SELECT Id, Username FROM User WHERE Username IN ({names})")["records"]
    return {r["Username"].split("@")[0]: r["Id"] for r in rows}


@pytest.fixture(scope="module")
def maija(sf: Salesforce) -> dict[str, Any]:
    return sf.query(f"SELECT Id, AccountId, Account.OwnerId FROM Contact WHERE Name = {soql_quote(DEMO_CONTACT_NAME)}"
                    )["records"][0]


class Direct:
    """Runs each Salesforce operation once on one client (what SalesforceClient.call(budget=0) does)."""

    def __init__(self, sf: Salesforce) -> None:
        self.sf = sf

    def call(self, op: Callable[[Salesforce], T], *, budget: float | None = None) -> T:
        return op(self.sf)


class EveryoneAvailable:
    """The ``presence`` argument: every agent Available (the plugin's presence rule has unit tests)."""

    def status(self, agent: str) -> dict[str, Any]:
        return {"kind": "available", "status": "Available", "system": None, "wrapup": None}


def route(sf: Salesforce, users: dict[str, str], config: dict[str, Any], queue: str = "cs-en",
          number: str = DEMO_CALLER_NUMBER) -> Decision | None:
    data = SalesforceData(Direct(sf), "FI", lambda: users)
    call = {"channel_id": "1.1", "call_id": "1.1", "caller_number": number, "caller_name": "Maija",
            "dialled": "+35891000001", "queue": queue, "ivr": "language"}
    return plugin.route_call(call=call, salesforce=data, presence=EveryoneAvailable(),  # type: ignore[arg-type]
                             config=config)


def test_a_finnish_gold_caller_skips_the_language_menu_to_cs_fi_with_gold_priority(sf, users):
    decision = route(sf, users, {"flows": {"cs-en": LANGUAGE_VIP}})
    assert decision is not None
    assert (decision.queue, decision.skip_ivr, decision.priority, decision.agent) == ("cs-fi", True, 80, None)
    assert decision.reason == "Language fi: cs-fi without the language menu. Gold SLA: priority 80."
    assert decision.rules == (LANGUAGE_VIP,) and decision.data["flow"] == LANGUAGE_VIP
    assert decision.data["outputs"]["Queue"] == "cs-fi"


def test_a_vip_accounts_owner_rings_first_then_the_front_of_the_queue(sf, users, maija):
    sf.Account.update(maija["AccountId"], {"VIP__c": True, "OwnerId": users["agent1"]})
    try:
        decision = route(sf, users, {"flow": LANGUAGE_VIP})
    finally:
        sf.Account.update(maija["AccountId"], {"VIP__c": False, "OwnerId": maija["Account"]["OwnerId"]})
    assert decision is not None
    assert (decision.agent, decision.agent_seconds, decision.fallback_queue, decision.priority) == (
        "agent1", 20, "cs-fi", 100)
    assert decision.reason.endswith("VIP: the account owner first, then priority 100.")


def test_the_owner_of_the_contacts_open_case_rings_first_with_the_queue_as_fallback(sf, users, maija):
    case = sf.Case.create({"ContactId": maija["Id"], "AccountId": maija["AccountId"], "Subject": "Broken again",
                           "Status": "Working", "OwnerId": users["agent2"]})
    number = sf.Case.get(case["id"])["CaseNumber"]
    try:
        decision = route(sf, users, {"flows": {"sales": CASE_OWNER}}, queue="sales")
        sf.Case.update(case["id"], {"Status": "Closed"})
        after_closing = route(sf, users, {"flows": {"sales": CASE_OWNER}}, queue="sales")
    finally:
        sf.Case.delete(case["id"])
    assert decision is not None
    assert (decision.agent, decision.fallback_queue, decision.queue) == ("agent2", "sales", "sales")
    assert decision.reason == f"Open case {number}: its owner first."
    # Maija's other open case is the integration user's, who is no agent: nothing to change, the call stays.
    assert after_closing is None


def test_without_identification_the_flow_matches_only_an_exactly_stored_number(sf, users):
    # Maija's phone is stored as "+358 40 123 4567": Get Records' equality does not match the carrier's form.
    assert route(sf, users, {"flow": LANGUAGE_VIP, "identify": False}) is None
    decision = route(sf, users, {"flow": LANGUAGE_VIP, "identify": False}, number="+358 40 123 4567")
    assert decision is not None and decision.queue == "cs-fi"


def test_a_failing_flow_raises_flow_error_with_salesforces_message(sf, users):
    with pytest.raises(FlowError) as exc:
        route(sf, users, {"flow": FAILING})
    assert exc.value.flow == FAILING and exc.value.errors[0]["statusCode"] == "UNKNOWN_EXCEPTION"
    assert "No such column 'Mood__c'" in str(exc.value)
    with pytest.raises(FlowError, match="NOT_FOUND: no active autolaunched flow No_Such_Flow"):
        invoke_flow(sf, "No_Such_Flow", {})
    with pytest.raises(FlowError, match="INVALID_INPUT: Unknown input parameter"):
        invoke_flow(sf, LANGUAGE_VIP, {"Colour": "red"})


def test_a_flow_answers_through_injected_latency(sf, emulator_url):
    assert emulator_control(emulator_url, "POST", "faults", json={"latency": 0.2}).status_code == 200
    try:
        started = time.monotonic()
        out = invoke_flow(sf, CASE_OWNER, {"CallerNumber": "+44 20 0000 0000", "Queue": "cs-en"})
        took = time.monotonic() - started
    finally:
        emulator_control(emulator_url, "POST", "reset-faults")
    assert took >= 0.2 and out["Reason"] == "Caller not identified." and out["Flow__InterviewStatus"] == "Finished"


def test_the_emulator_serves_the_package_templates_and_our_test_flow(sf: Salesforce):
    names = {a["name"] for a in sf.restful("actions/custom/flow")["actions"]}
    assert names == {LANGUAGE_VIP, CASE_OWNER, FAILING}
