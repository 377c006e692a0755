"""Dispatcher: each model change becomes the right emits, jobs and hooks; JobQueue enqueues a call's job once."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from rq.job import JobStatus

from orchestrator import model as m
from orchestrator.dispatcher import Dispatcher
from orchestrator.jobs import JobQueue
from switchboard.contracts import FINISH_CALL, WARMUP_KEY, finish_call_job_id, offer_key
from switchboard.hookspecs import hookimpl
from switchboard.plugins import plugin_manager

CALL = {"call_id": "1700000000.42", "caller_number": "+358401234567", "caller_name": "Maija <b>V</b>",
        "queue": "cs-en", "queue_label": "Customer Service EN", "direction": "inbound", "offered_at": 1.0,
        "rang_at": 2.0}
SUMMARY = {"call_id": "1700000000.42", "agent": "agent1", "disposition": "answered", "duration_seconds": 42,
           "caller_number": "+358401234567"}


class Emits:
    """Records what the notifier would emit; ``broken`` makes emits to that agent fail."""

    def __init__(self, broken: str = "") -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.broken = broken

    async def to_agent(self, agent: str, event: str, data: dict[str, Any]) -> None:
        if agent == self.broken:
            raise ConnectionError("redis went away")
        self.sent.append((f"agent:{agent}", event, data))

    async def to_board(self, event: str, data: dict[str, Any]) -> None:
        self.sent.append(("board", event, data))


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def call_offered(self, agent, call):
        self.calls.append(("call_offered", {"agent": agent, "call": call}))

    @hookimpl
    def call_ended(self, summary):
        self.calls.append(("call_ended", summary))

    @hookimpl
    def agent_changed(self, agent, view):
        self.calls.append(("agent_changed", {"agent": agent, "view": view}))


class Failing:
    @hookimpl
    def call_ended(self, summary):
        raise RuntimeError("plugin bug")

    @hookimpl
    def call_offered(self, agent, call):
        raise RuntimeError("plugin bug")


@pytest.fixture
def jobs(redis_url: str) -> JobQueue:
    return JobQueue(redis_url, f"test-{uuid.uuid4().hex[:8]}")


def dispatcher(jobs: JobQueue, emits: Emits, *plugins: object, ami: list | None = None) -> Dispatcher:
    pm = plugin_manager(load_entrypoints=False)
    for plugin in plugins:
        pm.register(plugin)

    async def send(action: dict[str, Any]) -> None:
        assert ami is not None
        ami.append(action)

    return Dispatcher(emits, jobs, pm, hook_timeout=2.0, ami=send if ami is not None else None)  # type: ignore[arg-type]


def dispatched(d: Dispatcher, changes: list) -> None:
    """Hand ``changes`` to the dispatcher and wait until their effects ran (the lanes run them apart)."""
    async def run() -> None:
        await d.dispatch(changes)
        await d.drain()

    asyncio.run(run())


def test_given_an_offer_then_the_agent_is_told_the_offer_is_recorded_and_plugins_hear_it_despite_a_broken_one(jobs):
    emits, recorder = Emits(), Recorder()
    dispatched(dispatcher(jobs, emits, Failing(), recorder), [m.CallOffered("agent1", CALL)])
    assert emits.sent == [("agent:agent1", "call_offered", CALL)]
    conn = jobs.queue.connection
    assert json.loads(conn.get(offer_key(CALL["call_id"], "agent1")))["caller_name"] == "Maija <b>V</b>"
    assert 0 < conn.ttl(offer_key(CALL["call_id"], "agent1")) <= 12 * 3600
    assert recorder.calls == [("call_offered", {"agent": "agent1", "call": CALL})]


def test_given_a_call_ended_then_one_job_the_agent_the_board_and_the_plugins_get_it(jobs):
    emits, recorder = Emits(), Recorder()
    dispatched(dispatcher(jobs, emits, Failing(), recorder), [m.CallEnded(SUMMARY)])
    [job] = jobs.queue.get_jobs()
    assert (job.id, job.func_name, job.args) == (finish_call_job_id(SUMMARY["call_id"]), FINISH_CALL, (SUMMARY,))
    assert emits.sent == [
        ("agent:agent1", "call_ended", {"call_id": "1700000000.42", "disposition": "answered", "duration_seconds": 42}),
        ("board", "call_ended", SUMMARY)]
    assert recorder.calls == [("call_ended", SUMMARY)]


def test_given_a_change_that_fails_to_dispatch_then_the_following_changes_still_go_out(jobs):
    emits = Emits(broken="agent1")
    view = {"agent": "agent2", "device_state": "inuse"}
    changes = [m.OfferWithdrawn("agent1", "c1", "answered elsewhere"), m.OfferWithdrawn("agent2", "c1", "no answer"),
               m.AgentChanged("agent2", view)]
    dispatched(dispatcher(jobs, emits), changes)
    assert emits.sent == [
        ("agent:agent2", "call_ended", {"call_id": "c1", "disposition": "not answered", "reason": "no answer",
                                        "duration_seconds": 0}),
        ("agent:agent2", "agent_state", view), ("board", "agent_state", view)]


def test_given_a_lost_agent_leg_then_the_keeping_channel_is_told_whom_to_ring_and_the_dead_leg_is_hung_up(jobs):
    ami: list[dict[str, Any]] = []
    lost = m.AgentLegLost("agent1", "c1", "Local/+35891000001@from-trunk-00000000;2", "PJSIP/agent1-0000002a")
    dispatched(dispatcher(jobs, Emits(), ami=ami), [lost])
    assert ami == [  # in this order: the keeper must be marked before the dead leg's end reaches it
        {"Action": "Setvar", "Channel": "Local/+35891000001@from-trunk-00000000;2", "Variable": "SB_RECONNECT",
         "Value": "agent1"},
        {"Action": "Hangup", "Channel": "PJSIP/agent1-0000002a", "Cause": "44"}]


def test_given_an_agent_transferred_away_then_their_kept_call_is_forgotten(jobs):
    class Live:
        def __init__(self) -> None:
            self.forgotten: list[tuple[str, str]] = []

        async def ended(self, agent: str, call_id: str) -> None:
            self.forgotten.append((agent, call_id))

    live = Live()
    d = dispatcher(jobs, Emits())
    d.live = live  # type: ignore[assignment]
    dispatched(d, [m.AgentLeftCall("agent1", "c1")])
    assert live.forgotten == [("agent1", "c1")]


def test_given_the_same_call_ended_twice_then_its_job_is_enqueued_once_and_again_only_after_a_failure(jobs):
    asyncio.run(jobs.call_ended(SUMMARY))
    asyncio.run(jobs.call_ended({**SUMMARY, "duration_seconds": 43}))  # a duplicate (resync, replay)
    assert jobs.queue.job_ids == [finish_call_job_id(SUMMARY["call_id"])]
    assert jobs.queue.fetch_job(jobs.queue.job_ids[0]).args == (SUMMARY,)
    asyncio.run(jobs.call_ended({**SUMMARY, "call_id": "1700000000.43"}))
    assert len(jobs.queue.job_ids) == 2
    job = jobs.queue.fetch_job(finish_call_job_id(SUMMARY["call_id"]))
    for status in (JobStatus.FINISHED, JobStatus.FAILED):
        job.set_status(status)
        asyncio.run(jobs.call_ended({**SUMMARY, "duration_seconds": 44}))
        again = jobs.queue.fetch_job(job.id)
        assert again.get_status() == (JobStatus.FINISHED if status == JobStatus.FINISHED else JobStatus.QUEUED)
    assert again.args[0]["duration_seconds"] == 44


def test_the_finish_call_job_id_is_deterministic_per_call_and_safe_for_rq():
    a = finish_call_job_id("1700000000.42")
    assert a == finish_call_job_id("1700000000.42") != finish_call_job_id("1700000000.43")
    assert a.startswith("finish_call-1700000000_42-") and len(a.rsplit("-", 1)[1]) == 8


def test_given_a_caller_in_a_queue_then_their_lookup_is_asked_of_the_workers_not_queued_as_a_job(jobs):
    d = dispatcher(jobs, Emits())
    conn = jobs.queue.connection
    conn.delete(WARMUP_KEY)

    async def run() -> None:
        d.warm_caller("+358401234567")
        d.warm_caller("")  # no number: nothing to look up
        await d.drain()

    asyncio.run(run())
    assert [json.loads(raw)["number"] for raw in conn.lrange(WARMUP_KEY, 0, -1)] == ["+358401234567"]
    assert jobs.queue.count == 0  # a warm-up never waits in front of (or behind) a call's Task
    conn.delete(WARMUP_KEY)
