"""Routing hand-off and resync against a real Asterisk running asterisk-conf/ (no orchestrator process);
the callers come over the trunk from SIPp (tests/support/sipp.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
from panoramisk import Manager

from orchestrator import events as ev
from orchestrator.ami import AmiConnection
from orchestrator.ari import AriClient
from orchestrator.model import CallEnded, Model
from orchestrator.routing import Router
from switchboard.hookspecs import hookimpl
from switchboard.plugins import plugin_manager
from tests.amifixtures import AGENTS

pytestmark = pytest.mark.integration
QUEUES = {"cs-en", "cs-fi", "sales"}


async def ami(asterisk) -> Manager:
    m = Manager(host="127.0.0.1", port=asterisk.ports.ami, username="switchboard",
                secret=asterisk.creds.ami_secret, ping_delay=0)
    await m.connect()
    return m


async def call_and_see_queue(asterisk, customers, number: str = "+358401234567") -> tuple[str, float]:
    """A customer calls Customer Service EN's number; the queue the call joined and how long it took."""
    m = await ami(asterisk)
    joined: asyncio.Future = asyncio.get_running_loop().create_future()
    m.register_event("QueueCallerJoin", lambda _m, msg: msg["CallerIDNum"] != number or joined.done()
                     or joined.set_result(msg["Queue"]))
    t0 = time.monotonic()
    call = customers.call("+35891000001", number, "Test")
    try:
        queue = await asyncio.wait_for(joined, 10)
        return queue, time.monotonic() - t0
    finally:
        await asyncio.to_thread(call.stop)
        m.close()


class ToSales:
    @hookimpl
    def route_call(self, call):
        return "sales" if call["caller_number"].startswith("+358") else None


class Broken:
    @hookimpl
    def route_call(self, call):
        raise RuntimeError("plugin bug")


class Slow:
    @hookimpl
    def route_call(self, call):
        time.sleep(3)
        return "sales"


async def with_router(asterisk, customers, plugins, timeout=0.5):
    pm = plugin_manager(load_entrypoints=False)
    for p in plugins:
        pm.register(p)
    router: Router | None = None

    async def handler(msg):
        await router.on_ari(msg)

    client = AriClient(f"http://127.0.0.1:{asterisk.ports.http}", "switchboard", asterisk.creds.ari_password,
                       "switchboard", handler)
    router = Router(client, pm, timeout, QUEUES)
    task = asyncio.create_task(client.run())
    await asyncio.wait_for(client.connected.wait(), 10)
    try:
        return await call_and_see_queue(asterisk, customers)
    finally:
        task.cancel()
        await client.close()
        await asyncio.sleep(0.2)


def test_given_no_orchestrator_then_the_call_reaches_the_dialplan_queue(asterisk, trunk_customers):
    queue, _ = asyncio.run(call_and_see_queue(asterisk, trunk_customers))
    assert queue == "cs-en"


def test_given_a_routing_plugin_then_the_call_goes_to_its_queue(asterisk, trunk_customers):
    queue, _ = asyncio.run(with_router(asterisk, trunk_customers, [ToSales()]))
    assert queue == "sales"


def test_given_a_failing_plugin_then_the_next_plugin_still_routes(asterisk, trunk_customers):
    queue, _ = asyncio.run(with_router(asterisk, trunk_customers, [ToSales(), Broken()]))
    assert queue == "sales"


def test_given_a_slow_plugin_then_the_deadline_sends_the_call_down_the_default_path(asterisk, trunk_customers):
    queue, took = asyncio.run(with_router(asterisk, trunk_customers, [Slow()], timeout=0.3))
    assert queue == "cs-en"
    assert took < 2.5


def test_given_a_waiting_caller_then_a_fresh_orchestrator_resyncs_it_and_ends_it_once(asterisk, trunk_customers):
    async def scenario():
        call = trunk_customers.call("+35891000002", "+46701234567", "Waiting Caller")
        await asyncio.sleep(1.5)  # the caller now waits in cs-fi; no one is watching
        model = Model({"cs-fi": "Customer Service FI"}, agents=AGENTS)
        changes = []

        async def sink(event: ev.Event) -> None:
            changes.extend(model.apply(event))

        conn = AmiConnection("127.0.0.1", asterisk.ports.ami, "switchboard", asterisk.creds.ami_secret, sink)
        await conn.connect()
        for _ in range(100):
            if any(c.queue == "cs-fi" for c in model.calls.values()):
                break
            await asyncio.sleep(0.05)
        held = [c for c in model.calls.values() if c.queue == "cs-fi"]
        await asyncio.to_thread(call.hang_up)
        for _ in range(100):
            if any(isinstance(c, CallEnded) for c in changes):
                break
            await asyncio.sleep(0.05)
        conn.close()
        return held, [c.summary for c in changes if isinstance(c, CallEnded)]

    held, ended = asyncio.run(scenario())
    assert len(held) == 1
    assert held[0].caller_number == "+46701234567"
    assert held[0].caller_name == "Waiting Caller"
    assert len(ended) == 1
    assert ended[0]["disposition"] == "not answered"
    assert ended[0]["queue_label"] == "Customer Service FI"
    assert ended[0]["wait_seconds"] >= 1


def ami_sessions(asterisk) -> set[str]:
    """The file descriptors of the AMI sessions connected now (``manager show connected``)."""
    rows = asterisk.cli("manager show connected").stdout.splitlines()
    return {row.split()[4] for row in rows if row.split()[:1] == ["switchboard"]}


