"""The carrier's path, against a real Asterisk running asterisk-conf/ (no orchestrator process): customers
from SIPp call over the PJSIP trunk (tests/support/sipp.py) with a caller name and number, audio and key
presses, answer what Asterisk sends them in the call, and hang up or are hung up. What Asterisk reports
(AMI) and what the orchestrator's model makes of it are checked against what the customer sent."""

from __future__ import annotations

import asyncio
import time

import pytest

from orchestrator import events as ev
from orchestrator.ami import AmiConnection
from orchestrator.model import CallOffered, Model
from orchestrator.translate import caller_name_text
from tests.support.ami import Ami, AmiWatch
from tests.support.sipp import SippUas, sip_quoted, static_agent_conf

pytestmark = pytest.mark.integration

CS_EN, CS_FI = "+35891000001", "+35891000002"  # cs-en has no members here; agent1 answers cs-fi
HOSTILE = "O'Brien & Sons (Ltd.) ~*?! \"q\" \\ 😀"
LONG = ("Äiti; \"Quoted\" \\ back 😀 " * 10)[:200]


@pytest.fixture(scope="module")
def agent_phone(asterisk, tmp_path_factory):
    """agent1's phone (a SIPp that answers every call) is the only member of cs-fi."""
    phone = SippUas(tmp_path_factory.mktemp("agent1-phone"), builtin="uas")
    (asterisk.generated / "pjsip_agents.conf").write_text(static_agent_conf("agent1", phone.contact, "Agent One"))
    (asterisk.generated / "queue_members.conf").write_text(
        "[cs-fi](+)\nmember => Local/agent1@sb-agent/n,0,Agent One,PJSIP/agent1\n")
    asterisk.cli("module reload res_pjsip.so")
    asterisk.cli("queue reload members")
    yield phone
    phone.stop()


@pytest.fixture
def ami(asterisk):
    """Every event of the bare Asterisk from now on."""
    with AmiWatch(asterisk) as watch:
        yield watch


def test_given_a_queue_without_agents_then_the_trunk_customer_waits_named_as_sent_and_hangs_up(
        asterisk, trunk_customers, ami):
    call = trunk_customers.call(CS_EN, "+358401234567", "Maija Virtanen", talk=3)
    joined = ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin" and e.get("CallerIDNum") == "+358401234567")
    assert joined["Queue"] == "cs-en"
    assert joined["Channel"] == call.channel() and joined["Channel"].startswith("PJSIP/trunk-")
    assert caller_name_text(joined["CallerIDName"]) == "Maija Virtanen"
    with Ami(asterisk) as a:
        assert a.getvar(call.channel(), "CHANNEL(endpoint)") == "trunk"  # identified as the carrier
    outcome = call.wait(10)
    assert outcome.ok, outcome
    assert (outcome.final_status, outcome.ended_by) == (200, "customer")
    abandoned = ami.wait_for(lambda e: e.get("Event") == "QueueCallerAbandon" and e.get("Channel") == call.channel())
    assert int(abandoned["HoldTime"]) >= 2  # waited while talking, then hung up
    assert ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == call.channel())


def test_given_an_unknown_number_then_the_customer_hears_no_service_and_asterisk_hangs_up(
        asterisk, trunk_customers, ami):
    call = trunk_customers.call("+35891999999", "+358401234568", "Wrong Number")
    channel = call.channel()
    with Ami(asterisk) as a:
        deadline = time.monotonic() + 5
        while not [c for c in a.channels() if c["Channel"] == channel and c["Application"] == "Playback"]:
            assert time.monotonic() < deadline, "no announcement played to the caller"
            time.sleep(0.1)
        playing = next(c for c in a.channels() if c["Channel"] == channel)
    assert playing["ApplicationData"] == "ss-noservice"
    outcome = call.wait(15)
    assert outcome.ok, outcome
    assert (outcome.final_status, outcome.ended_by) == (200, "network")  # answered, then Asterisk's BYE
    hangup = ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == channel)
    assert hangup["Cause"] == "1"  # unallocated number


def test_given_a_refusal_then_the_customer_counts_a_failed_call_with_its_status(asterisk, trunk_customers):
    # agent1's work number while agent1 is DND: [sb-agent-direct] answers Busy
    (asterisk.generated / "extensions_work_numbers.conf").write_text(
        "exten => +358509990001,1,Goto(sb-work-number,agent1,1)\n")
    asterisk.cli("dialplan reload")
    asterisk.cli("database put switchboard/presence agent1 dnd")
    try:
        outcome = trunk_customers.call("+358509990001", "+358401234572", "Refused").wait(15)
    finally:
        asterisk.cli("database del switchboard/presence agent1")
    assert not outcome.ok and outcome.failed == 1, outcome  # as a load test must count it
    assert (outcome.final_status, outcome.ended_by) == (486, None)
    assert "486 Busy Here" in outcome.errors


def test_given_asterisk_hangs_up_then_the_customer_answers_its_bye(asterisk, trunk_customers, ami):
    call = trunk_customers.call(CS_EN, "+358401234569", "Hung Up")
    ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin" and e.get("Channel") == call.channel())
    assert call.running  # talks until Asterisk hangs up
    call.hang_up()
    outcome = call.wait(10)
    assert outcome.ok, outcome
    assert outcome.ended_by == "network"
    assert ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == call.channel())


