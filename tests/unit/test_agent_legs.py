"""Every call type survives the agent's browser leg dying: the model names the channel that takes the call
back (orchestrator/legs.py), and direct calls and transfers to an agent are calls with one Task."""

from __future__ import annotations

from orchestrator import events as ev
from orchestrator.model import AgentLeftCall, AgentLegLost, CallAnswered, CallEnded, CallOffered, CallPlaced, Model
from orchestrator.translate import translate
from tests.amifixtures import AGENTS

LABELS = {"cs-fi": "Customer Service FI"}


def channel(model: Model, at: float, uniqueid: str, linkedid: str, name: str, number: str = "", cname: str = "") \
        -> None:
    model.apply(ev.ChannelCreated(at, uniqueid, linkedid, name, number, cname))


def bridge(model: Model, at: float, bridge_id: str, *uniqueids: str) -> None:
    for u in uniqueids:
        model.apply(ev.BridgeChanged(at, u, bridge_id, True))


def lost(model: Model, agent: str, at: float = 50) -> list[AgentLegLost]:
    return [c for c in model.apply(ev.ContactChanged(at, agent, False)) if isinstance(c, AgentLegLost)]


def of(changes: list, kind: type) -> list:
    return [c for c in changes if isinstance(c, kind)]


def outbound_call(model: Model) -> None:
    """agent3's browser (u1) dials the customer (u2); both answered and bridged."""
    channel(model, 10, "u1", "u1", "PJSIP/agent3-00000001", "agent3")
    model.apply(ev.OutboundDialed(10.1, "u1", "u1", "agent3", "+358401234567", "+35891000000", False))
    channel(model, 10.2, "u2", "u1", "Local/+358401234567@sb-demo-customer-00000001;1")
    model.apply(ev.DialAnswered(12, "u1", "u1", "PJSIP/agent3-00000001", "u2",
                                "Local/+358401234567@sb-demo-customer-00000001;1"))
    bridge(model, 12, "b1", "u1", "u2")


def test_given_an_outbound_call_when_the_agents_browser_dies_then_the_customer_takes_it_back():
    model = Model(LABELS, agents=AGENTS)
    outbound_call(model)
    legs = lost(model, "agent3")
    assert [(c.call_id, c.leg_channel, c.agent_channel) for c in legs] == [
        ("u1", "Local/+358401234567@sb-demo-customer-00000001;1", "PJSIP/agent3-00000001")]
    # the customer rings the agent's new registration: the same call, not a new answer
    model.apply(ev.ChannelHungUp(50.1, "u1", "u1", "PJSIP/agent3-00000001", 44))
    channel(model, 51, "u3", "u1", "PJSIP/agent3-00000002", "agent3")
    again = model.apply(ev.DialAnswered(51.2, "u2", "u1", "Local/+358401234567@sb-demo-customer-00000001;1", "u3",
                                        "PJSIP/agent3-00000002"))
    assert again == []
    bridge(model, 51.2, "b2", "u2", "u3")
    assert [c.leg_channel for c in lost(model, "agent3", 60)] == ["Local/+358401234567@sb-demo-customer-00000001;1"]
    model.apply(ev.ChannelHungUp(70, "u3", "u1", "PJSIP/agent3-00000002", 16))
    ended = model.apply(ev.ChannelHungUp(70, "u2", "u1", "Local/x;1", 16))
    assert [c.summary["duration_seconds"] for c in of(ended, CallEnded)] == [58]  # one call, across the reload


def test_given_a_ringing_or_unbridged_browser_when_its_contact_goes_then_nothing_is_reconnected():
    model = Model(LABELS, agents=AGENTS)
    channel(model, 10, "u1", "u1", "PJSIP/agent3-00000001", "agent3")
    model.apply(ev.OutboundDialed(10.1, "u1", "u1", "agent3", "+358401234567", "+35891000000", False))
    assert lost(model, "agent3") == []
    other = Model(LABELS, agents=AGENTS)
    outbound_call(other)
    other.apply(ev.BridgeChanged(13, "u2", "b1", False))
    assert lost(other, "agent3") == []  # a conference or a bridge being torn down: no single other party


