"""Recorded AMI streams from the real Asterisk through translate + model."""

from __future__ import annotations

import logging

import pytest

from orchestrator import events as ev
from orchestrator.model import AgentChanged, CallAnswered, CallEnded, CallOffered, Model, OfferWithdrawn
from orchestrator.translate import MalformedFrame, parse_frame, translate, translate_all
from tests.amifixtures import AGENTS, messages, raw_frames
from tests.support.model import waiting_caller

LABELS = {"cs-en": "Customer Service EN"}


def replay(name: str, model: Model | None = None) -> tuple[Model, list]:
    model = model or Model(LABELS, agents=AGENTS)
    changes = []
    for event in translate_all(messages(name)):
        changes += model.apply(event)
    return model, changes


def test_given_an_answered_queue_call_then_agent_is_offered_answers_and_one_activity_ends_it():
    model, changes = replay("answered_call")
    offered = [c for c in changes if isinstance(c, CallOffered)]
    assert len(offered) == 1
    assert offered[0].agent == "agent1"
    assert offered[0].call["caller_number"] == "+358401234567"
    assert offered[0].call["caller_name"] == "Maija Virtanen"
    assert offered[0].call["queue_label"] == "Customer Service EN"
    assert [c.agent for c in changes if isinstance(c, CallAnswered)] == ["agent1"]
    ended = [c.summary for c in changes if isinstance(c, CallEnded)]
    assert len(ended) == 1
    summary = ended[0]
    assert summary["disposition"] == "answered"
    assert summary["agent"] == "agent1"
    assert summary["call_id"] == offered[0].call["call_id"]
    assert 3 <= summary["duration_seconds"] <= 5
    assert summary["queue"] == "cs-en"
    assert model.calls == {} and model.channels == {}
    assert model.agents["agent1"].device_state == "not_inuse"


def test_given_a_caller_who_hangs_up_in_queue_then_activity_is_not_answered_with_wait_time():
    model, changes = replay("abandoned_call")
    ended = [c.summary for c in changes if isinstance(c, CallEnded)]
    assert len(ended) == 1
    assert ended[0]["disposition"] == "not answered"
    assert ended[0]["agent"] == ""
    assert ended[0]["wait_seconds"] >= 2
    assert ended[0]["duration_seconds"] == 0
    withdrawn = [c for c in changes if isinstance(c, OfferWithdrawn)]
    assert withdrawn and withdrawn[-1].reason == "caller hung up"


def test_given_an_agent_who_refuses_then_the_offer_is_withdrawn_and_call_not_answered():
    _, changes = replay("agent_refused")
    assert any(isinstance(c, OfferWithdrawn) and c.reason == "no answer" for c in changes)
    assert not any(isinstance(c, CallAnswered) for c in changes)
    assert [c.summary["disposition"] for c in changes if isinstance(c, CallEnded)] == ["not answered"]


def test_given_a_hostile_caller_name_then_it_is_carried_as_plain_text():
    _, changes = replay("hostile_callerid")
    offered = next(c for c in changes if isinstance(c, CallOffered))
    assert offered.call["caller_name"] == 'Evil" <script>alert(1)</script> {x} [y] ~*?'  # as the carrier sent it


def test_given_malformed_frames_mixed_in_then_they_are_skipped_and_no_state_is_lost(caplog):
    good = list(messages("answered_call"))
    mixed = []
    for i, item in enumerate(good):
        mixed.append(item)
        if i % 5 == 0:
            mixed.append((item[0], {"Event": "Hangup", "Channel": "x"}))  # lacks Uniqueid
            mixed.append((item[0], {"Event": "QueueCallerJoin", "Queue": "cs-en", "Uniqueid": "1",
                                    "Linkedid": "1", "Position": "not-a-number"}))
    model = Model(LABELS, agents=AGENTS)
    with caplog.at_level(logging.WARNING):
        changes = [c for e in translate_all(iter(mixed)) for c in model.apply(e)]
    assert "skipped malformed AMI message" in caplog.text
    _, clean = replay("answered_call")
    assert changes == clean


def test_given_garbage_text_then_parse_frame_raises():
    with pytest.raises(MalformedFrame):
        parse_frame("this is not ami\r\n")
    with pytest.raises(MalformedFrame):
        parse_frame("")
    assert parse_frame("Event: Hangup\r\nCause-txt: Normal Clearing\r\n")["Cause-txt"] == "Normal Clearing"


