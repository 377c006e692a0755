"""Omni-Channel presence sync as pure rules (seed 1.3): what an agent's Omni status and workload mean for
their Switchboard presence, and which Omni status their Switchboard presence asks for."""

from __future__ import annotations

from switchboard import omni
from switchboard.omni import Decision, OmniMapping, OmniState

MAP = [
    OmniMapping("Available_Voice", "Available", "online"),
    OmniMapping("Available_Chat", "OffWork", "online", direction="from_omni"),  # chat only: no calls
    OmniMapping("Busy", "Busy", "busy"),
    OmniMapping("Lunch", "Lunch (45 min)", "busy"),
    OmniMapping("Busy", "In a Call", "busy", direction="to_omni"),
]
AVAILABLE = {"status": "Available", "kind": "available", "system": None, "wrapup": None}


def decide(before, after, view=AVAILABLE, **kw) -> Decision:
    return omni.decide(before, after, view, MAP, **kw)


def test_going_online_from_offline_switches_the_voice_queues_on_with_the_mapped_status():
    d = decide(OmniState(None), OmniState("Lunch"))
    assert (d.status, d.queues, d.offwork) == ("Lunch (45 min)", True, False)


def test_choosing_offline_switches_the_queues_off_and_sets_offwork_but_a_closed_browser_does_not():
    chosen = decide(OmniState("Available_Voice"), OmniState(None), explicit_logout=True)
    assert (chosen.queues, chosen.offwork, chosen.status) == (False, True, None)
    lost = decide(OmniState("Available_Voice"), OmniState(None))
    assert (lost.queues, lost.offwork, lost.status) == (None, False, None)
    assert "without choosing" in lost.why


def test_a_status_change_maps_and_a_read_only_row_is_read():
    assert decide(OmniState("Available_Voice"), OmniState("Available_Chat")).status == "OffWork"
    assert decide(OmniState("Available_Voice"), OmniState("Busy")).status == "Busy"


def test_the_status_switchboard_itself_asked_omni_for_changes_nothing():
    in_a_call = {**AVAILABLE, "system": {"name": "In a Call", "kind": "busy"}}
    assert omni.target_omni(in_a_call, MAP).omni == "Busy"
    d = decide(OmniState("Available_Voice"), OmniState("Busy"), in_a_call)
    assert d.status is None and "asked for" in d.why  # not "Busy": the agent is In a Call


def test_an_unmapped_or_unchanged_status_changes_nothing_and_the_first_sight_sets_no_queues():
    assert decide(OmniState("Busy"), OmniState("Training")).status is None
    assert decide(OmniState("Busy"), OmniState("Busy")) == Decision()
    first = decide(None, OmniState("Busy"))
    assert (first.status, first.queues) == ("Busy", None)
    assert decide(None, OmniState(None)).queues is None


def test_the_shown_status_and_target_follow_system_then_wrapup_then_the_agents_own():
    assert omni.shown_status({**AVAILABLE, "wrapup": {"call_id": "c"}}) == "Wrap Up"
    assert omni.target_omni({**AVAILABLE, "status": "Lunch (45 min)"}, MAP).omni == "Lunch"
    assert omni.target_omni({**AVAILABLE, "status": "OffWork"}, MAP) is None  # a from_omni row is never written


def test_a_mapping_row_is_checked():
    assert omni.check_mapping(OmniMapping("Busy", "Busy", "busy"), ["Busy"]) == []
    problems = omni.check_mapping(OmniMapping("", "Nope", "away", direction="sideways"), ["Busy"])
    assert len(problems) == 4
    assert omni.check_mapping(OmniMapping("Busy", "In a Call", "busy"), []) == [
        "'In a Call' is set by Switchboard itself: its direction must be to_omni"]
