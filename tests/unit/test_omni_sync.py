"""The orchestrator's side of the Omni-Channel sync: the poller's reports (``presence_omni``) change the
agent's status, voice queues and "In a Case" through the presence service, on a real SQLite store."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.omni_sync import OmniSync
from switchboard.store import Store
from tests.support.presence_service import seeded_store, service


@pytest.fixture
def store(tmp_path) -> Store:
    s = seeded_store(tmp_path)
    s.upsert_status("OffWork", "offwork", None)
    for omni, status, kind, direction in (("Available_Voice", "Available", "online", "both"),
                                          ("Busy", "Busy (60 min)", "busy", "both"),
                                          ("Lunch", "Lunch (45 min)", "busy", "both"),
                                          ("Busy", "In a Call", "busy", "to_omni")):
        s.upsert_omni_mapping(omni if status != "In a Call" else "Busy_Call", omni_status_id="", omni_label=omni,
                              omni_kind=kind, status=status, direction=direction)
    return s


def report(sync: OmniSync, status: str | None, workload: float = 0) -> None:
    asyncio.run(sync.report({"agent": "agent1", "status": status, "workload": workload}))


def queues(store: Store) -> dict[str, bool]:
    """agent1's own switch per queue, as stored."""
    return {m.queue.name: m.active for a in store.list_agents() if a.sip_username == "agent1" for m in a.memberships}


def test_the_agent_choosing_offline_switches_queues_off_and_coming_back_switches_them_on(store):
    svc, _, _, hooks = service(store)
    sync = OmniSync(svc, store)
    report(sync, "Available_Voice")
    asyncio.run(sync.logout({"agent": "agent1"}))
    report(sync, None)
    state = svc.agents["agent1"]
    assert (state.chosen.status, state.chosen.kind) == ("OffWork", "offwork")
    assert queues(store) == {"cs-en": False, "sales": False}
    assert svc.paused_queues()["agent1"] == {"cs-en", "sales"}
    report(sync, "Lunch")
    assert svc.agents["agent1"].chosen.status == "Lunch (45 min)"
    assert queues(store) == {"cs-en": True, "sales": True}
    assert ("status_changed" in [h for h, _ in hooks])


def test_only_linked_agents_are_polled(store):
    store.set_sf_user("agent1", "005000000000001AAA")
    assert store.linked_agents() == {"agent1": "005000000000001AAA"}
    store.set_sf_user("agent1", "")
    assert store.linked_agents() == {}


def test_a_browser_closed_leaves_the_queues_on(store):
    svc, _, _, _ = service(store)
    sync = OmniSync(svc, store, voice_queues=("cs-en",))
    report(sync, "Available_Voice")
    report(sync, None)  # no logout from the widget first
    assert queues(store) == {"cs-en": True, "sales": True}
    assert svc.agents["agent1"].chosen.status == "Available"


def test_only_the_configured_voice_queues_follow_omni(store):
    svc, _, _, _ = service(store)
    sync = OmniSync(svc, store, voice_queues=("cs-en",))
    report(sync, "Available_Voice")
    asyncio.run(sync.logout({"agent": "agent1"}))
    report(sync, None)
    assert queues(store) == {"cs-en": False, "sales": True}


def test_the_omni_status_switchboard_wrote_for_in_a_call_is_not_read_back(store):
    svc, _, _, _ = service(store)
    sync = OmniSync(svc, store)
    report(sync, "Available_Voice")
    asyncio.run(svc.set_system("agent1", "In a Call"))
    store.upsert_omni_mapping("Busy_Call", status="In a Call", omni_kind="busy", direction="to_omni")
    sync.loaded_at = float("-inf")
    report(sync, "Busy_Call")  # the component set it: the agent's own status stays
    assert svc.agents["agent1"].chosen.status == "Available"


def test_a_workload_at_the_limit_shows_in_a_case_through_the_builtin_plugin_until_it_drops(store):
    from orchestrator.presence_control import PresenceControl
    from plugins import in_a_case
    from switchboard.plugins import plugin_manager, safe_call

    svc, _, pages, _ = service(store)

    async def scenario() -> list[tuple[set[str], str | None]]:
        pm = plugin_manager(load_entrypoints=False)
        pm.register(in_a_case, name="in_a_case")
        pm.provide("presence", PresenceControl(svc, asyncio.get_running_loop()))
        pending: list[dict] = []
        sync = OmniSync(svc, store, workload_limit=2, hook=lambda name, **kw: pending.append(kw))
        seen = []
        for workload in (1, 2, 3, 1):
            await sync.report({"agent": "agent1", "status": "Available_Voice", "workload": workload})
            for kwargs in pending:  # the dispatcher's hook lane
                await safe_call(pm, "omni_changed", 1.0, **kwargs)
            pending.clear()
            await asyncio.sleep(0.05)
            state = svc.agents["agent1"]
            seen.append((svc.paused_queues()["agent1"], state.system.name if state.system else None))
        return seen

    assert asyncio.run(scenario()) == [(set(), None), ({"cs-en", "sales"}, "In a Case"),
                                       ({"cs-en", "sales"}, "In a Case"), (set(), None)]
    assert any(d.get("system") and d["system"]["name"] == "In a Case" for _, e, d in pages.sent if e == "presence")


def test_a_malformed_report_is_refused_and_logged(store, caplog):
    svc, _, _, _ = service(store)
    sync = OmniSync(svc, store)
    for bad in ({"agent": "nobody", "status": "Busy"}, {"agent": "agent1", "status": ["x"]},
                {"agent": "agent1", "status": "Busy", "workload": "lots"}):
        asyncio.run(sync.report(bad))
    assert caplog.text.count("rejected presence_omni") == 3
    assert svc.agents["agent1"].chosen.status == "Available"
