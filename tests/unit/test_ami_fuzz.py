"""Fuzz: mutated AMI frames (from real recordings) through translate and the model never raise out of the
loop, each rejected frame is logged once, and the model's invariants hold."""

from __future__ import annotations

import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator import events as ev
from orchestrator.model import AgentChanged, CallEnded, CallOffered, Model
from orchestrator.translate import TABLE, MalformedFrame, parse_frame, translate, translate_or_skip
from tests.amifixtures import AGENTS, FIXTURES, messages

RECORDED = [msg for path in sorted(FIXTURES.glob("*.jsonl")) for _, msg in messages(path.stem) if msg.get("Event")]
HEADERS = sorted({key for msg in RECORDED for key in msg})
NASTY = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "<unknown>", "unknown", "-1", "99999999999999999999", "1e9", "NaN", "0x10", "00:00:0x",
                     "PJSIP/trunk-00000001", "PJSIP/agent1-00000001", "Local/agent1@sb-agent/n", "PJSIP/agent1",
                     "PJSIP/", "Local/@sb-agent", "\\", "\\'\\\"\\?", "a" * 1000, "😀" * 200, "\r\n", "ANSWER",
                     "1.1", "1.2", "2.1", "INUSE", "NOT_INUSE", "Reachable", "Removed", "agent1", "agent9", "trunk"]),
)


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, str]:
    """A recorded AMI message with headers dropped, changed, added or its event renamed."""
    msg = dict(draw(st.sampled_from(RECORDED)))
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["drop", "change", "add", "rename"]))
        if action == "drop" and msg:
            msg.pop(draw(st.sampled_from(sorted(msg))), None)
        elif action == "change" and msg:
            msg[draw(st.sampled_from(sorted(msg)))] = draw(NASTY)
        elif action == "add":
            msg[draw(st.sampled_from(HEADERS))] = draw(NASTY)
        else:
            msg["Event"] = draw(st.sampled_from(sorted(TABLE)))
    return msg


def invariants(model: Model) -> None:
    assert set(model.channels) == set(model.channel_names)
    assert set(model.agents) <= model.provisioned  # only provisioned endpoints are agents
    for call in model.calls.values():
        assert call.ringing <= model.provisioned and call.direct <= model.provisioned
        assert not call.agent or call.agent in model.provisioned


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated(), min_size=50, max_size=50))
def test_given_10000_mutated_frames_then_nothing_raises_rejections_are_logged_once_and_invariants_hold(frames):
    model = Model({"cs-en": "Customer Service EN"}, agents=AGENTS)
    rejected = 0
    handler = _Counting()
    logger = logging.getLogger("orchestrator.translate")
    logger.addHandler(handler)
    try:
        for at, msg in enumerate(frames):
            try:
                translate(msg, float(at))
            except MalformedFrame:
                rejected += 1
            event = translate_or_skip(msg, float(at))  # what the AMI loop calls: never raises
            if event is None:
                continue
            for change in model.apply(event):
                if isinstance(change, CallEnded):
                    assert change.summary["duration_seconds"] >= 0 <= change.summary["wait_seconds"]
                if isinstance(change, CallOffered | AgentChanged):
                    assert change.agent in AGENTS
            invariants(model)
        model.apply(ev.ResyncStarted(100))
        model.apply(ev.ResyncCompleted(101))  # nothing listed: every call ends, nothing raises
        invariants(model)
        assert model.calls == {}
    finally:
        logger.removeHandler(handler)
    assert handler.count == rejected  # each rejected frame logged exactly once


class _Counting(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_given_any_text_as_a_raw_frame_then_it_parses_or_is_rejected_as_malformed(raw):
    try:
        parsed = parse_frame(raw)
    except MalformedFrame:
        return
    translate_or_skip(parsed, 0.0)


def test_an_impossible_elapsed_time_in_a_listing_is_rejected_not_turned_into_a_start_before_year_1() -> None:
    # found by the fuzz test: a queue entry Wait of 10^11 s made the resync's call summary raise
    entry = {"Event": "QueueEntry", "Queue": "cs-fi", "Uniqueid": "1796632299.19", "CallerIDNum": "+46701234567",
             "CallerIDName": "Waiting Caller", "Position": "1", "Wait": "100000000000"}
    channel = {"Event": "CoreShowChannel", "Uniqueid": "1796632299.19", "Linkedid": "1796632299.19",
               "Channel": "PJSIP/trunk-00000009", "CallerIDNum": "+46701234567", "Duration": "99999999:00:00"}
    for msg in (entry, channel, {**channel, "Duration": "-1:00:00"}):
        try:
            translate(msg, 1796632300.0)
        except MalformedFrame as exc:
            assert "not a possible elapsed time" in str(exc)
        else:
            raise AssertionError(f"accepted {msg}")
    assert translate({**entry, "Wait": "42"}, 1796632300.0).wait == 42  # type: ignore[union-attr]