def test_given_a_customer_who_answers_while_the_agent_is_offline_then_the_call_is_taken_back_at_once():
    model = Model(LABELS, agents=AGENTS)
    model.apply(ev.ContactChanged(9, "agent3", True))
    channel(model, 10, "u1", "u1", "PJSIP/agent3-00000001", "agent3")
    model.apply(ev.OutboundDialed(10.1, "u1", "u1", "agent3", "+358401234567", "+35891000000", False))
    channel(model, 10.2, "u2", "u1", "Local/+358401234567@sb-demo-customer-00000001;1")
    assert lost(model, "agent3", 11) == []  # still ringing: nothing to take back yet
    model.apply(ev.DialAnswered(12, "u1", "u1", "PJSIP/agent3-00000001", "u2", "x"))
    assert model.apply(ev.BridgeChanged(12, "u1", "b1", True)) == []  # alone in the bridge so far
    legs = of(model.apply(ev.BridgeChanged(12, "u2", "b1", True)), AgentLegLost)
    assert [(c.leg_channel, c.agent_channel) for c in legs] == [
        ("Local/+358401234567@sb-demo-customer-00000001;1", "PJSIP/agent3-00000001")]
    model.apply(ev.ContactChanged(13, "agent3", True))
    assert model.apply(ev.BridgeChanged(14, "u2", "b2", True)) == []  # registered again: a normal call


def colleague_call(model: Model) -> list:
    """agent1's browser (u1) calls agent2 (browser u2): the SwitchboardDirect user event, then the answer."""
    model.apply(ev.ContactChanged(9, "agent1", True))
    model.apply(ev.ContactChanged(9, "agent2", True))
    channel(model, 10, "u1", "u1", "PJSIP/agent1-00000001", "agent1", "Anna Agent")
    changes = model.apply(ev.DirectDialed(10.1, "u1", "u1", "agent2", "agent1", "Anna Agent"))
    channel(model, 10.2, "u2", "u1", "PJSIP/agent2-00000002", "agent2")
    changes += model.apply(ev.DialAnswered(12, "u1", "u1", "PJSIP/agent1-00000001", "u2", "PJSIP/agent2-00000002"))
    bridge(model, 12, "b1", "u1", "u2")
    return changes


def test_given_a_colleagues_call_then_both_sides_are_tracked_and_either_side_is_taken_back_by_the_other():
    model = Model(LABELS, agents=AGENTS)
    changes = colleague_call(model)
    placed, offered = of(changes, CallPlaced), of(changes, CallOffered)
    assert [(c.agent, c.call["caller_number"], c.call["direction"]) for c in placed] == [
        ("agent1", "agent2", "outbound")]
    assert [(c.agent, c.call["caller_number"], c.call["caller_name"], c.call["queue_label"]) for c in offered] == [
        ("agent2", "agent1", "Anna Agent", "")]  # the page shows 'Direct'
    answered = {c.agent: c.call for c in of(changes, CallAnswered)}
    assert answered["agent2"]["caller_number"] == "agent1" and answered["agent2"]["answered_at"] == 12
    assert answered["agent1"]["caller_number"] == "agent2" and answered["agent1"]["direction"] == "outbound"
    assert [c.leg_channel for c in lost(model, "agent2")] == ["PJSIP/agent1-00000001"]
    assert [c.leg_channel for c in lost(model, "agent1")] == ["PJSIP/agent2-00000002"]
    model.apply(ev.ChannelHungUp(30, "u2", "u1", "PJSIP/agent2-00000002", 16))
    ended = model.apply(ev.ChannelHungUp(30, "u1", "u1", "PJSIP/agent1-00000001", 16))
    summaries = [c.summary for c in of(ended, CallEnded)]
    assert len(summaries) == 1 and summaries[0]["agent"] == "agent2" and summaries[0]["disposition"] == "answered"
    assert summaries[0]["wait_seconds"] == 0 and summaries[0]["duration_seconds"] == 18
    assert of(ended, AgentLeftCall) == [AgentLeftCall("agent1", "u1")]  # the caller's kept call is forgotten