async def until(predicate, timeout: float = 10) -> None:
    """Wait until ``predicate()`` is true (poll); fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_given_a_dropped_ami_session_then_after_reconnecting_the_call_that_ended_meanwhile_ends_once(
        asterisk, redis_url, trunk_customers):
    from orchestrator.jobs import JobQueue

    async def scenario():
        m = await ami(asterisk)
        own_sessions = ami_sessions(asterisk)
        joined: dict[str, dict] = {}
        m.register_event("QueueCallerJoin", lambda _m, msg: joined.setdefault(msg["CallerIDNum"], dict(msg)))
        calls = {number: trunk_customers.call("+35891000002", number, name)
                 for number, name in (("+46701110001", "Stays Waiting"), ("+46701110002", "Hangs Up Meanwhile"))}
        await until(lambda: len(joined) == 2)

        model = Model({"cs-fi": "Customer Service FI"}, agents=AGENTS)
        applied: list[tuple[ev.Event, list]] = []
        jobs = JobQueue(redis_url, f"resync-test-{time.monotonic_ns()}")

        enqueued: list[str] = []

        async def sink(event: ev.Event) -> None:
            changes = model.apply(event)
            applied.append((event, changes))
            for change in changes:
                if isinstance(change, CallEnded):
                    await jobs.call_ended(change.summary)
                    enqueued.append(change.summary["call_id"])

        def settled() -> bool:
            """No call left and every ended call's enqueue done (it runs after the model's change)."""
            return not model.calls and len(enqueued) == sum(
                isinstance(c, CallEnded) for _, changes in applied for c in changes)

        def completed() -> int:
            return sum(isinstance(e, ev.ResyncCompleted) for e, _ in applied)

        conn = AmiConnection("127.0.0.1", asterisk.ports.ami, "switchboard", asterisk.creds.ami_secret, sink,
                             reconnect_timeout=3)
        await conn.connect()
        await until(lambda: completed() == 1)
        held_before = sorted(c.caller_number for c in model.calls.values())
        [session] = ami_sessions(asterisk) - own_sessions
        asterisk.cli(f"manager kick session {session}")
        await until(lambda: not conn.booted.is_set())  # the orchestrator's session is gone
        gone = joined["+46701110002"]
        assert gone["Channel"] == await asyncio.to_thread(calls["+46701110002"].channel)
        await asyncio.to_thread(calls["+46701110002"].hang_up)  # nobody watching now
        await until(lambda: completed() == 2, timeout=15)  # reconnected and resynced
        held_after = sorted(c.caller_number for c in model.calls.values())
        ended_by_resync = [c.summary for e, changes in applied if isinstance(e, ev.ResyncCompleted)
                           for c in changes if isinstance(c, CallEnded)]

        await asyncio.to_thread(calls["+46701110001"].hang_up)
        await until(settled)
        ended = [c.summary for _, changes in applied for c in changes if isinstance(c, CallEnded)]
        job_ids = sorted(jobs.queue.job_ids)
        conn.close()
        m.close()
        return held_before, held_after, ended_by_resync, ended, job_ids, gone["Linkedid"]

    held_before, held_after, ended_by_resync, ended, job_ids, gone_id = asyncio.run(scenario())
    assert held_before == ["+46701110001", "+46701110002"]
    assert held_after == ["+46701110001"]
    assert [(s["call_id"], s["caller_name"], s["disposition"]) for s in ended_by_resync] == \
        [(gone_id, "Hangs Up Meanwhile", "not answered")]
    assert ended_by_resync[0]["queue_label"] == "Customer Service FI"
    assert [s["caller_number"] for s in ended] == ["+46701110002", "+46701110001"]  # one each, no false ones
    assert len(job_ids) == 2 and len({s["call_id"] for s in ended}) == 2


class Dies:
    """A routing plugin of an orchestrator that dies before it answers (it never returns in time)."""

    @hookimpl
    def route_call(self, call):
        time.sleep(30)


def test_given_an_orchestrator_that_dies_while_routing_then_its_successor_hands_the_caller_to_the_queue(
        asterisk, trunk_customers):
    async def scenario():
        pm = plugin_manager(load_entrypoints=False)
        pm.register(Dies())

        async def nothing(msg):  # the dead orchestrator: the StasisStart reaches it, no answer ever comes
            return None

        first = AriClient(f"http://127.0.0.1:{asterisk.ports.http}", "switchboard", asterisk.creds.ari_password,
                          "switchboard", nothing)
        task = asyncio.create_task(first.run())
        await asyncio.wait_for(first.connected.wait(), 10)
        m = await ami(asterisk)
        joined: asyncio.Future = asyncio.get_running_loop().create_future()
        m.register_event("QueueCallerJoin", lambda _m, msg: joined.done() or joined.set_result(msg["Queue"]))
        call = trunk_customers.call("+35891000003", "+358401234000", "Left In Routing")  # answered in the queue
        await asyncio.sleep(1.0)
        task.cancel()  # the orchestrator dies with the caller in Stasis()
        await first.close()
        await asyncio.sleep(0.5)
        assert not joined.done()
        router: Router | None = None

        async def handler(msg):
            await router.on_ari(msg)

        async def connected():
            await router.recover(settle=0.2)

        second = AriClient(f"http://127.0.0.1:{asterisk.ports.http}", "switchboard", asterisk.creds.ari_password,
                           "switchboard", handler, on_connect=connected)
        router = Router(second, pm, 0.5, QUEUES)
        task = asyncio.create_task(second.run())
        try:
            return await asyncio.wait_for(joined, 10)
        finally:
            task.cancel()
            await second.close()
            await asyncio.to_thread(call.stop)
            m.close()

    assert asyncio.run(scenario()) == "sales"  # the dialplan's queue for +35891000003
