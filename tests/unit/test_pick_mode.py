"""Pick mode (docs/routing.md): who may pick which waiting call, the claim that makes two picks of one call
end with one winner, the waiting lists the pickers' pages get, the Redirect that takes the caller out of the
queue, the caller's way back when the picker does not answer, and the pauses that keep automatic
distribution away from picking agents."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from orchestrator import events as ev
from orchestrator.model import CallAnswered, CallEnded, CallOffered, Model, OfferWithdrawn
from orchestrator.pick_service import PickService
from orchestrator.picking import CLAIM_UNCONFIRMED, Claims, refusal, waiting_list
from switchboard import presence as p
from switchboard import presence_db
from switchboard.calls import Caller, fold_facts, parse_facts
from switchboard.pick_db import Picker, pickers
from switchboard.store import Store, upgrade
from switchboard.store.models import Agent, Profile, ProfileSkill, ServiceQueue

T0 = 1_800_000_000.0
ANNA = Picker("anna", "Anna Agent", frozenset({"cs-en"}))
BO = Picker("bo", "Bo Berg", frozenset({"cs-en", "sales"}))
CUSTOMER = "PJSIP/trunk-0000000a"


def ready(model: Model, *agents: str) -> Model:
    """``agents`` registered, free, and members of cs-en paused for pick mode."""
    for agent in agents:
        model.apply(ev.ContactChanged(T0, agent, True, f"sip:{agent}@10.0.0.1"))
        model.apply(ev.DeviceStateChanged(T0, agent, "not_inuse"))
        model.apply(ev.QueueMemberUpdated(T0, "cs-en", agent, True, p.REASON_PICK_MODE, False, 0))
    return model


def team() -> Model:
    """anna and bo ready to pick, carl an ordinary member of cs-en."""
    model = Model({"cs-en": "Customer Service EN", "sales": "Sales"}, agents={"anna", "bo", "carl"})
    ready(model, "anna", "bo")
    model.apply(ev.QueueMemberUpdated(T0, "cs-en", "carl", False, "", False, 0))
    return model


def caller_waits(model: Model, call_id: str = "1.1", at: float = T0 + 10, queue: str = "cs-en",
                 name: str = "Maija Virtanen") -> None:
    model.apply(ev.ChannelCreated(at, call_id, call_id, CUSTOMER, "+358401234567", name))
    model.apply(ev.CallerJoinedQueue(at, queue, call_id, call_id, "+358401234567", name, 1))


def picked(model: Model, agent: str, call_id: str = "1.1", at: float = T0 + 20) -> list:
    """What Asterisk reports after a Redirect to [sb-pick]: the caller leaves the queue, the agent rings."""
    out = model.apply(ev.CallerLeftQueue(at, "cs-en", call_id, call_id))
    return out + model.apply(ev.DirectDialed(at, call_id, call_id, agent, "+358401234567", "Maija Virtanen"))


# ---- the claim and the checks (pure) -----------------------------------------------------------------------
def test_given_a_waiting_caller_then_both_pickers_list_it_and_the_second_pick_is_told_who_was_first():
    model, claims = team(), Claims()
    caller_waits(model)
    for picker in (ANNA, BO):
        [row] = waiting_list(model, claims, picker, T0 + 15)
        assert (row["call_id"], row["caller_name"], row["queue_label"], row["wait_seconds"]) == (
            "1.1", "Maija Virtanen", "Customer Service EN", 5)
    assert refusal(model, claims, BO, "bo", "1.1", T0 + 15) is None
    claims.take(model.calls["1.1"], BO, T0 + 15)
    lost = refusal(model, claims, ANNA, "anna", "1.1", T0 + 15.01)
    assert (lost.error, lost.message) == ("already_picked", "Already picked by Bo Berg.")
    assert refusal(model, claims, BO, "bo", "1.1", T0 + 15.02).message == "Already picked by you."
    assert waiting_list(model, claims, ANNA, T0 + 16) == [] and waiting_list(model, claims, BO, T0 + 16) == []


def test_given_a_member_is_being_rung_for_the_call_then_it_cannot_be_picked_until_the_ring_ends():
    model, claims = team(), Claims()
    caller_waits(model)
    model.apply(ev.AgentRinging(T0 + 12, "cs-en", "carl", "1.1", "9.1"))
    assert refusal(model, claims, ANNA, "anna", "1.1", T0 + 13).error == "offered"
    assert waiting_list(model, claims, ANNA, T0 + 13)[0]["offered"] is True
    model.apply(ev.AgentRingNoAnswer(T0 + 30, "cs-en", "carl", "1.1", 18000))
    assert refusal(model, claims, ANNA, "anna", "1.1", T0 + 31) is None


def test_given_the_call_was_answered_or_ended_then_a_late_pick_is_told_so():
    model, claims = team(), Claims()
    caller_waits(model)
    model.apply(ev.AgentRinging(T0 + 12, "cs-en", "carl", "1.1", "9.1"))
    model.apply(ev.AgentConnected(T0 + 14, "cs-en", "carl", "1.1", 4))
    model.apply(ev.CallerLeftQueue(T0 + 14, "cs-en", "1.1", "1.1"))
    assert refusal(model, claims, ANNA, "anna", "1.1", T0 + 15).error == "not_waiting"
    assert waiting_list(model, claims, ANNA, T0 + 15) == []
    model.apply(ev.ChannelHungUp(T0 + 20, "1.1", "1.1", CUSTOMER, 16))
    assert refusal(model, claims, ANNA, "anna", "1.1", T0 + 21).message == "The caller hung up."


def test_given_the_agent_cannot_take_a_call_now_then_the_pick_says_why():
    model, claims = team(), Claims()
    caller_waits(model, "1.1")
    caller_waits(model, "2.1", queue="sales")
    assert refusal(model, claims, None, "carl", "1.1", T0 + 11).error == "not_pick_mode"
    assert refusal(model, claims, ANNA, "anna", "2.1", T0 + 11).error == "not_your_queue"
    assert [r["call_id"] for r in waiting_list(model, claims, ANNA, T0 + 11)] == ["1.1"]
    assert [r["call_id"] for r in waiting_list(model, claims, BO, T0 + 11)] == ["1.1", "2.1"]
    model.apply(ev.QueueMemberUpdated(T0 + 11, "cs-en", "anna", True, "DND", False, 0))
    assert refusal(model, claims, ANNA, "anna", "1.1", T0 + 12).message == \
        "You are paused in Customer Service EN: DND."
    model.apply(ev.DeviceStateChanged(T0 + 12, "bo", "inuse"))
    assert refusal(model, claims, BO, "bo", "1.1", T0 + 13).message == "You are on a call."
    model.apply(ev.ContactChanged(T0 + 13, "bo", False, ""))
    assert refusal(model, claims, BO, "bo", "1.1", T0 + 14).message == "Your phone is not registered."


def test_given_the_caller_never_left_the_queue_then_the_claim_lapses_and_the_call_is_pickable_again():
    model, claims = team(), Claims()
    caller_waits(model)
    claims.take(model.calls["1.1"], BO, T0 + 15)
    assert refusal(model, claims, ANNA, "anna", "1.1", T0 + 15 + CLAIM_UNCONFIRMED - 0.1).error == "already_picked"
    assert refusal(model, claims, ANNA, "anna", "1.1", T0 + 15 + CLAIM_UNCONFIRMED + 0.1) is None


# ---- the model: a picked call rings the picker; unanswered, it waits again where it was ----------------------
def test_given_a_picked_call_is_answered_then_the_picker_has_it_and_its_wait_ends_at_the_pick():
    model, claims = team(), Claims()
    caller_waits(model)
    claims.take(model.calls["1.1"], ANNA, T0 + 20)
    offered = picked(model, "anna")
    assert [type(c) for c in offered] == [CallOffered]
    assert offered[0].agent == "anna" and offered[0].call["queue_label"] == "Customer Service EN"
    answered = model.apply(ev.DialAnswered(T0 + 24, "1.1", "1.1", CUSTOMER, "7.1", "PJSIP/anna-00000001"))
    assert [(type(c), c.agent) for c in answered] == [(CallAnswered, "anna")]
    assert refusal(model, claims, BO, "bo", "1.1", T0 + 25).message == "Already picked by Anna Agent."
    ended = model.apply(ev.ChannelHungUp(T0 + 60, "1.1", "1.1", CUSTOMER, 16))
    summary = next(c.summary for c in ended if isinstance(c, CallEnded))
    assert (summary["agent"], summary["queue"], summary["disposition"], summary["wait_seconds"]) == (
        "anna", "cs-en", "answered", 10)


def test_given_the_picker_does_not_answer_then_the_caller_waits_again_with_its_first_wait_and_anyone_may_pick():
    model, claims = team(), Claims()
    caller_waits(model, at=T0 + 10)
    claims.take(model.calls["1.1"], ANNA, T0 + 20)
    picked(model, "anna")
    assert waiting_list(model, claims, BO, T0 + 30) == []
    back = model.apply(ev.CallerJoinedQueue(T0 + 40, "cs-en", "1.1", "1.1", "+358401234567", "Maija Virtanen", 1))
    assert back == [OfferWithdrawn("anna", "1.1", "no answer")]
    [row] = waiting_list(model, claims, BO, T0 + 41)
    assert (row["waiting_since"], row["wait_seconds"], row["offered"]) == (T0 + 10, 31, False)
    assert refusal(model, claims, BO, "bo", "1.1", T0 + 41) is None
    assert refusal(model, claims, ANNA, "anna", "1.1", T0 + 41) is None  # anna may try again too


def test_given_the_routers_preferred_agent_did_not_answer_then_the_caller_in_the_queue_can_be_picked():
    model, claims = team(), Claims()
    model.apply(ev.ChannelCreated(T0, "1.1", "1.1", CUSTOMER, "+358401234567", "Maija"))
    model.apply(ev.CallRouted(T0, "1.1", "1.1", "cs-en", "+358401234567", "Maija"))
    model.apply(ev.DirectDialed(T0 + 1, "1.1", "1.1", "carl", "+358401234567", "Maija"))  # [sb-preferred]
    assert refusal(model, claims, ANNA, "anna", "1.1", T0 + 2).error == "not_waiting"  # not in the queue yet
    entered = model.apply(ev.CallerJoinedQueue(T0 + 21, "cs-en", "1.1", "1.1", "+358401234567", "Maija", 1))
    assert entered == [OfferWithdrawn("carl", "1.1", "no answer")]
    assert refusal(model, claims, ANNA, "anna", "1.1", T0 + 22) is None


def test_given_a_picked_call_then_the_ledger_knows_who_took_it():
    facts = parse_facts("queue~cs-en~1800000010.0/direct~anna~1800000020.0/taken~anna~1800000024.0")
    call = fold_facts(facts, Caller("1.1", "+358401234567", "Maija", T0 + 9), "FI")
    assert (call.agent, call.queue, call.answered_at) == ("anna", "cs-en", T0 + 24)


# ---- presence: automatic distribution offers picking agents nothing ---------------------------------------
def test_given_an_agent_in_pick_mode_then_every_queue_is_paused_for_pick_mode_unless_a_stronger_reason_holds():
    queues = (p.QueueSwitch("cs-en"), p.QueueSwitch("sales", active=False))
    state = p.AgentPresence("anna", queues=queues, pick_mode=True)
    assert p.wanted(state, T0).paused == {"cs-en": "Pick mode", "sales": "queue off"}
    dnd = p.AgentPresence("anna", p.Chosen(status="DND", kind=p.DND), queues, pick_mode=True)
    assert p.wanted(dnd, T0).paused == {"cs-en": "DND", "sales": "queue off"}
    assert p.wanted(p.AgentPresence("anna", queues=queues), T0).paused["cs-en"] == ""


def profiled_store(tmp_path) -> Store:
    """anna under the pick-mode profile "Pickers" (cs-en), bo under "Offered" (cs-en, not pick mode)."""
    url = f"sqlite:///{tmp_path / 'sb.db'}"
    upgrade(url)
    store = Store(url)
    store.upsert_queue("cs-en", "Customer Service EN", "+35891000001")
    for sip, name in (("anna", "Anna Agent"), ("bo", "Bo Berg")):
        store.create_user(sip, "pw", name, sip_username=sip, sip_password="sip-secret")
        store.add_member(sip, ("cs-en",))
    with store.session() as s, s.begin():
        queue = s.query(ServiceQueue).filter_by(name="cs-en").one()
        for profile_name, pick, sip in (("Pickers", True, "anna"), ("Offered", False, "bo")):
            profile = Profile(name=profile_name, pick_mode=pick, skills=[ProfileSkill(queue_id=queue.id, skill=7)])
            s.add(profile)
            s.flush()
            s.query(Agent).filter_by(sip_username=sip).one().profile_id = profile.id
    return store


def test_given_a_pick_mode_profile_then_its_agents_pick_from_its_queues_and_are_paused_there(tmp_path):
    store = profiled_store(tmp_path)
    assert pickers(store) == {"anna": Picker("anna", "Anna Agent", frozenset({"cs-en"}))}
    states, _ = presence_db.load_all(store)
    assert p.wanted(states["anna"], T0).paused == {"cs-en": "Pick mode"}
    assert p.wanted(states["bo"], T0).paused == {"cs-en": ""}
    store.engine.dispose()


# ---- the service: the command, the Redirect, the lists ---------------------------------------------------
class Pages:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def to_agent(self, agent: str, event: str, data: dict[str, Any]) -> None:
        self.sent.append((agent, event, data))

    def lists(self, agent: str) -> list[dict[str, Any]]:
        return [d for a, e, d in self.sent if a == agent and e == "waiting_calls"]


def service(model: Model, answer: Any = None) -> tuple[PickService, list[dict[str, Any]], Pages]:
    actions: list[dict[str, Any]] = []
    clock = [T0 + 15]

    async def ami(action: dict[str, Any]) -> Any:
        actions.append(action)
        if isinstance(answer, Exception):
            raise answer
        return answer or {"Response": "Success"}

    pages = Pages()
    svc = PickService(model, ami, pages, lambda: {"anna": ANNA, "bo": BO}, clock=lambda: clock[0])  # type: ignore[arg-type]
    return svc, actions, pages


def test_given_two_picks_of_one_call_then_one_redirect_rings_the_winner_and_the_loser_hears_who():
    model = team()
    caller_waits(model)
    svc, actions, _ = service(model)

    async def both() -> list[dict[str, Any]]:
        return list(await asyncio.gather(svc.pick({"agent": "bo", "call_id": "1.1"}),
                                         svc.pick({"agent": "anna", "call_id": "1.1"})))

    won, lost = asyncio.run(both())
    assert won == {"ok": True, "call_id": "1.1", "queue": "cs-en", "queue_label": "Customer Service EN",
                   "agent": "bo"}
    assert lost == {"error": "already_picked", "message": "Already picked by Bo Berg."}
    assert actions == [{"Action": "Redirect", "Channel": CUSTOMER, "Context": "sb-pick", "Exten": "bo",
                        "Priority": "1"}]


@pytest.mark.parametrize("answer", [{"Response": "Error", "Message": "No such channel"}, ConnectionError("AMI down")])
def test_given_asterisk_does_not_move_the_caller_then_the_pick_fails_and_the_call_is_pickable_again(answer):
    model = team()
    caller_waits(model)
    svc, _, _ = service(model, answer)
    result = asyncio.run(svc.pick({"agent": "bo", "call_id": "1.1"}))
    assert result["error"] == "asterisk_refused" and "could not be moved to you" in result["message"]
    assert refusal(model, svc.claims, ANNA, "anna", "1.1", T0 + 16) is None


def test_given_the_lists_change_then_each_picker_gets_theirs_and_time_alone_sends_nothing():
    model = team()
    svc, _, pages = service(model)
    asyncio.run(svc.reload())
    asyncio.run(svc.publish())
    assert pages.lists("anna") == [{"pick_mode": True, "at": T0 + 15, "calls": []}]
    caller_waits(model)
    asyncio.run(svc.publish())
    asyncio.run(svc.publish())  # nothing changed but the waiting time
    assert [len(d["calls"]) for d in pages.lists("anna")] == [0, 1]
    assert pages.lists("anna")[-1]["calls"][0]["caller_name"] == "Maija Virtanen"
    asyncio.run(svc.pick({"agent": "anna", "call_id": "1.1"}))
    asyncio.run(svc.publish())
    assert pages.lists("anna")[-1]["calls"] == [] and pages.lists("bo")[-1]["calls"] == []


def test_given_an_agent_leaves_pick_mode_then_their_page_is_told_once_and_a_refresh_answers_anyone():
    model = team()
    svc, _, pages = service(model)
    asyncio.run(svc.reload())
    asyncio.run(svc.publish())
    svc.load = lambda: {"bo": BO}
    asyncio.run(svc.reload())
    asyncio.run(svc.publish())
    asyncio.run(svc.publish())
    assert [d["pick_mode"] for d in pages.lists("anna")] == [True, False]
    asyncio.run(svc.refresh({"agent": "carl"}))
    assert pages.lists("carl") == [{"pick_mode": False, "at": T0 + 15, "calls": []}]