def test_given_a_direct_call_nobody_answers_then_the_ringing_agent_is_told_and_one_unanswered_call_ends():
    model = Model(LABELS, agents=AGENTS)
    channel(model, 10, "u1", "u1", "PJSIP/trunk-00000001", "+358401112233", "Customer")
    offered = model.apply(ev.DirectDialed(10.1, "u1", "u1", "agent2", "+358401112233", "Customer"))
    assert [c.agent for c in of(offered, CallOffered)] == ["agent2"]
    assert of(offered, CallPlaced) == []  # a customer, not an agent, placed it
    ended = model.apply(ev.ChannelHungUp(20, "u1", "u1", "PJSIP/trunk-00000001", 16))
    assert [c.summary["disposition"] for c in of(ended, CallEnded)] == ["not answered"]


def test_given_a_queue_call_blind_transferred_to_an_agent_then_it_is_theirs_and_the_customer_takes_it_back():
    model = Model(LABELS, agents=AGENTS)
    channel(model, 1, "c1", "c1", "Local/+35891000002@from-trunk-00000001;2", "+358406660001", "Blind Transfer")
    model.apply(ev.CallerJoinedQueue(1, "cs-fi", "c1", "c1", "+358406660001", "Blind Transfer", 1))
    channel(model, 2, "l1", "c1", "Local/agent1@sb-agent-00000001;1")
    channel(model, 2, "l2", "c1", "Local/agent1@sb-agent-00000001;2")
    channel(model, 2, "a1", "c1", "PJSIP/agent1-00000001", "agent1")
    model.apply(ev.AgentConnected(3, "cs-fi", "agent1", "c1", 2))
    bridge(model, 3, "q", "c1", "l1")
    bridge(model, 3, "d", "l2", "a1")
    # agent1 transfers: their leg l2 runs [sb-agent-direct] for agent2
    model.apply(ev.BridgeChanged(5, "a1", "d", False))
    model.apply(ev.ChannelHungUp(5, "a1", "c1", "PJSIP/agent1-00000001", 16))
    offered = model.apply(ev.DirectDialed(5.1, "l2", "c1", "agent2", "+358406660001", "Blind Transfer"))
    assert [(c.agent, c.call["queue_label"]) for c in of(offered, CallOffered)] == [("agent2", "Customer Service FI")]
    channel(model, 5.2, "a2", "c1", "PJSIP/agent2-00000002", "agent2")
    taken = model.apply(ev.DialAnswered(8, "l2", "c1", "Local/agent1@sb-agent-00000001;2", "a2",
                                        "PJSIP/agent2-00000002"))
    assert of(taken, AgentLeftCall) == [AgentLeftCall("agent1", "c1")]
    answered = of(taken, CallAnswered)
    assert [(c.agent, c.answered_at, c.call["answered_at"]) for c in answered] == [("agent2", 8, 8)]
    bridge(model, 8, "d2", "l2", "a2")
    legs = lost(model, "agent2")  # not the transferring leg: the customer's own channel in the queue
    assert [(c.leg_channel, c.agent_channel) for c in legs] == [
        ("Local/+35891000002@from-trunk-00000001;2", "PJSIP/agent2-00000002")]
    for u in ("a2", "l2", "l1"):
        model.apply(ev.ChannelHungUp(20, u, "c1", "x", 16))
    ended = model.apply(ev.ChannelHungUp(20, "c1", "c1", "x", 16))
    assert [(c.summary["agent"], c.summary["queue"]) for c in of(ended, CallEnded)] == [("agent2", "cs-fi")]