def test_given_every_recorded_frame_then_raw_text_parses():
    for name in ("answered_call", "abandoned_call", "agent_refused", "hostile_callerid"):
        for _, raw in raw_frames(name):
            parse_frame(raw)


def test_given_unknown_events_then_translate_ignores_them():
    assert translate({"Event": "RTCPSent", "Channel": "x"}, 0) is None
    assert translate({"Response": "Success"}, 0) is None


def test_given_a_resync_without_a_held_call_then_the_call_ends_and_members_missing_are_removed():
    model = waiting_caller(Model(LABELS, agents=AGENTS))
    model.apply(ev.ResyncStarted(10))
    changes = model.apply(ev.ResyncCompleted(10))
    ended = [c.summary for c in changes if isinstance(c, CallEnded)]
    assert ended and ended[0]["call_id"] == "l1" and ended[0]["disposition"] == "not answered"
    assert any(isinstance(c, AgentChanged) and c.view["queues"] == [] for c in changes)


def test_given_a_resync_listing_a_waiting_caller_then_the_model_holds_the_call():
    model = Model(LABELS, agents=AGENTS)
    model.apply(ev.ResyncStarted(100))
    model.apply(ev.ChannelListed(100, "u9", "l9", "PJSIP/trunk-9", "+3585000", "Bo", 12))
    model.apply(ev.QueueEntryListed(100, "cs-en", "u9", "+3585000", "Bo", 1, 10))
    model.apply(ev.ResyncCompleted(100))
    assert model.calls["l9"].joined_at == 90
    assert model.calls["l9"].started_at == 88
    changes = model.apply(ev.AgentRinging(101, "cs-en", "agent2", "l9", "u10"))
    assert isinstance(changes[0], CallOffered) and changes[0].call["caller_name"] == "Bo"


def test_given_the_agents_browser_goes_away_mid_call_then_the_leg_is_reconnected_not_the_call_ended():
    from orchestrator.model import AgentLegLost

    model = Model(LABELS, agents=AGENTS)
    changes = []
    for event in translate_all(messages("answered_call")):
        changes += model.apply(event)
        if isinstance(event, ev.AgentConnected):
            break
    lost = model.apply(ev.ContactChanged(event.at + 1, "agent1", False))
    legs = [c for c in lost if isinstance(c, AgentLegLost)]
    assert len(legs) == 1
    # the customer's own channel (the one in the queue) takes the call back, not the server's agent leg
    assert legs[0].leg_channel == "PJSIP/trunk-00000000"  # the carrier's channel
    assert legs[0].agent_channel.startswith("PJSIP/agent1-")
    assert not any(isinstance(c, CallEnded) for c in lost)
    other = model.apply(ev.ContactChanged(event.at + 2, "agent2", False))
    assert not any(isinstance(c, AgentLegLost) for c in other)  # agent2 has no call


def test_given_an_agents_outbound_call_then_it_is_placed_answered_and_ends_as_an_outbound_activity():
    from orchestrator.model import CallPlaced

    model = Model(LABELS, agents=AGENTS)
    model.apply(ev.ChannelCreated(10, "u1", "u1", "PJSIP/agent3-00000001", "agent3", "Carla"))
    placed = model.apply(ev.OutboundDialed(10.1, "u1", "u1", "agent3", "+358401234567", "+35891000000", False))
    assert isinstance(placed[0], CallPlaced) and placed[0].call["direction"] == "outbound"
    model.apply(ev.ChannelCreated(10.2, "u2", "u1", "Local/+358401234567@sb-demo-customer-0001;1", "", ""))
    assert model.apply(ev.DialAnswered(12, "u2", "u1")) == []  # not the agent's dial
    answered = model.apply(ev.DialAnswered(12, "u1", "u1"))
    assert [type(c).__name__ for c in answered] == ["CallAnswered"]
    model.apply(ev.ChannelHungUp(20, "u2", "u1", "Local/x;1", 16))
    ended = model.apply(ev.ChannelHungUp(20, "u1", "u1", "PJSIP/agent3-00000001", 16))
    summary = next(c.summary for c in ended if isinstance(c, CallEnded))
    assert summary["direction"] == "outbound" and summary["agent"] == "agent3"
    assert summary["display_number"] == "+35891000000" and summary["duration_seconds"] == 8
    assert summary["disposition"] == "answered" and summary["wait_seconds"] == 0


