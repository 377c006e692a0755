"""AmiConnection's resync against recorded list answers: live events mid-listing, empty and refused lists."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from panoramisk.message import Message

from orchestrator import events as ev
from orchestrator.ami import RESYNC_ACTIONS, AmiConnection, ResyncFailed
from orchestrator.model import CallEnded, Model
from tests.amifixtures import AGENTS, messages
from tests.support.model import waiting_caller

Answers = dict[str, list[dict[str, str]]]


def recorded_answers() -> Answers:
    """Each resync action's recorded answer (the items share the ActionID of their action)."""
    by_id: dict[str, list[dict[str, str]]] = {}
    for _, msg in messages("resync_lists"):
        by_id.setdefault(msg["ActionID"], []).append(msg)
    return dict(zip(RESYNC_ACTIONS, by_id.values(), strict=True))


def resync(model: Model, answers: Answers,
           during: Callable[[AmiConnection, str], Awaitable[None]] | None = None) -> list[Any]:
    """Run one resync against ``answers``; ``during(conn, action)`` runs while that listing is in flight."""
    changes: list[Any] = []

    async def scenario() -> None:
        async def sink(event: ev.Event) -> None:
            changes.extend(model.apply(event))

        conn = AmiConnection("127.0.0.1", 9, "switchboard", "secret", sink)

        async def action(a: dict[str, Any]) -> Any:
            if during is not None:
                await during(conn, a["Action"])
            answer = answers[a["Action"]]
            return answer if len(answer) > 1 else answer[0]

        conn.action = action  # type: ignore[method-assign]
        await conn.resync()

    asyncio.run(scenario())
    return changes


def live(conn: AmiConnection, *frames: dict[str, str]) -> Awaitable[None]:
    """Deliver live AMI events the way panoramisk does (a handler task each), then let them run."""
    for frame in frames:
        conn.manager.dispatch(Message(frame))
    return asyncio.sleep(0.01)


def test_given_an_agent_who_picks_up_while_the_device_list_is_in_flight_then_they_show_in_use():
    model = Model(agents=AGENTS)

    async def during(conn: AmiConnection, action: str) -> None:
        if action == "DeviceStateList":  # the answer was snapshotted before this change
            await live(conn, {"Event": "DeviceStateChange", "Device": "PJSIP/agent2", "State": "INUSE"})

    resync(model, recorded_answers(), during)
    assert model.agents["agent2"].device_state == "inuse"
    assert model.agents["agent1"].device_state == "not_inuse"


def test_given_a_caller_who_hangs_up_while_the_channel_list_is_in_flight_then_the_call_ends_once():
    answers = recorded_answers()
    channels = [m for m in answers["CoreShowChannels"] if m.get("Event") == "CoreShowChannel"]
    linkedid = channels[0]["Linkedid"]
    model = Model({"cs-fi": "Customer Service FI"}, agents=AGENTS)
    for c in channels:
        model.apply(ev.ChannelCreated(1, c["Uniqueid"], linkedid, c["Channel"], c["CallerIDNum"], c["CallerIDName"]))
    model.apply(ev.CallerJoinedQueue(1, "cs-fi", channels[0]["Uniqueid"], linkedid, "+46701234567", "", 1))

    async def during(conn: AmiConnection, action: str) -> None:
        if action == "CoreShowChannels":
            await live(conn, *({"Event": "Hangup", "Uniqueid": c["Uniqueid"], "Linkedid": linkedid,
                                "Channel": c["Channel"], "Cause": "16"} for c in channels))

    changes = resync(model, answers, during)
    assert [c.summary["call_id"] for c in changes if isinstance(c, CallEnded)] == [linkedid]
    assert model.calls == {} and model.channels == {}


def test_given_no_contacts_then_the_resync_completes_and_every_agent_is_unregistered():
    answers = recorded_answers()
    answers["PJSIPShowContacts"] = [{"Response": "Error", "ActionID": "x", "Message": "No Contacts found"}]
    model = Model(agents=AGENTS)
    model.apply(ev.ContactChanged(1, "agent2", True))
    resync(model, answers)
    assert model.agents["agent2"].registered is False
    assert [c.caller_name for c in model.calls.values()] == ["Waiting Caller"]


def test_given_a_listing_asterisk_refuses_then_the_resync_aborts_and_no_held_call_ends():
    answers = recorded_answers()
    answers["QueueStatus"] = [{"Response": "Error", "ActionID": "x", "Message": "Permission denied"}]
    model = waiting_caller(Model(agents=AGENTS), member="agent9")
    with pytest.raises(ResyncFailed):
        resync(model, answers)
    assert list(model.calls) == ["l1"]
    assert model.agents["agent9"].view()["queues"] == ["cs-en"]
