"""Smart routing in the whole stack: the orchestrator process loads the routing plugins through entry points
(the built-in `salesforce_rules` with the demo rules over the Salesforce emulator's records, and the example
plugin, a third party's, configured with routes and a deliberately hanging router), customers call over the
trunk from SIPp, agents answer on SIP phones (SIPp), and `switchboard route explain` says why each call went
where it went."""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, distribution

import pytest

from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_SHARED_PHONE
from tests.support.ami import AmiWatch
from tests.support.sipagent import SipAgentPhones, make_sip_agents
from tests.support.stack import cli, own_stack, sf_client, wait_for

pytestmark = pytest.mark.e2e

OWNER_CALLER = "+358401110001"   # routed to their own agent, who answers
BUSY_CALLER = "+358401110002"    # routed to an agent who does not answer: the fallback queue after 3 s
HANGING_CALLER = "+358401119999"  # the example plugin's router hangs for this caller
CASE_CALLER = "+358401110003"    # has an open Case owned by rtowner's Salesforce user
VIP_CALLER = "+358401110004"     # a VIP account whose owner is no agent: the front of the queue
CS_EN = "+35891000001"  # no wrap-up after its calls (Sales waits for a code)
LANGUAGE_MENU = "+35891000004"
CONFIG = {"salesforce_rules": {"rules_file": "demo"}, "example_plugin": {
    "routes": {OWNER_CALLER: {"agent": "rtowner", "agent_seconds": 10, "fallback_queue": "cs-fi",
                              "reason": "the caller's own agent"},
               BUSY_CALLER: {"agent": "rtbusy", "agent_seconds": 3, "fallback_queue": "cs-fi",
                             "reason": "the caller's own agent"}},
    "hang_numbers_ending": ["9999"], "hang_seconds": 3}}


@pytest.fixture(scope="module")
def routing_stack():
    try:
        distribution("switchboard-example-plugin")
    except PackageNotFoundError:
        pytest.fail("the example plugin is not installed: run scripts/setup.sh --test")
    with own_stack("routing", plugins=CONFIG) as stack:
        make_sip_agents(stack, ["rtowner", "rtbusy"], queues=["sales"])
        sf = sf_client(stack)
        owner = sf.query("SELECT Id FROM User WHERE Username = 'agent2@switchboard.demo'")["records"][0]["Id"]
        contact = sf.Contact.create({"FirstName": "Case", "LastName": "Customer", "Phone": CASE_CALLER})["id"]
        sf.Case.create({"Subject": "Broken invoice", "Status": "New", "Origin": "Phone", "ContactId": contact,
                        "OwnerId": owner})
        sf.Account.create({"Name": "Very Important Oy", "Phone": VIP_CALLER, "VIP__c": True, "SLA__c": "Silver"})
        linked = cli(stack, "omni", "link", "rtowner", owner)
        assert linked.returncode == 0, linked.stderr
        yield stack


@pytest.fixture
def customers(routing_stack, tmp_path):
    from tests.support.sipp import SipCustomers

    placed = SipCustomers(routing_stack, tmp_path / "sipp")
    yield placed
    placed.close()


def joined(watch: AmiWatch, caller: str, timeout: float = 15):  # noqa: ANN201
    return watch.wait_for(lambda e: e.get("Event") == "QueueCallerJoin" and e.get("CallerIDNum") == caller, timeout)


def explained(stack, caller: str) -> str:  # noqa: ANN001
    """`switchboard route explain` of the newest routed call from ``caller``."""
    def call_id() -> str | None:
        for line in cli(stack, "route", "recent").stdout.splitlines():
            if caller in line:
                return line.split()[2]
        return None

    wait_for(call_id, 5, f"no routing trace for {caller}")
    out = cli(stack, "route", "explain", call_id())
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_given_a_preferred_agent_who_answers_then_the_caller_reaches_them_without_queueing(routing_stack, customers):
    with SipAgentPhones(routing_stack, ["rtowner"], answer_after=1.0, talk_time=3.0) as phones, \
            AmiWatch(routing_stack) as watch:
        call = customers.call(CS_EN, OWNER_CALLER, "Owner's Customer")
        wait_for(lambda: phones.invites("rtowner") >= 1, 10, "the preferred agent's phone never rang")
        watch.wait_for(lambda e: e.get("Event") == "BridgeEnter" and e.get("CallerIDNum") == OWNER_CALLER, 10)
        time.sleep(1)
        assert not [e for e in watch.events if e.get("Event") == "QueueCallerJoin"
                    and e.get("CallerIDNum") == OWNER_CALLER], "the caller queued although their agent answered"
        call.stop()
    text = explained(routing_stack, OWNER_CALLER)
    assert "outcome: decided by plugin example_plugin" in text and "preferred agent: rtowner for 10 s" in text
    assert "reason: the caller's own agent" in text and "rules matched: example-routes" in text