def test_given_outbound_and_dial_events_then_translate_reads_them():
    out = translate({"Event": "UserEvent", "UserEvent": "SwitchboardOutbound", "Uniqueid": "1.1", "Linkedid": "1.1",
                     "Agent": "agent1", "Number": "+3584000", "Display": "+3589000", "Presentation": "prohib"}, 1)
    assert out == ev.OutboundDialed(1, "1.1", "1.1", "agent1", "+3584000", "+3589000", True)
    assert translate({"Event": "UserEvent", "UserEvent": "Other"}, 1) is None
    assert translate({"Event": "DialEnd", "DialStatus": "BUSY", "Uniqueid": "1", "Linkedid": "1"}, 1) is None
    assert translate({"Event": "DialEnd", "DialStatus": "ANSWER", "Uniqueid": "1", "Linkedid": "2"}, 1) == \
        ev.DialAnswered(1, "1", "2")
    originate = {"Event": "DialEnd", "DialStatus": "ANSWER", "DestUniqueid": "3", "DestLinkedid": "3"}
    assert translate(originate, 1) is None  # an Originate's dial has no calling channel: not malformed


def test_given_a_paused_agent_then_the_members_include_keeps_them_paused_across_a_reload():
    from types import SimpleNamespace as NS

    from orchestrator.provisioning import render_members

    q = NS(name="sales")
    agents = [NS(sip_username="dash1", sip_md5_cred="0" * 32, user=NS(display_name="Dash One"),
                 memberships=[NS(queue=q, penalty=0)]),
              NS(sip_username="agent2", sip_md5_cred="0" * 32, user=NS(display_name="Ben Agent"),
                 memberships=[NS(queue=q, penalty=0)])]
    text = render_members(agents, {"dash1": {"sales"}})
    assert "member => Local/dash1@sb-agent/n,0,Dash One,PJSIP/dash1,,,1\n" in text
    assert "member => Local/agent2@sb-agent/n,0,Ben Agent,PJSIP/agent2\n" in text


def listings(name: str = "resync_lists") -> list[tuple[float, dict[str, str]]]:
    """The answers to the resync's list actions, recorded from the real Asterisk."""
    return [(t, msg) for t, msg in messages(name) if "ActionID" in msg]


def test_given_a_caller_who_joins_while_a_resync_runs_then_the_call_is_kept_not_ended():
    model = Model(LABELS, agents=AGENTS)
    model.apply(ev.ResyncStarted(10))  # CoreShowChannels listed nothing; the call arrives live meanwhile
    model.apply(ev.ChannelCreated(10.01, "u1", "l1", "PJSIP/trunk-00000001", "+358401234567", ""))
    model.apply(ev.CallerJoinedQueue(10.02, "cs-en", "u1", "l1", "+358401234567", "", 1))
    changes = model.apply(ev.ResyncCompleted(10.05))
    assert not any(isinstance(c, CallEnded) for c in changes)
    assert model.calls["l1"].caller_number == "+358401234567"
    ended = [c.summary for c in model.apply(ev.ChannelHungUp(15, "u1", "l1", "PJSIP/trunk-00000001", 16))
             if isinstance(c, CallEnded)]
    assert [(s["call_id"], s["disposition"], s["wait_seconds"]) for s in ended] == [("l1", "not answered", 5)]


def test_given_a_live_hangup_before_a_stale_listing_then_the_call_ends_once_and_is_not_revived():
    model = waiting_caller(Model(LABELS, agents=AGENTS))
    model.apply(ev.ResyncStarted(10))
    first = model.apply(ev.ChannelHungUp(10.1, "u1", "l1", "PJSIP/trunk-1", 16))
    model.apply(ev.ChannelListed(10.2, "u1", "l1", "PJSIP/trunk-1", "+3584000", "", 9))  # listed before it hung up
    model.apply(ev.QueueEntryListed(10.2, "cs-en", "u1", "+3584000", "", 1, 9))
    later = model.apply(ev.ResyncCompleted(10.3))
    assert [c.summary["call_id"] for c in first + later if isinstance(c, CallEnded)] == ["l1"]
    assert model.calls == {} and model.channels == {}