def consulted_queue_call(model: Model) -> list:
    """agent1 answered a queue call and consults agent2 from the page (sb-consult), who answers."""
    channel(model, 1, "c1", "c1", "PJSIP/trunk-00000001", "+358406660001", "Consult Customer")
    model.apply(ev.CallerJoinedQueue(1, "cs-fi", "c1", "c1", "+358406660001", "Consult Customer", 1))
    channel(model, 2, "a1", "c1", "PJSIP/agent1-00000001", "agent1")
    model.apply(ev.AgentConnected(3, "cs-fi", "agent1", "c1", 2))
    bridge(model, 3, "q", "c1", "a1")
    channel(model, 5, "k1", "c1", "Local/10@sb-consult-00000002;1")
    channel(model, 5, "k2", "c1", "Local/10@sb-consult-00000002;2")
    model.apply(ev.BridgeChanged(5, "a1", "q", False))
    bridge(model, 5, "k", "a1", "k1")
    model.apply(ev.DirectDialed(5.1, "k2", "c1", "agent2", "+358406660001", "Consult Customer"))
    channel(model, 5.2, "a2", "c1", "PJSIP/agent2-00000002", "agent2")
    return model.apply(translate({"Event": "DialEnd", "DialStatus": "ANSWER", "Uniqueid": "k2", "Linkedid": "c1",
                                  "Channel": "Local/10@sb-consult-00000002;2", "DestUniqueid": "a2",
                                  "DestChannel": "PJSIP/agent2-00000002"}, 8))


def test_given_a_consultation_from_a_sip_phone_page_then_the_call_stays_with_its_agent_until_the_transfer_completes():
    model = Model(LABELS, agents=AGENTS)
    answered = consulted_queue_call(model)
    assert [c.agent for c in of(answered, CallAnswered)] == ["agent2"]  # agent2's page shows the call
    assert of(answered, AgentLeftCall) == []  # agent1 still has it
    # agent1 completes: their leg ends, agent2's goes on with the customer
    for u in ("k1", "k2"):
        model.apply(ev.ChannelHungUp(9, u, "c1", "x", 16))
    completed = model.apply(ev.ChannelHungUp(9.1, "a1", "c1", "PJSIP/agent1-00000001", 16))
    assert of(completed, AgentLeftCall) == [AgentLeftCall("agent1", "c1")]
    model.apply(ev.ChannelHungUp(20, "a2", "c1", "PJSIP/agent2-00000002", 16))
    ended = model.apply(ev.ChannelHungUp(20, "c1", "c1", "PJSIP/trunk-00000001", 16))
    assert [c.summary["agent"] for c in of(ended, CallEnded)] == ["agent2"]


def test_given_a_consultation_cancelled_then_the_consulted_agent_leaves_and_the_call_stays_with_its_agent():
    model = Model(LABELS, agents=AGENTS)
    consulted_queue_call(model)
    cancelled = model.apply(ev.ChannelHungUp(9, "a2", "c1", "PJSIP/agent2-00000002", 16))
    assert of(cancelled, AgentLeftCall) == [AgentLeftCall("agent2", "c1")]
    for u in ("k1", "k2"):
        model.apply(ev.ChannelHungUp(9, u, "c1", "x", 16))
    model.apply(ev.ChannelHungUp(30, "a1", "c1", "PJSIP/agent1-00000001", 16))
    ended = model.apply(ev.ChannelHungUp(30, "c1", "c1", "PJSIP/trunk-00000001", 16))
    assert [c.summary["agent"] for c in of(ended, CallEnded)] == ["agent1"]


def test_given_a_resync_then_bridges_come_back_from_the_channel_list():
    model = Model(LABELS, agents=AGENTS)
    model.apply(ev.ResyncStarted(1))
    model.apply(ev.ChannelListed(1, "u1", "u1", "PJSIP/agent3-00000001", "agent3", "", 20, "b1"))
    model.apply(ev.ChannelListed(1, "u2", "u1", "PJSIP/trunk-00000002", "+358401234567", "", 20, "b1"))
    model.apply(ev.ResyncCompleted(1))
    assert [c.leg_channel for c in lost(model, "agent3")] == ["PJSIP/trunk-00000002"]