def test_given_a_preferred_agent_who_does_not_answer_then_the_fallback_queue_takes_the_caller_after_n_seconds(
        routing_stack, customers):
    with SipAgentPhones(routing_stack, ["rtbusy"], answer_after=60.0) as phones, AmiWatch(routing_stack) as watch:
        t0 = time.monotonic()
        call = customers.call(CS_EN, BUSY_CALLER, "Busy Owner's Customer")
        event = joined(watch, BUSY_CALLER)
        waited = time.monotonic() - t0
        assert phones.invites("rtbusy") >= 1
        call.stop()
    assert event["Queue"] == "cs-fi"
    assert 3 <= waited < 7, f"the fallback came after {waited:.1f} s"
    print(f"preferred agent unanswered -> fallback queue after {waited:.1f} s (agent_seconds 3)")


def test_given_a_router_that_hangs_then_the_call_takes_its_number_path_within_the_deadline(routing_stack, customers):
    with AmiWatch(routing_stack) as watch:
        t0 = time.monotonic()
        call = customers.call(CS_EN, HANGING_CALLER, "Hanging Router")
        event = joined(watch, HANGING_CALLER)
        waited = time.monotonic() - t0
        call.stop()
    assert event["Queue"] == "cs-en"
    assert waited < 2.0, f"the caller waited {waited:.1f} s for routing"
    text = explained(routing_stack, HANGING_CALLER)
    assert "outcome: timeout by plugin example_plugin" in text
    print(f"hanging router -> queue after {waited:.2f} s")


def test_given_a_finnish_speaking_contact_then_the_call_skips_the_language_menu_into_the_finnish_pool(
        routing_stack, customers):
    with AmiWatch(routing_stack) as watch:
        t0 = time.monotonic()
        call = customers.call(LANGUAGE_MENU, DEMO_CALLER_NUMBER, "Maija Virtanen")  # presses no key
        event = joined(watch, DEMO_CALLER_NUMBER)
        waited = time.monotonic() - t0
        call.stop()
    assert event["Queue"] == "cs-fi"
    assert waited < 3, f"{waited:.1f} s: the caller heard the menu"  # the menu alone takes 8 s, then cs-en
    text = explained(routing_stack, DEMO_CALLER_NUMBER)
    assert "outcome: decided by plugin salesforce_rules" in text
    assert "rules matched: finnish-speaking," in text and "data account.Language__c = fi" in text
    print(f"Finnish-speaking contact -> cs-fi past the menu in {waited:.2f} s")


def test_given_a_vip_caller_then_they_are_answered_ahead_of_callers_already_waiting(routing_stack, customers):
    with AmiWatch(routing_stack) as watch:
        early = [customers.call("+35891000002", f"+35840222000{i}", f"Early {i}") for i in (1, 2)]
        for i in (1, 2):
            joined(watch, f"+35840222000{i}")
        vip = customers.call("+35891000002", VIP_CALLER, "Very Important")
        assert joined(watch, VIP_CALLER)["Position"] == "1"
        make_sip_agents(routing_stack, ["rtfi"], queues=["cs-fi"])
        with SipAgentPhones(routing_stack, ["rtfi"], answer_after=0.5, talk_time=2.0):
            first = watch.wait_for(lambda e: e.get("Event") == "AgentConnect", 15)
        for call in (*early, vip):
            call.stop()
    assert first["CallerIDNum"] == VIP_CALLER, "the first caller answered was not the VIP"
    assert "rules matched: vip" in explained(routing_stack, VIP_CALLER)


def test_given_a_caller_with_an_open_case_then_the_case_owner_answers_them(routing_stack, customers):
    with SipAgentPhones(routing_stack, ["rtowner"], answer_after=1.0, talk_time=3.0) as phones, \
            AmiWatch(routing_stack) as watch:
        call = customers.call("+35891000001", CASE_CALLER, "Case Customer")
        if not phones.invites("rtowner"):
            time.sleep(5)
        assert phones.invites("rtowner") >= 1, explained(routing_stack, CASE_CALLER)
        watch.wait_for(lambda e: e.get("Event") == "BridgeEnter" and e.get("CallerIDNum") == CASE_CALLER, 10)
        call.stop()
    text = explained(routing_stack, CASE_CALLER)
    assert "rules matched: open-case-owner" in text and "preferred agent: rtowner for 15 s" in text


def emulator(stack, path: str, body: dict) -> None:  # noqa: ANN001
    import json
    import urllib.request

    request = urllib.request.Request(f"{stack.settings.sf_emulator_url}/__emulator/{path}", method="POST",
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5).close()


def test_given_salesforce_down_then_a_known_caller_gets_the_number_path_the_language_menu(routing_stack, customers):
    finnish_company = "+35894250" + "1000"  # the Korhonens' shared line (Korhonen Kuljetus Oy, language fi)
    assert DEMO_SHARED_PHONE.replace(" ", "") == finnish_company
    emulator(routing_stack, "faults", {"unavailable_for": 60})
    try:
        with AmiWatch(routing_stack) as watch:
            call = customers.call(LANGUAGE_MENU, finnish_company, "Korhonen", dtmf="2", dtmf_after=1.0)
            event = joined(watch, finnish_company)
            call.stop()
    finally:
        emulator(routing_stack, "reset-faults", {})
    assert event["Queue"] == "cs-en"  # the menu played and took the caller's key: 2, English
    text = explained(routing_stack, finnish_company)
    assert "outcome: error" in text and "salesforce_rules" in text
    print(text)