def test_given_recorded_resync_listings_then_contacts_devices_members_and_waiting_callers_are_rebuilt():
    model = Model({"cs-fi": "Customer Service FI"}, agents=AGENTS)
    model.apply(ev.ContactChanged(1, "agent1", True))  # agent1's phone registered before we went away
    model.apply(ev.ContactChanged(1, "agent3", True))
    model.apply(ev.DeviceStateChanged(1, "agent3", "inuse"))
    model.apply(ev.QueueMemberUpdated(1, "sales", "agent3", False, "", False, 0))
    model.apply(ev.ResyncStarted(2))
    changes = [c for e in translate_all(iter(listings())) for c in model.apply(e)]
    changes += model.apply(ev.ResyncCompleted(3))
    agents = {name: p.view() for name, p in model.agents.items()}
    assert agents["agent2"]["registered"] is True  # its ContactList item
    assert agents["agent2"]["device_state"] == "not_inuse"
    assert agents["agent1"]["registered"] is False  # no contact listed: its phone unregistered meanwhile
    assert agents["agent1"]["queues"] == ["cs-en"]
    assert agents["agent3"] == {"agent": "agent3", "device_state": "unavailable", "registered": False,
                                "paused": False, "queues": [], "paused_queues": []}
    assert {c.agent for c in changes if isinstance(c, AgentChanged)} >= {"agent1", "agent2", "agent3"}
    assert not any(isinstance(c, CallEnded) for c in changes)
    [call] = model.calls.values()
    assert (call.queue, call.caller_number, call.caller_name) == ("cs-fi", "+46701234567", "Waiting Caller")


def test_given_a_contact_list_item_then_translate_reads_the_aor_and_its_reachability():
    [(t, item)] = [(t, m) for t, m in listings() if m.get("Event") == "ContactList"]
    uri = "sip:agent2@127.0.0.1:49078"
    assert translate(item, t) == ev.ContactListed(t, "agent2", True, uri)
    assert translate({**item, "Status": "Unreachable"}, t) == ev.ContactListed(t, "agent2", False, uri)


def test_given_an_aborted_resync_then_nothing_held_is_ended_or_removed():
    model = waiting_caller(Model(LABELS, agents=AGENTS))
    model.apply(ev.ResyncStarted(10))
    assert model.apply(ev.ResyncAborted(10.5)) == []
    assert model.apply(ev.ResyncCompleted(11)) == []  # a completion without a running resync proves nothing
    assert list(model.calls) == ["l1"] and model.agents["agent1"].view()["queues"] == ["cs-en"]


def test_given_a_caller_who_hangs_up_during_routing_then_the_call_ends_with_one_unanswered_activity():
    model = Model(LABELS, agents=AGENTS)
    model.apply(ev.ChannelCreated(10, "t1", "t1", "PJSIP/trunk-00000001", "+358401234567", "Short"))
    assert model.apply(ev.CallRouted(10.1, "t1", "t1", "cs-en", "+358401234567", "Short")) == []
    (ended,) = [c for c in model.apply(ev.ChannelHungUp(10.4, "t1", "t1", "PJSIP/trunk-00000001", 16))
                if isinstance(c, CallEnded)]
    assert (ended.summary["queue"], ended.summary["disposition"], ended.summary["caller_number"]) == (
        "cs-en", "not answered", "+358401234567")


def test_given_a_routed_call_that_joins_another_queue_then_its_wait_counts_from_the_join():
    model = Model(LABELS, agents=AGENTS)
    model.apply(ev.CallRouted(10, "t1", "t1", "cs-en", "+358401234567", "C"))
    model.apply(ev.CallerJoinedQueue(10.5, "cs-fi", "t1", "t1", "+358401234567", "C", 1))
    model.apply(ev.AgentRinging(11, "cs-fi", "agent1", "t1", "l1"))
    changes = model.apply(ev.AgentConnected(14.5, "cs-fi", "agent1", "t1", 4))
    assert [c.call["queue"] for c in changes if hasattr(c, "call") and c.call] == ["cs-fi"]
    ended_changes = model.apply(ev.ChannelHungUp(20, "t1", "t1", "PJSIP/trunk-1", 16))
    (ended,) = [c for c in ended_changes if isinstance(c, CallEnded)]
    assert (ended.summary["wait_seconds"], ended.summary["queue"]) == (4, "cs-fi")