def test_given_bridge_dial_and_direct_frames_then_translate_reads_them():
    assert translate({"Event": "BridgeEnter", "BridgeUniqueid": "b-1", "Uniqueid": "1.2", "Channel": "x"}, 1) == \
        ev.BridgeChanged(1, "1.2", "b-1", True)
    assert translate({"Event": "BridgeLeave", "BridgeUniqueid": "b-1", "Uniqueid": "1.2"}, 1) == \
        ev.BridgeChanged(1, "1.2", "b-1", False)
    assert translate({"Event": "DialEnd", "DialStatus": "ANSWER", "Uniqueid": "1.1", "Linkedid": "1.1",
                      "Channel": "PJSIP/agent1-01", "DestUniqueid": "1.2", "DestChannel": "PJSIP/agent2-02"}, 1) == \
        ev.DialAnswered(1, "1.1", "1.1", "PJSIP/agent1-01", "1.2", "PJSIP/agent2-02")
    direct = translate({"Event": "UserEvent", "UserEvent": "SwitchboardDirect", "Uniqueid": "1.1", "Linkedid": "1.1",
                        "Agent": "agent2", "CallerIDNum": "agent1", "CallerIDName": "<unknown>"}, 1)
    assert direct == ev.DirectDialed(1, "1.1", "1.1", "agent2", "agent1", "")
    listed = translate({"Event": "CoreShowChannel", "Uniqueid": "1.1", "Linkedid": "1.1", "Channel": "PJSIP/a-1",
                        "Duration": "00:00:05", "BridgeId": "b-9"}, 1)
    assert listed.bridge == "b-9" and listed.seconds == 5


def contact(agent: str, uri: str, status: str) -> dict[str, str]:
    """An AMI ContactStatus frame as Asterisk 22 sends it."""
    return {"Event": "ContactStatus", "URI": uri, "ContactStatus": status, "AOR": agent, "EndpointName": agent}


def test_given_a_second_tab_registering_then_the_agent_stays_registered_and_no_call_is_taken_back():
    model = Model(LABELS, agents=AGENTS)
    first, second = "sip:k1d3@x1.invalid;transport=ws", "sip:p9q2@x2.invalid;transport=ws"
    model.apply(translate(contact("agent3", first, "Created"), 9))
    outbound_call(model)
    # the second tab's registration is added, then remove_existing drops the first tab's contact
    model.apply(translate(contact("agent3", second, "Created"), 20))
    changes = model.apply(translate(contact("agent3", first, "Removed"), 20.03))
    assert of(changes, AgentLegLost) == []  # the first tab's call lives on its own open connection
    assert model.agents["agent3"].registered is True
    # a call bridged to the agent now is an ordinary call, not one answered while offline
    channel(model, 21, "u3", "u3", "PJSIP/agent3-00000003", "agent3")
    channel(model, 21, "u4", "u3", "Local/+358401234568@sb-demo-customer-00000002;1")
    assert of(model.apply(ev.BridgeChanged(22, "u3", "b3", True)), AgentLegLost) == []
    assert of(model.apply(ev.BridgeChanged(22, "u4", "b3", True)), AgentLegLost) == []
    # the tab that is left closes its connection: now the call is taken back
    legs = of(model.apply(translate(contact("agent3", second, "Removed"), 30)), AgentLegLost)
    assert [c.agent_channel for c in legs] == ["PJSIP/agent3-00000001", "PJSIP/agent3-00000003"]
    assert model.agents["agent3"].registered is False


def test_given_a_resync_then_contacts_not_listed_any_more_are_forgotten():
    model = Model(LABELS, agents=AGENTS)
    stale, live = "sip:old@x1.invalid;transport=ws", "sip:new@x2.invalid;transport=ws"
    model.apply(ev.ContactChanged(1, "agent3", True, stale))
    model.apply(ev.ContactChanged(1, "agent3", True, live))
    outbound_call(model)
    model.apply(ev.ResyncStarted(20))
    model.apply(ev.ChannelListed(20, "u1", "u1", "PJSIP/agent3-00000001", "agent3", "", 10, "b1"))
    model.apply(ev.ChannelListed(20, "u2", "u1", "Local/+358401234567@sb-demo-customer-00000001;1", "", "", 8, "b1"))
    model.apply(ev.ContactListed(20, "agent3", True, live))
    assert of(model.apply(ev.ResyncCompleted(21)), AgentLegLost) == []
    assert model.agents["agent3"].contacts == {live}
    # so when the live one goes, the agent is unregistered (the stale one does not keep them "registered")
    assert [c.agent_channel for c in lost_contact(model, "agent3", live)] == ["PJSIP/agent3-00000001"]


