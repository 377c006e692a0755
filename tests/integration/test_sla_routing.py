"""SLA scoring and skills across queues on the real stack, callers over the trunk, agents on SIP phones (SIPp).

One agent in Customer Service EN (SLA threshold 120 s) and Customer Service FI (10 s), a caller waiting in
each: the FI caller joined later but has the higher SLA score (waiting time over the threshold), so the
agent, once their phone is there, is offered the FI caller first: the SLA arbiter holds them back in EN (a
pause Asterisk shows with its reason) and Asterisk does the rest. Two free agents with different skills
and two callers: each caller reaches the agent skilled for their queue."""

from __future__ import annotations

import time

import pytest

from tests.support.ami import AmiWatch
from tests.support.sipagent import SipAgentPhones, make_sip_agents
from tests.support.stack import cli, member_line, own_stack, wait_for

pytestmark = pytest.mark.integration

CS_EN, CS_FI = "+35891000001", "+35891000002"
EN_CALLER, FI_CALLER = "+358402220101", "+358402220102"


@pytest.fixture(scope="module")
def sla_stack():
    with own_stack("sla") as stack:
        make_sip_agents(stack, ["slaagent"], queues=["cs-en", "cs-fi"])
        for queue, seconds in (("cs-en", "120"), ("cs-fi", "10")):
            out = cli(stack, "admin", "queue", "sla", queue, seconds)
            assert out.returncode == 0 and "no orchestrator running" not in out.stdout, out.stderr
        yield stack


@pytest.fixture
def callers(sla_stack, tmp_path):
    from tests.support.sipp import SipCustomers

    placed = SipCustomers(sla_stack, tmp_path / "sipp")
    yield placed
    placed.close()


def test_given_callers_in_two_queues_then_the_agent_gets_the_higher_sla_score_first_not_the_longer_wait(
        sla_stack, callers):
    with AmiWatch(sla_stack) as watch:
        en = callers.call(CS_EN, EN_CALLER, "Waited Longer")
        watch.wait_for(lambda e: e.get("Event") == "QueueCallerJoin" and e.get("CallerIDNum") == EN_CALLER)
        time.sleep(3)
        fi = callers.call(CS_FI, FI_CALLER, "Tighter SLA")
        watch.wait_for(lambda e: e.get("Event") == "QueueCallerJoin" and e.get("CallerIDNum") == FI_CALLER)
        # EN: waited ~5 s of 120 (0.04); FI: ~2 s of 10 (0.2). The agent is held back in EN.
        wait_for(lambda: "SLA: another queue first" in (member_line(sla_stack, "slaagent", "cs-en") or ""), 5,
                 "the agent was not held back in Customer Service EN")
        assert "paused" not in (member_line(sla_stack, "slaagent", "cs-fi") or "paused")
        time.sleep(2)
        with SipAgentPhones(sla_stack, ["slaagent"], answer_after=0.5, talk_time=2.0):
            first = watch.wait_for(lambda e: e.get("Event") == "AgentConnect", 15)
            second = watch.wait_for(lambda e: e.get("Event") == "AgentConnect" and e is not first
                                    and e.get("CallerIDNum") != first.get("CallerIDNum"), 20)
        en.stop()
        fi.stop()
    assert first["CallerIDNum"] == FI_CALLER, "the caller who waited longer was served first: no SLA scoring"
    assert first["Queue"] == "cs-fi"
    assert second["CallerIDNum"] == EN_CALLER  # and then the other queue's caller: the hold was let go
    wait_for(lambda: "SLA" not in (member_line(sla_stack, "slaagent", "cs-en") or ""), 5,
             "the hold stayed after the callers left")


def test_given_two_free_agents_with_different_skills_then_each_of_two_callers_reaches_the_right_agent(
        sla_stack, callers):
    make_sip_agents(sla_stack, ["skfin", "skeng"], queues=["sales"])
    profiles = {"Finnish first": {"cs-fi": "9", "cs-en": "2"}, "English first": {"cs-en": "9", "cs-fi": "2"}}
    for profile, skills in profiles.items():
        assert cli(sla_stack, "profile", "add", profile).returncode == 0
        for queue, level in skills.items():
            assert cli(sla_stack, "profile", "skill", profile, queue, level).returncode == 0
    for agent, profile in (("skfin", "Finnish first"), ("skeng", "English first")):
        assert cli(sla_stack, "profile", "use", agent, profile).returncode == 0
    wait_for(lambda: "with penalty 1" in (member_line(sla_stack, "skfin", "cs-fi") or "")
             and "with penalty 1" in (member_line(sla_stack, "skeng", "cs-en") or ""), 10, "profiles in Asterisk")
    with SipAgentPhones(sla_stack, ["skfin", "skeng"], answer_after=1.0, talk_time=3.0), AmiWatch(sla_stack) as watch:
        fi = callers.call(CS_FI, "+358402220201", "Finnish Caller")
        en = callers.call(CS_EN, "+358402220202", "English Caller")
        connects = [watch.wait_for(lambda e, n=n: e.get("Event") == "AgentConnect" and e.get("CallerIDNum") == n, 15)
                    for n in ("+358402220201", "+358402220202")]
        fi.stop()
        en.stop()
    # the queue member that answered each (Local/<agent>@sb-agent/n)
    assert [c.get("Interface") for c in connects] == ["Local/skfin@sb-agent/n", "Local/skeng@sb-agent/n"]
