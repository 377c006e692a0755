"""Agent profiles on a real SQLite store: a profile's skill levels become the agent's queue memberships
(penalty 10 - skill, exactly the profile's queues, the agent's own queue switches kept), in one transaction;
the queue members Asterisk gets carry those penalties, and an agent in DND is paused in a queue new to them."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.provisioning import render_members
from switchboard import presence as p
from switchboard.profiles import Membership, memberships_for, penalty_for
from switchboard.store import Store
from switchboard.store.db import UnknownAgentError
from tests.support.presence_service import seeded_store, service, status_id


@pytest.fixture
def store(tmp_path) -> Store:
    """agent1 in cs-en and sales (tests/support/presence_service.py), a cs-fi queue, and two profiles."""
    s = seeded_store(tmp_path)
    s.upsert_queue("cs-fi", "Customer Service FI", "+35891000002")
    s.save_profile("Finnish specialist")
    s.set_profile_skill("Finnish specialist", "cs-fi", 9)
    s.set_profile_skill("Finnish specialist", "cs-en", 4)
    s.save_profile("Picker", pick_mode=True)
    s.set_profile_skill("Picker", "cs-en", 5)
    yield s
    s.engine.dispose()


def memberships(store: Store, agent: str = "agent1") -> dict[str, tuple[int, bool]]:
    """queue -> (penalty, active) of the agent, as the orchestrator loads them."""
    a = next(a for a in store.list_agents() if a.sip_username == agent)
    return {m.queue.name: (m.penalty, m.active) for m in a.memberships}


def test_the_best_skill_is_penalty_zero_and_the_least_penalty_nine():
    assert [penalty_for(s) for s in (10, 9, 5, 1)] == [0, 1, 5, 9]
    for bad in (0, 11, -1, True, 2.5, "7"):
        with pytest.raises(ValueError):
            penalty_for(bad)  # type: ignore[arg-type]


def test_a_profile_keeps_the_switch_of_a_queue_that_stays_and_new_queues_start_on():
    assert memberships_for({"cs-fi": 9, "cs-en": 4}, {"cs-en": False, "sales": False}) == [
        Membership("cs-en", 6, False), Membership("cs-fi", 1, True)]


def test_given_a_profile_then_the_agent_holds_exactly_its_queues_with_penalty_ten_minus_skill(store):
    store.set_membership_active("agent1", "cs-en", False)  # the agent switched cs-en off themselves
    store.use_profile("agent1", "Finnish specialist")
    assert memberships(store) == {"cs-fi": (1, True), "cs-en": (6, False)}  # sales gone, cs-en still off
    assert store.profile_of("agent1").name == "Finnish specialist"
    store.use_profile("agent1", "Picker")
    assert memberships(store) == {"cs-en": (5, False)}
    assert store.profile_of("agent1").pick_mode is True


def test_given_no_profile_then_the_memberships_stay_as_they_are(store):
    store.use_profile("agent1", "Finnish specialist")
    store.use_profile("agent1", None)
    assert store.profile_of("agent1") is None
    assert memberships(store) == {"cs-fi": (1, True), "cs-en": (6, True)}


def test_an_unknown_profile_or_agent_changes_nothing(store):
    with pytest.raises(LookupError, match="unknown profile"):
        store.use_profile("agent1", "Nobody's")
    with pytest.raises(UnknownAgentError):
        store.use_profile("ghost", "Picker")
    assert memberships(store) == {"cs-en": (0, True), "sales": (0, True)}
    assert store.profile_of("agent1") is None


def test_a_skill_changed_in_a_profile_reaches_the_agents_under_it_at_once(store):
    store.use_profile("agent1", "Finnish specialist")
    assert store.set_profile_skill("Finnish specialist", "cs-en", 10) == ["agent1"]
    assert store.set_profile_skill("Finnish specialist", "sales", 3) == ["agent1"]
    assert store.set_profile_skill("Finnish specialist", "cs-fi", None) == ["agent1"]  # taken out
    assert memberships(store) == {"cs-en": (0, True), "sales": (7, True)}
    assert store.set_profile_skill("Picker", "cs-fi", 2) == []  # nobody works under Picker
    with pytest.raises(ValueError):
        store.set_profile_skill("Picker", "cs-fi", 11)
    with pytest.raises(LookupError, match="unknown queue"):
        store.set_profile_skill("Picker", "nope", 3)
    skills = {pr.name: {k.queue.name: k.skill for k in pr.skills} for pr in store.list_profiles()}
    assert skills == {"Finnish specialist": {"cs-en": 10, "sales": 3}, "Picker": {"cs-en": 5, "cs-fi": 2}}


def test_a_deleted_profile_leaves_its_agents_their_queues(store):
    store.use_profile("agent1", "Finnish specialist")
    assert store.delete_profile("Finnish specialist") == ["agent1"]
    assert store.profile_of("agent1") is None
    assert memberships(store) == {"cs-fi": (1, True), "cs-en": (6, True)}
    assert [pr.name for pr in store.list_profiles()] == ["Picker"]
    with pytest.raises(LookupError):
        store.delete_profile("Finnish specialist")


def test_the_queue_members_asterisk_gets_carry_the_profiles_penalties(store):
    store.use_profile("agent1", "Finnish specialist")
    text = render_members(store.list_agents())
    assert "[cs-fi](+)\nmember => Local/agent1@sb-agent/n,1,Anna Agent,PJSIP/agent1\n" in text
    assert "[cs-en](+)\nmember => Local/agent1@sb-agent/n,6,Anna Agent,PJSIP/agent1\n" in text
    assert "[sales]" not in text


def test_given_an_agent_in_dnd_when_a_profile_brings_a_new_queue_then_they_are_rendered_paused_there_too(store):
    svc, *_ = service(store)
    asyncio.run(svc.set_status({"agent": "agent1", "status_id": status_id(store, "DND")}))
    assert svc.paused_queues() == {"agent1": {"cs-en", "sales"}}
    store.use_profile("agent1", "Finnish specialist")
    agents = store.list_agents()
    assert svc.paused_queues(agents) == {"agent1": {"cs-en", "cs-fi"}}
    text = render_members(agents, svc.paused_queues(agents))
    assert "[cs-fi](+)\nmember => Local/agent1@sb-agent/n,1,Anna Agent,PJSIP/agent1,,,1\n" in text
    asyncio.run(svc.set_status({"agent": "agent1", "status_id": status_id(store, "Available")}))
    assert svc.paused_queues(agents) == {"agent1": set()}
    assert svc.agents["agent1"].chosen.kind == p.AVAILABLE