def test_given_asterisk_refreshes_the_call_then_the_customer_answers_its_reinvite_and_update(trunk_customers, ami):
    # The trunk endpoint sends no caller identity (send_pai/send_rpid), so Asterisk does not update the
    # customer's connected line when an agent answers: a session refresh is what sends these requests.
    call = trunk_customers.call(CS_EN, "+358401234571", "Refreshed")
    ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin" and e.get("Channel") == call.channel())
    call.refresh("invite")
    call.refresh("update")
    call.hang_up()
    outcome = call.wait(10)
    assert outcome.ok, outcome
    messages = call.messages()
    received = [m.first_line.split()[0] for m in messages if not m.sent and not m.first_line.startswith("SIP/")]
    answered = [(m.header("CSeq") or "").split()[-1] for m in messages if m.sent and m.first_line == "SIP/2.0 200 OK"]
    assert received == ["INVITE", "ACK", "UPDATE", "BYE"]
    assert answered == ["INVITE", "UPDATE", "BYE"]


def test_given_key_presses_then_asterisk_receives_each_digit_in_order(trunk_customers, ami):
    call = trunk_customers.call(CS_EN, "+358401234570", "Keys", dtmf="#*1121", dtmf_after=0.5, talk=6)
    channel = call.channel()
    outcome = call.wait(15)
    assert outcome.ok, outcome
    digits = [e["Digit"] for e in ami.events if e.get("Event") == "DTMFEnd" and e.get("Channel") == channel
              and e.get("Direction") == "Received"]
    assert "".join(digits) == "#*1121"  # repeats too (each press is a stream of its own)


def offered(asterisk, customers, name: str):
    """A customer named ``name`` calls cs-fi and agent1 answers, watched by the orchestrator's model: the
    call, the (number, name) pairs the model held, the offers (CallOffered) and the customer's outcome."""

    async def scenario():
        model = Model({"cs-fi": "Customer Service FI"}, agents={"agent1"})
        changes: list = []

        async def sink(event: ev.Event) -> None:
            changes.extend(model.apply(event))

        conn = AmiConnection("127.0.0.1", asterisk.ports.ami, "switchboard", asterisk.creds.ami_secret, sink)
        await conn.connect()
        try:
            await asyncio.wait_for(conn.booted.wait(), 10)
            call = customers.call(CS_FI, "+358501112233", name, talk=3)  # starts SIPp, returns at once
            for _ in range(200):
                if any(isinstance(c, CallOffered) for c in changes):
                    break
                await asyncio.sleep(0.05)
            held = [(c.caller_number, c.caller_name) for c in model.calls.values()]
            return call, held, [c for c in changes if isinstance(c, CallOffered)]
        finally:
            conn.close()

    call, held, offers = asyncio.run(scenario())
    return call, held, offers, call.wait(15)  # outside the loop: no thread to outlive it


def test_given_a_hostile_caller_name_then_the_model_and_the_offer_hold_exactly_that_name(
        asterisk, trunk_customers, agent_phone):
    call, held, offers, outcome = offered(asterisk, trunk_customers, HOSTILE)
    assert 'From: "O\'Brien & Sons (Ltd.) ~*?! \\"q\\" \\\\ 😀" <sip:+358501112233@' in call.invite().text
    assert held == [("+358501112233", HOSTILE)]
    assert [(o.agent, o.call["caller_number"], o.call["caller_name"]) for o in offers] == \
        [("agent1", "+358501112233", HOSTILE)]
    assert outcome.ok, outcome  # agent1 answered, the customer talked, then hung up
    assert outcome.ended_by == "customer"


def test_given_a_200_character_caller_name_then_the_model_and_the_offer_hold_all_of_it(
        asterisk, trunk_customers, agent_phone):
    # Asterisk keeps 79 bytes of it; the orchestrator reads it whole from [sb-inbound]'s identity event
    assert len(LONG) == 200
    call, held, offers, outcome = offered(asterisk, trunk_customers, LONG)
    assert f'From: "{sip_quoted(LONG)}" <sip:+358501112233@' in call.invite().text
    assert held == [("+358501112233", LONG)]
    assert [o.call["caller_name"] for o in offers] == [LONG]
    assert outcome.ok, outcome


@pytest.mark.xfail(strict=True, reason="[sb-inbound] expands ${URIENCODE(${PJSIP_HEADER(read,From)})}: Asterisk "
                   "re-parses the header's text as the function call, and a ':' after an unmatched ')' is taken as "
                   "a ${VAR:offset} (parse_variable_name), so the event's From is empty and only Asterisk's "
                   "79 bytes of the name remain")
def test_given_a_long_name_with_an_unmatched_parenthesis_then_the_model_holds_all_of_it(
        asterisk, trunk_customers, agent_phone):
    name = "Robert'); DROP TABLE callers; -- " + "x" * 80
    _call, held, offers, _outcome = offered(asterisk, trunk_customers, name)
    assert held == [("+358501112233", name)]


def test_given_a_burst_then_every_customer_gets_through_one_sipp_process(asterisk, trunk_customers, ami):
    started = time.monotonic()
    run = trunk_customers.burst(6, 6, CS_EN, talk=1)
    outcome = run.wait(20)
    took = time.monotonic() - started
    assert outcome.ok and outcome.successful == 6, outcome
    joined = {e["CallerIDNum"] for e in ami.events if e.get("Event") == "QueueCallerJoin"
              and e["CallerIDNum"].startswith("+358409")}
    assert joined == {f"+358409{i:06d}" for i in range(1, 7)}
    assert took < 6, f"6 calls at 6 a second, 1 s each, took {took:.1f} s"
