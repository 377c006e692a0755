"""Presence enforced in a real Asterisk running asterisk-conf/: queue pauses with reasons, expiry of a
timed status (time injected), and [sb-agent-direct] refusing a DND agent's direct calls (a carrier's
customer calling the agent's work number over the trunk, from SIPp)."""

from __future__ import annotations

import asyncio
import re

import pytest
from panoramisk import Manager

from control.stack import seed_demo
from orchestrator.presence_service import PresenceService
from orchestrator.provisioning import write_includes, write_work_numbers
from switchboard.store import Store, upgrade
from tests.support.stack import member_line

pytestmark = pytest.mark.integration
T0 = 1_800_000_000.0
AGENT3_WORK_NUMBER = "+358501230003"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def store(asterisk, tmp_path_factory) -> Store:
    url = f"sqlite:///{tmp_path_factory.mktemp('presence') / 'sb.db'}"
    upgrade(url)
    s = Store(url)
    seed_demo(s, "presence-it-secret")
    s.update_user("agent3", work_number=AGENT3_WORK_NUMBER)
    write_includes(asterisk.generated, s.list_agents())
    write_work_numbers(asterisk.generated, s.list_agents())
    asterisk.cli("module reload res_pjsip.so")
    asterisk.cli("queue reload members")
    asterisk.cli("dialplan reload")
    return s


async def manager(asterisk) -> Manager:
    m = Manager(host="127.0.0.1", port=asterisk.ports.ami, username="switchboard",
                secret=asterisk.creds.ami_secret, ping_delay=0)
    await m.connect()
    return m


def status_id(store: Store, name: str) -> int:
    return next(s.id for s in store.list_statuses() if s.name == name)


async def direct_call(m: Manager, customers, number: str) -> tuple[list[str], int | None]:
    """A customer calls an agent's work ``number`` over the trunk; the channels Asterisk dialled for it
    and the final SIP status the customer got (486: busy)."""
    dialed: list[str] = []
    m.register_event("DialBegin", lambda _m, msg: dialed.append(msg.get("DestChannel", "")))
    call = customers.call(number, "+358401239999", "Direct Caller")
    outcome = await asyncio.to_thread(call.wait, 15)
    await asyncio.sleep(0.3)
    return dialed, outcome.final_status


def test_status_pool_and_queue_switches_pause_in_asterisk_and_timed_status_expires(asterisk, store):
    async def scenario() -> None:
        m = await manager(asterisk)
        clock = Clock()
        svc = PresenceService(store, m.send_action, None, clock=clock)
        try:
            await svc.reload()
            assert "paused" not in member_line(asterisk, "agent1", "cs-en")

            await svc.set_status({"agent": "agent1", "status_id": status_id(store, "DND (30 min)")})
            line = member_line(asterisk, "agent1", "cs-en")
            assert re.search(r"paused:DND", line), line
            assert "paused:DND" in member_line(asterisk, "agent1", "sales")
            assert "dnd" in asterisk.cli("database get switchboard/presence agent1").stdout

            clock.now += 30 * 60 - 1
            await svc.tick()
            assert "paused:DND" in member_line(asterisk, "agent1", "cs-en")
            clock.now += 1  # the 30 minutes are over: Available again
            await svc.tick()
            assert "paused" not in member_line(asterisk, "agent1", "cs-en")
            assert "available" in asterisk.cli("database get switchboard/presence agent1").stdout
            assert (await asyncio.to_thread(store.get_presence, "agent1")).kind == "available"

            await svc.set_pool_calls({"agent": "agent1", "on": False})
            assert "paused:pool calls off" in member_line(asterisk, "agent1", "cs-fi")
            await svc.set_pool_calls({"agent": "agent1", "on": True})
            await svc.set_queue({"agent": "agent1", "queue": "sales", "active": False})
            assert "paused:queue off" in member_line(asterisk, "agent1", "sales")
            assert "paused" not in member_line(asterisk, "agent1", "cs-en")

            # Asterisk forgot everything (a members reload): the next resync puts it back.
            asterisk.cli("queue reload members")
            await svc.reload()
            assert "paused:queue off" in member_line(asterisk, "agent1", "sales")
            await svc.set_queue({"agent": "agent1", "queue": "sales", "active": True})
            assert "paused" not in member_line(asterisk, "agent1", "sales")

            await svc.set_status({"agent": "nobody", "status_id": 1})  # rejected, logged
            assert "nobody" not in asterisk.cli("database show switchboard/presence").stdout
        finally:
            m.close()

    asyncio.run(scenario())


def test_wrapup_pauses_in_every_queue_until_its_time_is_over(asterisk, store):
    async def scenario() -> None:
        m = await manager(asterisk)
        clock = Clock()
        store.set_queue_wrapup("sales", 20, [], False)
        svc = PresenceService(store, m.send_action, None, clock=clock)
        try:
            await svc.reload()
            await svc.start_wrapup("agent2", "sales", "1800000000.1")
            assert "paused:wrap-up" in member_line(asterisk, "agent2", "cs-en")
            clock.now += 20
            await svc.tick()
            assert "paused" not in member_line(asterisk, "agent2", "cs-en")
        finally:
            store.set_queue_wrapup("sales", 0, [], False)
            m.close()

    asyncio.run(scenario())


def test_direct_call_to_a_dnd_agent_is_refused_without_ringing_them(asterisk, store, trunk_customers):
    async def scenario() -> None:
        m = await manager(asterisk)
        svc = PresenceService(store, m.send_action, None, clock=Clock())
        try:
            await svc.reload()
            await svc.set_status({"agent": "agent3", "status_id": status_id(store, "DND")})
            dialed, status = await direct_call(m, trunk_customers, AGENT3_WORK_NUMBER)
            assert not [c for c in dialed if c.startswith("PJSIP/agent3")], dialed
            assert status == 486, status  # the customer hears busy

            await svc.set_status({"agent": "agent3", "status_id": status_id(store, "OffWork")})
            _dialed, status = await direct_call(m, trunk_customers, AGENT3_WORK_NUMBER)
            # an OffWork agent takes direct calls: not refused as busy (here not registered: the dial fails)
            assert status != 486, status
            await svc.set_status({"agent": "agent3", "status_id": status_id(store, "Available")})
        finally:
            m.close()

    asyncio.run(scenario())
