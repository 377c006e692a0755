"""The presence service with plugins: a status request vetoed or rewritten (the agent sees why), a timed
status giving back the one before it, a wrap-up ended by choosing a status, and the hooks that follow."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from orchestrator.presence_service import PresenceService
from plugins import required_wrapup_code
from switchboard.config import plugin_sections
from switchboard.hookspecs import Rewrite, Veto, hookimpl
from switchboard.plugins import plugin_manager
from switchboard.store import Store
from tests.support.presence_service import T0, seeded_store, service, status_id


class Gatekeeper:
    """Refuses Lunch, turns OffWork into DND."""

    @hookimpl
    def status_change_requested(self, status):
        if status["name"].startswith("Lunch"):
            return Veto("Lunch breaks start at 11:00.")
        if status["name"] == "OffWork":
            return Rewrite("DND", "OffWork is for the end of the day; you are in DND.")
        return None


@pytest.fixture
def store(tmp_path) -> Store:
    return seeded_store(tmp_path)


def choose(svc: PresenceService, store: Store, name: str) -> None:
    asyncio.run(svc.set_status({"agent": "agent1", "status_id": status_id(store, name)}))


def test_given_a_timed_status_then_its_end_gives_back_the_status_before_it_even_after_a_restart(store):
    svc, clock, _, hooks = service(store)
    choose(svc, store, "DND")
    choose(svc, store, "Busy (60 min)")
    assert svc.agents["agent1"].chosen.previous.name == "DND"
    svc, clock, _, hooks = service(store)  # a restarted orchestrator reads it back
    clock.now = T0 + 3600
    asyncio.run(svc.tick())
    chosen = svc.agents["agent1"].chosen
    assert (chosen.status, chosen.kind, chosen.until, chosen.previous) == ("DND", "dnd", None, None)
    assert hooks == [("status_changed", {
        "agent": "agent1", "status": {"id": status_id(store, "DND"), "name": "DND", "kind": "dnd", "until": None},
        "previous": {"id": status_id(store, "Busy (60 min)"), "name": "Busy (60 min)", "kind": "busy",
                     "until": T0 + 3600}})]


def test_given_a_plugin_vetoes_a_status_then_nothing_changes_and_the_agent_sees_why(store):
    svc, _, pages, hooks = service(store, Gatekeeper())
    choose(svc, store, "Lunch (45 min)")
    assert svc.agents["agent1"].chosen.status == "Available"
    assert pages.notices() == [{"reason": "Lunch breaks start at 11:00.", "refused": True}]
    assert pages.sent[-2][1] == "presence" and pages.sent[-2][2]["status"] == "Available"  # the page snaps back
    assert hooks == []
    assert store.list_presence() == {}  # nothing written


def test_given_a_plugin_rewrites_a_status_then_the_agent_gets_that_one_and_is_told(store):
    svc, _, pages, hooks = service(store, Gatekeeper())
    choose(svc, store, "OffWork")
    assert svc.agents["agent1"].chosen.status == "DND"
    assert pages.notices() == [{"reason": "OffWork is for the end of the day; you are in DND.", "refused": False}]
    assert [h for h, _ in hooks] == ["status_changed"]


def test_given_a_plugin_that_fails_or_answers_nonsense_then_the_status_is_applied(store):
    class Broken:
        @hookimpl
        def status_change_requested(self):
            raise RuntimeError("database down")

    class Confused:
        @hookimpl
        def status_change_requested(self):
            return "no"

    for plugin in (Broken(), Confused()):
        svc, _, pages, _ = service(store, plugin)
        choose(svc, store, "DND")
        assert svc.agents["agent1"].chosen.status == "DND" and pages.notices() == []
        choose(svc, store, "Available")


def test_choosing_a_status_ends_a_wrapup_and_the_plugins_hear_both_ends(store):
    svc, clock, _, hooks = service(store)
    asyncio.run(svc.start_wrapup("agent1", "cs-en", "1800000000.7"))
    assert svc.agents["agent1"].wrapup is not None
    clock.now += 5
    choose(svc, store, "Busy (60 min)")
    state = svc.agents["agent1"]
    assert state.wrapup is None and state.chosen.status == "Busy (60 min)"
    assert hooks[0] == ("wrapup_started", {"agent": "agent1", "call_id": "1800000000.7", "queue": "cs-en",
                                           "until": T0 + 30})
    assert ("wrapup_finished", {"agent": "agent1", "call_id": "1800000000.7", "code": "", "reason": "status"}) \
        in hooks


def test_given_a_wrapup_that_runs_out_then_the_plugins_hear_time(store):
    svc, clock, _, hooks = service(store)
    asyncio.run(svc.start_wrapup("agent1", "cs-en", "c2"))
    clock.now += 31
    asyncio.run(svc.tick())
    assert hooks[-1] == ("wrapup_finished", {"agent": "agent1", "call_id": "c2", "code": "", "reason": "time"})


def test_given_a_required_code_then_the_builtin_plugin_keeps_the_agent_in_wrapup_until_the_code(store):
    svc, _, pages, hooks = service(store, required_wrapup_code)
    asyncio.run(svc.start_wrapup("agent1", "sales", "c3"))
    choose(svc, store, "DND")
    assert svc.agents["agent1"].wrapup is not None and svc.agents["agent1"].chosen.status == "Available"
    assert pages.notices() == [{"reason": required_wrapup_code.REASON, "refused": True}]
    asyncio.run(svc.wrapup_code({"agent": "agent1", "call_id": "c3", "code": "Sold"}))
    assert svc.agents["agent1"].wrapup is None
    assert hooks[-1] == ("wrapup_finished", {"agent": "agent1", "call_id": "c3", "code": "Sold", "reason": "code"})
    choose(svc, store, "DND")
    assert svc.agents["agent1"].chosen.status == "DND"


async def through_hooks(svc: PresenceService, sections: dict, calls: list[tuple[str, dict]]) -> None:
    """The built-in call_statuses plugin hears ``calls`` (hook, arguments) as the dispatcher's lane calls
    them, acting through a PresenceControl on this loop."""
    from orchestrator.presence_control import PresenceControl
    from plugins import call_statuses
    from switchboard.plugins import safe_call

    pm = plugin_manager(plugin_sections(sections), load_entrypoints=False)
    pm.register(call_statuses, name="call_statuses")
    pm.provide("presence", PresenceControl(svc, asyncio.get_running_loop()))
    for hook, kwargs in calls:
        await safe_call(pm, hook, 1.0, **kwargs)
        await asyncio.sleep(0.05)  # the request it made runs on this loop


def summary(disposition: str, queue: str = "cs-en", direction: str = "inbound") -> dict[str, Any]:
    return {"call_id": "1800000000.11", "agent": "agent1", "queue": queue, "disposition": disposition,
            "direction": direction}


def test_given_a_queue_call_then_in_a_call_while_it_rings_wrapup_after_and_then_the_status_before(store):
    svc, clock, pages, _ = service(store)
    choose(svc, store, "DND")  # the status before the call
    asyncio.run(through_hooks(svc, {}, [("call_offered", {"agent": "agent1", "call": {"call_id": "1800000000.11"}})]))
    state = svc.agents["agent1"]
    assert state.system.name == "In a Call" and state.chosen.status == "DND"
    assert pages.sent[-1][1] == "presence" and pages.sent[-1][2]["system"]["name"] == "In a Call"
    asyncio.run(through_hooks(svc, {}, [("call_ended", {"summary": summary("answered")})]))
    state = svc.agents["agent1"]
    assert state.system is None and state.wrapup is not None and state.wrapup.until == T0 + 30
    clock.now += 31
    asyncio.run(svc.tick())
    state = svc.agents["agent1"]
    assert (state.wrapup, state.system, state.chosen.status) == (None, None, "DND")


def test_given_an_unanswered_call_then_no_wrapup_and_the_agents_own_status_at_once(store):
    svc, _, _, _ = service(store)
    asyncio.run(through_hooks(svc, {}, [
        ("call_offered", {"agent": "agent1", "call": {"call_id": "c"}}),
        ("call_withdrawn", {"agent": "agent1", "call_id": "c", "reason": "answered elsewhere"})]))
    assert (svc.agents["agent1"].system, svc.agents["agent1"].wrapup) == (None, None)
    asyncio.run(through_hooks(svc, {}, [
        ("call_placed", {"agent": "agent1", "call": {"call_id": "d"}}),
        ("call_ended", {"summary": summary("not answered", queue="", direction="outbound")})]))
    assert (svc.agents["agent1"].system, svc.agents["agent1"].wrapup) == (None, None)


def test_wrapup_after_an_outbound_call_only_where_the_admin_configured_it(store):
    svc, _, _, _ = service(store)
    outbound = [("call_placed", {"agent": "agent1", "call": {"call_id": "d"}}),
                ("call_ended", {"summary": summary("answered", queue="", direction="outbound")})]
    asyncio.run(through_hooks(svc, {}, outbound))
    assert (svc.agents["agent1"].system, svc.agents["agent1"].wrapup) == (None, None)
    asyncio.run(through_hooks(svc, {"call_statuses": {"outbound_wrapup_seconds": 20}}, outbound))
    wrapup = svc.agents["agent1"].wrapup
    assert wrapup is not None and (wrapup.until, wrapup.codes, wrapup.required) == (T0 + 20, (), False)
    paused = svc.paused_queues()["agent1"]
    assert paused == {"cs-en", "sales"}  # wrap-up pauses every queue


def test_a_system_status_that_takes_no_pool_calls_pauses_the_queues_with_its_name(store):
    svc, _, _, _ = service(store)
    asyncio.run(svc.set_system("agent1", "In a Case", "offwork"))
    view = p_view(svc)
    assert [q["reason"] for q in view["queues"]] == ["In a Case", "In a Case"]
    assert view["status"] == "Available"  # the agent's own, kept
    asyncio.run(svc.set_system("agent1", None))
    assert [q["reason"] for q in p_view(svc)["queues"]] == ["", ""]


def p_view(svc: PresenceService) -> dict[str, Any]:
    from switchboard import presence as p

    return p.view(svc.agents["agent1"], svc.clock())
