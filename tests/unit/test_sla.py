"""SLA scoring across queues: which queues hold an agent back so that the caller with the highest SLA score
(waiting time over the queue's SLA threshold) is the one offered to them, and how the arbiter derives it
from the live model and the agents' presence."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from orchestrator.model import AgentPresence as Phone
from orchestrator.sla_arbiter import SlaArbiter
from switchboard import presence as p
from switchboard.sla import REASON_SLA, Head, assign, heads, hold_back

NOW = 1_000.0


def test_the_score_is_the_wait_over_the_threshold():
    assert Head(40, 30).score > Head(50, 120).score  # Puzzel's example: 1.33 before 0.42
    assert Head(10, 0).score == 10  # a threshold below 1 s counts as 1 s


def test_the_agent_is_held_back_everywhere_but_the_queue_with_the_best_score():
    hs = {"cs-en": Head(50, 120), "cs-fi": Head(40, 30), "sales": Head(5, 20)}
    assert hold_back({"cs-en", "cs-fi", "sales"}, hs) == {"cs-en", "sales"}
    assert hold_back({"cs-en", "sales"}, hs) == {"sales"}  # cs-fi cannot ring them: not counted


def test_one_waiting_queue_or_none_holds_nothing():
    hs = {"cs-en": Head(50, 120)}
    assert hold_back({"cs-en", "cs-fi"}, hs) == frozenset()
    assert hold_back(set(), hs) == frozenset()


def test_a_tie_goes_to_the_queue_of_the_higher_skill_and_a_full_tie_keeps_both_open():
    hs = {"cs-en": Head(20, 20), "cs-fi": Head(10, 10)}
    assert hold_back({"cs-en", "cs-fi"}, hs, {"cs-en": 1, "cs-fi": 6}) == {"cs-fi"}
    assert hold_back({"cs-en", "cs-fi"}, hs) == frozenset()


def test_each_queues_head_is_its_earliest_caller_and_the_default_threshold_fills_in():
    hs = heads([("cs-en", 990.0), ("cs-en", 980.0), ("cs-fi", 995.0)], {"cs-fi": 10}, NOW, default_threshold=20)
    assert hs == {"cs-en": Head(20.0, 20.0), "cs-fi": Head(5.0, 10.0)}


def agent(name: str, *queues: str, **more) -> p.AgentPresence:
    return p.AgentPresence(name, queues=tuple(p.QueueSwitch(q) for q in queues), **more)


def test_a_hold_pauses_the_queue_in_asterisk_but_the_agents_page_does_not_show_it():
    state = agent("agent1", "cs-en", "cs-fi", held=frozenset({"cs-en"}))
    assert p.wanted(state, NOW).paused == {"cs-en": REASON_SLA, "cs-fi": ""}
    assert [(q["name"], q["paused"], q["reason"]) for q in p.view(state, NOW)["queues"]] == [
        ("cs-en", False, ""), ("cs-fi", False, "")]


def test_any_other_reason_to_pause_comes_before_the_hold():
    dnd = agent("agent1", "cs-en", held=frozenset({"cs-en"}), chosen=p.Chosen(status="Lunch", kind=p.DND))
    assert p.wanted(dnd, NOW).paused["cs-en"] != REASON_SLA


@dataclass
class FakeCall:
    queue: str
    joined_at: float
    waiting_channel: str = "PJSIP/trunk-1"
    left_queue_at: float | None = None


class FakeModel:
    def __init__(self, *calls: FakeCall, free: tuple[str, ...] = ()) -> None:
        self.calls = {str(i): c for i, c in enumerate(calls)}
        self.agents = {a: Phone(a, device_state="not_inuse", registered=True) for a in free}


class FakePresence:
    def __init__(self, *agents: p.AgentPresence) -> None:
        self.agents = {a.agent: a for a in agents}
        self.held: list[dict] = []

    async def hold(self, holds):
        self.held.append(holds)
        return len(holds)


def test_the_arbiter_holds_each_agent_back_where_a_better_scored_caller_waits_in_another_of_their_queues():
    model = FakeModel(FakeCall("cs-en", NOW - 50), FakeCall("cs-fi", NOW - 40),
                      FakeCall("sales", NOW - 90, left_queue_at=NOW - 1))  # answered: not waiting
    switched_off = p.AgentPresence("off-fi", queues=(p.QueueSwitch("cs-en"), p.QueueSwitch("cs-fi", active=False)))
    presence = FakePresence(agent("both", "cs-en", "cs-fi"), agent("en-only", "cs-en"), switched_off)
    arbiter = SlaArbiter(model, presence, thresholds={"cs-en": 120, "cs-fi": 30}, clock=lambda: NOW)
    assert arbiter.holds(NOW) == {"both": frozenset({"cs-en"})}
    assert asyncio.run(arbiter.step()) == 1 and presence.held == [{"both": frozenset({"cs-en"})}]


def test_the_arbiter_lets_go_when_only_one_queue_has_callers():
    presence = FakePresence(agent("both", "cs-en", "cs-fi", held=frozenset({"cs-en"})))
    arbiter = SlaArbiter(FakeModel(FakeCall("cs-en", NOW - 5)), presence, clock=lambda: NOW)
    assert arbiter.holds(NOW) == {}


def test_free_agents_are_given_the_callers_best_score_first_each_to_the_best_skilled_agent_left():
    free = {"fin": {"cs-en", "cs-fi"}, "eng": {"cs-en", "cs-fi"}, "idle": {"sales"}}
    penalties = {"fin": {"cs-en": 6, "cs-fi": 1}, "eng": {"cs-en": 2, "cs-fi": 8}}
    waiting = [("cs-en", NOW - 50), ("cs-fi", NOW - 5)]  # EN 50/20 = 2.5 first, then FI 5/20
    assert assign(free, waiting, {}, NOW, penalties) == {"eng": "cs-en", "fin": "cs-fi"}
    # one caller only: the best skilled free agent for it; the other is needed by nobody
    assert assign(free, [("cs-fi", NOW - 5)], {}, NOW, penalties) == {"fin": "cs-fi"}


def test_two_free_agents_and_two_callers_are_not_both_held_for_the_better_scored_caller():
    model = FakeModel(FakeCall("cs-en", NOW - 50), FakeCall("cs-fi", NOW - 40), free=("a", "b"))
    presence = FakePresence(agent("a", "cs-en", "cs-fi"), agent("b", "cs-en", "cs-fi"), agent("busy", "cs-en", "cs-fi"))
    arbiter = SlaArbiter(model, presence, thresholds={"cs-en": 120, "cs-fi": 30},
                         penalties={"a": {"cs-en": 1, "cs-fi": 5}, "b": {"cs-en": 5, "cs-fi": 1}}, clock=lambda: NOW)
    # FI (40/30) first: b, the better at FI; EN: a. The busy agent waits for FI, the best score, when free.
    assert arbiter.holds(NOW) == {"a": frozenset({"cs-fi"}), "b": frozenset({"cs-en"}), "busy": frozenset({"cs-en"})}