def lost_contact(model: Model, agent: str, uri: str) -> list[AgentLegLost]:
    return of(model.apply(ev.ContactChanged(30, agent, False, uri)), AgentLegLost)


def trunk_queue_call(model: Model) -> list:
    """A carrier's call (PJSIP/trunk-…) waits in cs-fi and agent3 answers it through the server leg."""
    changes: list = []
    for event in (
        ev.DeviceStateChanged(1, "trunk", "inuse"),  # the trunk's own device state: not an agent's
        ev.ResyncStarted(2), ev.ResyncCompleted(2.1),  # the trunk has no registration: listed as absent
        ev.ContactChanged(3, "agent3", True),
        ev.ChannelCreated(10, "t1", "t1", "PJSIP/trunk-00000004", "+358401234567", "Maija"),
        ev.CallerJoinedQueue(10.5, "cs-fi", "t1", "t1", "+358401234567", "Maija", 1),
        ev.ChannelCreated(11, "l1", "t1", "Local/agent3@sb-agent-00000001;1", "", ""),
        ev.ChannelCreated(11, "l2", "t1", "Local/agent3@sb-agent-00000001;2", "", ""),
        ev.AgentRinging(11, "cs-fi", "agent3", "t1", "l1"),
        ev.ChannelCreated(11.1, "a1", "t1", "PJSIP/agent3-00000005", "agent3", ""),
        ev.AgentConnected(13, "cs-fi", "agent3", "t1", 3),
        ev.BridgeChanged(13, "t1", "b1", True), ev.BridgeChanged(13, "l1", "b1", True),
        ev.BridgeChanged(13, "l2", "b2", True), ev.BridgeChanged(13, "a1", "b2", True),
    ):
        changes += model.apply(event)
    return changes


def test_given_a_call_from_the_trunk_when_the_agent_answers_then_the_trunk_is_no_agent_and_nothing_is_taken_back():
    model = Model(LABELS, agents=AGENTS)
    changes = trunk_queue_call(model)
    assert of(changes, AgentLegLost) == []
    assert "trunk" not in model.agents
    assert [c.agent for c in of(changes, CallAnswered)] == ["agent3"]
    for u in ("a1", "l2", "l1"):
        model.apply(ev.ChannelHungUp(40, u, "t1", "", 16))
    (ended,) = of(model.apply(ev.ChannelHungUp(40, "t1", "t1", "PJSIP/trunk-00000004", 16)), CallEnded)
    assert (ended.summary["agent"], ended.summary["duration_seconds"]) == ("agent3", 27)


def test_given_an_endpoint_named_like_an_agent_that_was_not_provisioned_then_it_is_a_customer():
    model = Model(LABELS, agents={"agent3"})
    assert model.apply(ev.DeviceStateChanged(1, "agent1", "not_inuse")) == []
    assert model.apply(ev.ContactChanged(1, "agent1", False)) == []
    assert "agent1" not in model.agents
    model.apply(ev.AgentsProvisioned(2, frozenset({"agent1", "agent3"})))
    assert [c.agent for c in model.apply(ev.ContactChanged(3, "agent1", True))] == ["agent1"]
    model.apply(ev.AgentsProvisioned(4, frozenset({"agent3"})))
    assert "agent1" not in model.agents  # deleted from the database: forgotten


def test_given_a_profile_change_then_the_members_reload_drops_the_queues_no_longer_listed_from_the_agent():
    model = Model(LABELS, agents={"agent3"})
    for queue in ("cs-en", "sales"):
        model.apply(ev.QueueMemberUpdated(1, queue, "agent3", False, "", False, 0))
    assert set(model.agents["agent3"].queues) == {"cs-en", "sales"}
    changes = model.apply(ev.AgentsProvisioned(2, frozenset({"agent3"}),
                                               memberships=(("agent3", frozenset({"cs-en"})),)))
    assert set(model.agents["agent3"].queues) == {"cs-en"}  # Asterisk says nothing when a reload removes a member
    assert [c.agent for c in changes] == ["agent3"]  # the agent's page and the board hear of it
