"""One call summary for every reader: the facts folded from the live model, from a restarted
orchestrator's resync (the dialplan's SB_CALL_FACTS) and from Asterisk's own ledger (CEL), recorded from
the real Asterisk by scripts/record_ledger_fixtures.py."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from orchestrator import events as ev
from orchestrator.model import CallAdopted, CallEnded, Model
from orchestrator.translate import channel_variables, translate, translate_all
from switchboard.calls import Caller, CallFacts, call_summary, fold_facts, parse_fact, parse_facts
from switchboard.ledger import FinishedCall, Ledger, parse_line
from tests.amifixtures import messages

LEDGER = Path(__file__).resolve().parent.parent / "fixtures" / "cel" / "ledger.csv"
LABELS = {"cs-en": "Customer Service EN", "cs-fi": "Customer Service FI"}
NUMBERS = {"cs-en": "+35891000001", "cs-fi": "+35891000002"}
LISTED_AT = 1796632497.8  # when resync_answered's listings were taken (its frames' times count from here)
CALLER_NAME = 'Maija "M" Virtanen'  # the SIPp customer sent the display name "Maija \"M\" Virtanen"


def ledger_lines(path: Path = LEDGER) -> list[tuple[int, str]]:
    """(offset, text) of every line of a ledger file."""
    out, offset = [], 0
    for raw in path.read_bytes().splitlines(keepends=True):
        out.append((offset, raw.decode().rstrip("\n")))
        offset += len(raw)
    return out


def finished(lines: list[tuple[int, str]] | None = None) -> dict[str, FinishedCall]:
    """The calls the recorded ledger finishes, by call id."""
    ledger = Ledger("FI")
    out: dict[str, FinishedCall] = {}
    for offset, text in ledger_lines() if lines is None else lines:
        line = parse_line(text)
        assert line is not None, text
        out.update((f.call.call_id, f) for f in ledger.feed(line, offset))
    return out


def summary(call: FinishedCall) -> dict:
    return call_summary(call.call, call.ended_at, LABELS, NUMBERS)


# ---- the one summary function ---------------------------------------------------------------------
def test_given_a_queue_call_answered_after_a_wait_then_its_summary_has_queue_wait_agent_and_duration():
    call = CallFacts.queued("l1", "+358401234567", "Maija", "cs-en", 100.0, 101.0)
    call.connect("agent1", 108.4)
    s = call_summary(call, 160.6, LABELS, NUMBERS)
    assert (s["queue_label"], s["dialed"], s["agent"], s["disposition"]) == (
        "Customer Service EN", "+35891000001", "agent1", "answered")
    assert (s["wait_seconds"], s["duration_seconds"]) == (7, 52)
    assert (s["started_at"], s["answered_at"]) == ("1970-01-01T00:01:40+00:00", "1970-01-01T00:01:48.400000+00:00")


def test_given_a_caller_who_hangs_up_waiting_then_the_wait_runs_to_the_hang_up_and_nobody_answered():
    call = CallFacts.queued("l1", "+358401234567", "", "cs-fi", 100.0, 100.5)
    s = call_summary(call, 112.0, LABELS, NUMBERS)
    assert (s["disposition"], s["agent"], s["wait_seconds"], s["duration_seconds"]) == ("not answered", "", 12, 0)
    assert s["caller_display"] == "+358401234567"


def test_given_an_outbound_call_then_no_wait_the_display_number_and_the_time_since_the_customer_answered():
    call = CallFacts.outbound("l2", "agent2", "+358401112233", "+35891000000", 100.0, 100.1)
    assert call.pick_up(104.0) and not call.pick_up(106.0)
    s = call_summary(call, 130.0, LABELS, NUMBERS)
    assert (s["direction"], s["agent"], s["display_number"], s["wait_seconds"], s["duration_seconds"]) == (
        "outbound", "agent2", "+35891000000", 0, 26)


def test_given_a_call_transferred_to_an_agent_then_they_own_it_and_the_first_answer_still_counts():
    call = CallFacts.queued("l3", "+358401234567", "", "cs-en", 100.0, 100.0)
    call.connect("agent1", 105.0)
    assert call.take("agent2", 140.0) == "agent1"
    s = call_summary(call, 200.0, LABELS, NUMBERS)
    assert (s["agent"], s["wait_seconds"], s["duration_seconds"]) == ("agent2", 5, 95)


def test_given_the_dialplans_fact_texts_then_they_parse_and_junk_does_not():
    assert parse_fact("queue~cs-en~1796630565.789629") == parse_facts("queue~cs-en~1796630565.789629")[0]
    facts = parse_facts("outbound~agent2~+358401112233~~1.5/answered~2.5")
    assert [(f.kind, f.values, f.at) for f in facts] == [
        ("outbound", ("agent2", "+358401112233", ""), 1.5), ("answered", (), 2.5)]
    assert parse_facts("") == [] and parse_fact("queue~cs-en~soon") is None and parse_fact("~1.0") is None
    caller = Caller("l9", "0401234567", "Maija", 1.0)
    assert fold_facts(parse_facts("answered~2.0"), caller, "FI") is None  # an answer alone starts no call
    call = fold_facts(parse_facts("direct~agent1~2.0/taken~agent1~3.0"), caller, "FI")
    assert call is not None and (call.caller_number, call.agent, call.answered_at) == ("+358401234567", "agent1", 3.0)


def identity_fact(header: str, at: float) -> str:
    """A ``caller`` fact as [sb-caller-identity] records it."""
    value = base64.b64encode(b"|" + header.encode()).decode().replace("/", "_").rstrip("=")
    return f"caller~{value}~{at}"


def test_given_the_trunks_identity_header_then_the_caller_has_their_whole_name():
    name = "Ä" * 60 + ' O"Brien (Ltd.) ~/ 😀'
    header = '"' + name.replace('"', '\\"') + '" <sip:+358401234567@carrier.example>;tag=x'
    facts = parse_facts(f"{identity_fact(header, 1.0)}/queue~cs-en~2.0")
    call = fold_facts(facts, Caller("l1", "+358401234567", "ÄÄÄÄ (79 bytes)", 0.5), "FI")
    assert call is not None and call.caller_name == name
    no_header = parse_facts("caller~fA~1.0/queue~cs-en~2.0")  # neither header: the name is empty, as live
    assert fold_facts(no_header, Caller("l1", "", "x", 0.5), "FI").caller_name == ""  # type: ignore[union-attr]
    broken = parse_facts("caller~@@~1.0/queue~cs-en~2.0")  # not one: Asterisk's name stays
    assert fold_facts(broken, Caller("l1", "", "Maija", 0.5), "FI").caller_name == "Maija"  # type: ignore[union-attr]


# ---- the ledger, as Asterisk wrote it -------------------------------------------------------------
def test_given_the_recorded_ledger_then_every_call_with_facts_finishes_once_with_its_task_fields():
    calls = finished()
    assert len(calls) == 7  # the boot markers and the demo customer's own channels are no calls
    answered = summary(calls["1796632479.2"])
    assert answered == {
        "call_id": "1796632479.2", "direction": "inbound", "caller_number": "+358401234567",
        "caller_display": "+358401234567", "caller_name": CALLER_NAME, "queue": "cs-en",
        "queue_label": "Customer Service EN", "dialed": "+35891000001", "display_number": "", "agent": "agent1",
        "disposition": "answered", "started_at": "2026-12-07T08:34:39.936425+00:00",
        "answered_at": "2026-12-07T08:34:39.957620+00:00", "ended_at": "2026-12-07T08:34:42.837665+00:00",
        "wait_seconds": 0, "duration_seconds": 3}
    waited = summary(calls["1796632483.6"])
    assert (waited["queue"], waited["caller_name"], waited["disposition"], waited["wait_seconds"]) == (
        "cs-fi", "Waiting Caller", "not answered", 3)


def test_given_the_recorded_ledger_then_outbound_and_direct_calls_carry_their_agent():
    calls = finished()
    outbound = summary(calls["1796632487.7"])
    assert (outbound["direction"], outbound["agent"], outbound["caller_number"], outbound["disposition"],
            outbound["duration_seconds"]) == ("outbound", "agent2", "+358401112233", "answered", 3)
    direct = summary(calls["1796632492.10"])
    assert (direct["direction"], direct["agent"], direct["caller_number"], direct["queue"], direct["wait_seconds"],
            direct["duration_seconds"]) == ("inbound", "agent1", "agent2", "", 0, 2)


def test_given_asterisk_killed_mid_call_then_the_next_boot_marker_ends_the_cut_call():
    cut = finished()["1796632501.19"]
    assert cut.cut and cut.ended_at == pytest.approx(1796632504.993815)
    s = summary(cut)
    assert (s["agent"], s["queue"], s["disposition"], s["duration_seconds"]) == ("agent1", "cs-en", "answered", 3)
    assert not any(f.cut for cid, f in finished().items() if cid != "1796632501.19")


def test_given_reading_starts_at_a_calls_first_line_then_the_calls_from_there_are_the_same():
    lines = ledger_lines()
    start = next(i for i, (_, text) in enumerate(lines) if text.startswith("CHAN_START") and "trunk-00000002" in text)
    later = finished(lines[start:])
    everything = finished()
    assert set(later) == set(everything) - {"1796632479.2"}
    assert {k: summary(v) for k, v in later.items()} == {k: summary(everything[k]) for k in later}


def test_given_a_torn_or_foreign_line_then_it_is_skipped():
    assert parse_line("not,a,cel,line") is None
    assert parse_line('USER_DEFINED,17966.5,1.1,1.1,PJSIP/x,,,SB_FACT,"{""extra"":') is None  # torn mid-write
    line = parse_line('USER_DEFINED,17966.5,1.1,1.1,PJSIP/x,1,"a,b",SB_FACT,"{""extra"":""queue~q~1.0""}"')
    assert line is not None and (line.caller_name, line.extra) == ("a,b", "queue~q~1.0")


# ---- a restarted orchestrator adopts the calls in progress -----------------------------------------
def resynced(model: Model) -> list:
    changes = model.apply(ev.ResyncStarted(LISTED_AT))
    for event in translate_all((LISTED_AT + t, msg) for t, msg in messages("resync_answered")):
        changes += model.apply(event)
    return changes + model.apply(ev.ResyncCompleted(LISTED_AT + 0.1))


def test_given_a_fresh_orchestrator_then_its_resync_adopts_the_answered_queue_and_outbound_calls():
    model = Model(LABELS, NUMBERS, agents={"agent1", "agent2"})
    changes = resynced(model)
    adopted = {c.agent: c.call for c in changes if isinstance(c, CallAdopted)}
    assert set(adopted) == {"agent1", "agent2"}
    assert (adopted["agent1"]["call_id"], adopted["agent1"]["queue_label"], adopted["agent1"]["caller_name"]) == (
        "1796632495.13", "Customer Service EN", CALLER_NAME)
    assert adopted["agent1"]["answered_at"] == pytest.approx(1796632495.332873)
    assert (adopted["agent2"]["call_id"], adopted["agent2"]["direction"], adopted["agent2"]["caller_number"]) == (
        "1796632495.12", "outbound", "+358401112233")
    assert model.calls["1796632495.13"].queue_caller == "1796632495.13"  # the customer's channel takes it back


def test_given_an_adopted_call_that_ends_then_its_summary_is_the_ledgers_for_the_same_call():
    model = Model(LABELS, NUMBERS, agents={"agent1", "agent2"})
    resynced(model)
    ledger = finished()["1796632495.13"]
    changes = []
    for uniqueid, name in sorted(model.channel_names.items()):
        if model.channels[uniqueid] == "1796632495.13":
            changes += model.apply(ev.ChannelHungUp(ledger.ended_at, uniqueid, "1796632495.13", name, 16))
    live = next(c.summary for c in changes if isinstance(c, CallEnded))
    expected = summary(ledger)
    assert abs(float(live.pop("started_at")[17:19]) - float(expected.pop("started_at")[17:19])) <= 1
    assert live == expected


def test_given_a_call_we_hold_then_a_resync_does_not_adopt_it_again():
    model = Model(LABELS, NUMBERS, agents={"agent1", "agent2"})
    resynced(model)
    assert not any(isinstance(c, CallAdopted) for c in resynced(model))


def test_given_one_or_several_channel_variables_then_each_is_read():
    assert channel_variables({"ChanVariable": "SB_CALL_FACTS=queue~q~1.0"}) == {"SB_CALL_FACTS": "queue~q~1.0"}
    assert channel_variables({"ChanVariable": ["A=1", "B=x=y", "junk"]}) == {"A": "1", "B": "x=y"}
    listed = translate({"Event": "CoreShowChannel", "Uniqueid": "1.1", "Linkedid": "1.1", "Channel": "PJSIP/t-1",
                        "ChanVariable": "SB_CALL_FACTS=", "Duration": "00:00:03"}, 5.0)
    assert isinstance(listed, ev.ChannelListed) and listed.facts == "" and listed.seconds == 3
