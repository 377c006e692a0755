"""The mini dashboard's figures: a Model built from orchestrator events, then queue_stats."""

from __future__ import annotations

import asyncio
from typing import Any

from orchestrator import events as ev
from orchestrator.dashboard import DashboardService, agent_payload, queue_stats
from orchestrator.model import Model

T0 = 1_700_000_000.0


def model_with(*events: ev.Event) -> Model:
    model = Model({"cs-en": "Customer Service EN", "sales": "Sales"}, agents={"a1", "a2", "a3"})
    for event in events:
        model.apply(event)
    return model


def member(agent: str, queue: str, paused: bool = False, in_call: bool = False) -> ev.QueueMemberUpdated:
    return ev.QueueMemberUpdated(T0, queue, agent, paused, "", in_call, 0)


def caller(linkedid: str, queue: str, at: float) -> list[ev.Event]:
    return [ev.ChannelCreated(at, linkedid, linkedid, f"Local/x-{linkedid};1", "+3584000", "C"),
            ev.CallerJoinedQueue(at, queue, linkedid, linkedid, "+3584000", "C", 1)]


def team() -> list[ev.Event]:
    return [member("a1", "cs-en"), ev.ContactChanged(T0, "a1", True), ev.DeviceStateChanged(T0, "a1", "not_inuse"),
            member("a2", "cs-en", paused=True), ev.ContactChanged(T0, "a2", True),
            member("a2", "sales", paused=True),
            member("a3", "cs-en"), ev.ContactChanged(T0, "a3", False)]


def test_given_one_free_one_paused_one_offline_agent_then_one_serves_and_the_queue_is_empty():
    row = queue_stats(model_with(*team()), T0 + 5)["cs-en"]
    assert row["label"] == "Customer Service EN"
    assert (row["members"], row["serving"], row["free"], row["active"]) == (3, 1, 1, 0)
    assert (row["waiting"], row["max_wait_seconds"], row["waiting_since"]) == (0, 0, None)


def test_given_two_waiting_callers_then_queue_length_is_two_and_max_wait_is_the_oldest():
    model = model_with(*team(), *caller("1.1", "cs-en", T0 + 10), *caller("2.1", "cs-en", T0 + 30))
    row = queue_stats(model, T0 + 42.7)["cs-en"]
    assert row["waiting"] == 2
    assert row["max_wait_seconds"] == 32
    assert row["waiting_since"] == T0 + 10
    assert queue_stats(model, T0 + 50)["cs-en"]["max_wait_seconds"] == 40
    assert queue_stats(model, T0 + 50)["sales"]["waiting"] == 0


def test_given_an_answered_call_then_the_agent_is_active_and_the_call_no_longer_waits():
    model = model_with(*team(), *caller("1.1", "cs-en", T0 + 10),
                       ev.AgentRinging(T0 + 11, "cs-en", "a1", "1.1", "9.9"),
                       ev.AgentConnected(T0 + 14, "cs-en", "a1", "1.1", 4),
                       ev.DeviceStateChanged(T0 + 14, "a1", "inuse"))
    row = queue_stats(model, T0 + 20)["cs-en"]
    assert (row["waiting"], row["max_wait_seconds"], row["active_calls"]) == (0, 0, 1)
    assert (row["serving"], row["free"], row["active"]) == (1, 0, 1)


def test_given_a_caller_who_hung_up_then_nobody_waits():
    model = model_with(*team(), *caller("1.1", "cs-en", T0 + 10),
                       ev.CallerAbandoned(T0 + 20, "cs-en", "1.1", "1.1", 10),
                       ev.CallerLeftQueue(T0 + 20, "cs-en", "1.1", "1.1"))
    assert queue_stats(model, T0 + 21)["cs-en"]["waiting"] == 0
    model.apply(ev.ChannelHungUp(T0 + 21, "1.1", "1.1", "Local/x-1.1;1", 16))
    assert model.calls == {}
    assert queue_stats(model, T0 + 22)["cs-en"]["waiting"] == 0


def test_given_an_agent_then_the_payload_holds_only_their_queues():
    model = model_with(*team())
    stats = queue_stats(model, T0)
    assert [r["queue"] for r in agent_payload(stats, ["cs-en"], T0)["queues"]] == ["cs-en"]
    assert [r["label"] for r in agent_payload(stats, ["sales", "cs-en"], T0)["queues"]] == \
        ["Customer Service EN", "Sales"]


class FakeNotifier:
    """Records emits instead of sending them through Redis."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def to_agent(self, agent: str, event: str, data: dict[str, Any]) -> None:
        self.sent.append((agent, event, data))


def test_service_emits_each_agent_their_queues_once_then_only_on_change_or_request():
    now = [T0 + 100]
    model = model_with(*team(), *caller("1.1", "cs-en", T0 + 90))
    notifier = FakeNotifier()
    service = DashboardService(model, notifier, clock=lambda: now[0])  # type: ignore[arg-type]

    asyncio.run(service.tick())
    first = {agent: data for agent, event, data in notifier.sent if event == "queue_stats"}
    assert set(first) == {"a1", "a2", "a3"}
    assert [r["queue"] for r in first["a2"]["queues"]] == ["cs-en", "sales"]
    assert [r["queue"] for r in first["a1"]["queues"]] == ["cs-en"]
    assert first["a1"]["queues"][0]["max_wait_seconds"] == 10

    notifier.sent.clear()
    now[0] += 1  # the wait ticks by itself: no emit
    asyncio.run(service.tick())
    assert notifier.sent == []

    for event in caller("2.1", "sales", now[0]):
        model.apply(event)
    asyncio.run(service.tick())
    assert [agent for agent, _, _ in notifier.sent] == ["a2"]  # only sales' member hears of it

    notifier.sent.clear()
    asyncio.run(service.refresh({"command": "dashboard_refresh", "agent": "a1"}))
    assert [(a, e) for a, e, _ in notifier.sent] == [("a1", "queue_stats")]
    asyncio.run(service.refresh({"command": "dashboard_refresh", "agent": 5}))
    assert len(notifier.sent) == 1


def test_calls_leaving_the_model_are_counted_answered_or_abandoned_today():
    now = [T0 + 100]
    model = model_with(*team(), *caller("1.1", "cs-en", T0 + 90), *caller("2.1", "cs-en", T0 + 91))
    service = DashboardService(model, FakeNotifier(), clock=lambda: now[0])  # type: ignore[arg-type]
    asyncio.run(service.tick())
    model.apply(ev.AgentConnected(T0 + 101, "cs-en", "a1", "1.1", 11))
    asyncio.run(service.tick())
    for linkedid in ("1.1", "2.1"):
        model.apply(ev.ChannelHungUp(T0 + 120, linkedid, linkedid, f"Local/x-{linkedid};1", 16))
    now[0] = T0 + 121
    asyncio.run(service.tick())
    row = service.sent["a1"][0]
    assert (row["answered_today"], row["abandoned_today"], row["waiting"]) == (1, 1, 0)
