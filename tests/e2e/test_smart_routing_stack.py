"""Smart routing in the whole stack: the orchestrator process loads the routing plugins through entry points
(the example plugin, a third party's, configured with routes and a deliberately hanging router), customers
call over the trunk from SIPp, agents answer on SIP phones (SIPp), and `switchboard route explain` says why
each call went where it went."""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, distribution

import pytest

from tests.support.ami import AmiWatch
from tests.support.sipagent import SipAgentPhones, make_sip_agents
from tests.support.stack import cli, own_stack, wait_for

pytestmark = pytest.mark.e2e

OWNER_CALLER = "+358401110001"   # routed to their own agent, who answers
BUSY_CALLER = "+358401110002"    # routed to an agent who does not answer: the fallback queue after 3 s
HANGING_CALLER = "+358401119999"  # the example plugin's router hangs for this caller
SALES = "+35891000003"
CONFIG = {"example_plugin": {
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
        call = customers.call(SALES, OWNER_CALLER, "Owner's Customer")
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
        call = customers.call(SALES, BUSY_CALLER, "Busy Owner's Customer")
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
        call = customers.call(SALES, HANGING_CALLER, "Hanging Router")
        event = joined(watch, HANGING_CALLER)
        waited = time.monotonic() - t0
        call.stop()
    assert event["Queue"] == "sales"
    assert waited < 2.0, f"the caller waited {waited:.1f} s for routing"
    text = explained(routing_stack, HANGING_CALLER)
    assert "outcome: timeout by plugin example_plugin" in text
    print(f"hanging router -> queue after {waited:.2f} s")
