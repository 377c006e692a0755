"""Smart routing's decisions carried out by the real dialplan (asterisk-conf/extensions.conf, [sb-route]):
a real Asterisk, customers calling over the trunk from SIPp, the orchestrator's Router in this process
with routing plugins of the test's own."""

from __future__ import annotations

import asyncio
import time

import pytest
from panoramisk import Manager

from orchestrator.ari import AriClient
from orchestrator.routing import Router
from switchboard.hookspecs import hookimpl
from switchboard.plugins import plugin_manager
from switchboard.routing import Decision

pytestmark = pytest.mark.integration
QUEUES = {"cs-en", "cs-fi", "sales"}
LANGUAGE_MENU_NUMBER = "+35891000004"  # customer service with the language menu (1 Finnish, 2 English)


class Routed:
    """The Router of this test connected to the test's Asterisk, with the traces it stored."""

    def __init__(self, asterisk, plugins, timeout: float = 0.5) -> None:
        self.asterisk = asterisk
        self.pm = plugin_manager(load_entrypoints=False)
        for p in plugins:
            self.pm.register(p)
        self.traces: list[dict] = []
        self.timeout = timeout

    async def __aenter__(self) -> Routed:
        async def handler(msg):
            await self.router.on_ari(msg)

        self.client = AriClient(f"http://127.0.0.1:{self.asterisk.ports.http}", "switchboard",
                                self.asterisk.creds.ari_password, "switchboard", handler)
        self.router = Router(self.client, self.pm, self.timeout, QUEUES, save_trace=self.traces.append)
        self.task = asyncio.create_task(self.client.run())
        await asyncio.wait_for(self.client.connected.wait(), 10)
        return self

    async def __aexit__(self, *exc) -> None:
        self.task.cancel()
        await self.client.close()
        await asyncio.sleep(0.2)


async def joins(asterisk, customers, number: str, callers: list[tuple[str, str]], *, dtmf: str = "",
                count: int | None = None, timeout: float = 15) -> dict[str, dict]:
    """Customers call ``number`` one after the other; each caller's QueueCallerJoin (queue, position) and
    seconds from their INVITE to joining."""
    m = Manager(host="127.0.0.1", port=asterisk.ports.ami, username="switchboard",
                secret=asterisk.creds.ami_secret, ping_delay=0)
    await m.connect()
    seen: dict[str, dict] = {}
    started: dict[str, float] = {}
    m.register_event("QueueCallerJoin", lambda _m, msg: seen.setdefault(msg["CallerIDNum"], {
        "queue": msg["Queue"], "position": int(msg["Position"]),
        "took": time.monotonic() - started.get(msg["CallerIDNum"], 0)}))
    calls = []
    try:
        for caller, name in callers:
            started[caller] = time.monotonic()
            calls.append(customers.call(number, caller, name, dtmf=dtmf, dtmf_after=0.5))
            deadline = time.monotonic() + timeout
            while caller not in seen and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return seen
    finally:
        for call in calls:
            await asyncio.to_thread(call.stop)
        m.close()


def test_given_no_orchestrator_then_the_language_menu_takes_the_callers_key_to_the_finnish_pool(
        asterisk, trunk_customers):
    seen = asyncio.run(joins(asterisk, trunk_customers, LANGUAGE_MENU_NUMBER, [("+358401110101", "Menu")],
                             dtmf="1"))
    assert seen["+358401110101"]["queue"] == "cs-fi"


class KnowsFinnish:
    @hookimpl
    def route_call(self, call):
        if call["caller_number"] == "+358401110102":
            return Decision(queue="cs-fi", skip_ivr=True, reason="contact speaks Finnish",
                            rules=("finnish-speakers",), data={"contact.Language__c": "fi"})
        return None


def test_given_the_language_is_known_then_the_call_skips_the_menu_into_the_finnish_pool_and_the_trace_says_why(
        asterisk, trunk_customers):
    async def scenario():
        async with Routed(asterisk, [KnowsFinnish()]) as routed:
            # no key pressed: without the decision the menu would keep the caller ~8 s and send them to cs-en
            seen = await joins(asterisk, trunk_customers, LANGUAGE_MENU_NUMBER, [("+358401110102", "Fin")])
            return seen, routed.traces

    seen, traces = asyncio.run(scenario())
    assert seen["+358401110102"]["queue"] == "cs-fi"
    assert seen["+358401110102"]["took"] < 3, "the call went through the menu"
    [trace] = traces
    assert trace["outcome"] == "decided"
    assert trace["decision"]["skip_ivr"] is True and trace["decision"]["rules"] == ["finnish-speakers"]
    assert trace["caller_number"] == "+358401110102" and trace["dialled"] == LANGUAGE_MENU_NUMBER


class VipFirst:
    @hookimpl
    def route_call(self, call):
        if call["caller_number"] == "+358401110199":
            return {"priority": 100, "reason": "VIP"}
        return None


def test_given_a_vip_decision_then_the_vip_goes_ahead_of_callers_already_waiting(asterisk, trunk_customers):
    async def scenario():
        async with Routed(asterisk, [VipFirst()]):
            return await joins(asterisk, trunk_customers, "+35891000003",
                               [("+358401110110", "Early One"), ("+358401110111", "Early Two"),
                                ("+358401110199", "Vip")])

    seen = asyncio.run(scenario())
    assert {c: s["queue"] for c, s in seen.items()} == dict.fromkeys(seen, "sales")
    assert seen["+358401110110"]["position"] == 1 and seen["+358401110111"]["position"] == 2
    assert seen["+358401110199"]["position"] == 1  # ahead of both: the first to be answered


class Wrong:
    def __init__(self, answer):
        self.answer = answer

    @hookimpl
    def route_call(self, call):
        return self.answer


@pytest.mark.parametrize("answer", [{"queue": "no-such-queue"}, {"priority": 1000}, {"agent": "a;b"},
                                    {"announcement": "../etc/passwd"}, {"bogus": 1}, 42])
def test_given_a_decision_that_cannot_be_carried_out_then_the_call_keeps_its_number_path_and_the_trace_says_why(
        asterisk, trunk_customers, answer):
    async def scenario():
        async with Routed(asterisk, [Wrong(answer)]) as routed:
            seen = await joins(asterisk, trunk_customers, "+35891000003", [("+358401110120", "Odd")])
            return seen, routed.traces

    seen, traces = asyncio.run(scenario())
    assert seen["+358401110120"]["queue"] == "sales"
    assert traces[0]["outcome"] == "rejected" and traces[0]["error"]


class Hangs:
    @hookimpl
    def route_call(self, call):
        time.sleep(5)
        return "cs-fi"


def test_given_a_hanging_plugin_then_the_call_takes_its_number_path_within_the_deadline(asterisk, trunk_customers):
    async def scenario():
        async with Routed(asterisk, [Hangs()], timeout=0.5) as routed:
            seen = await joins(asterisk, trunk_customers, "+35891000003", [("+358401110130", "Slow")])
            return seen, routed.traces

    seen, traces = asyncio.run(scenario())
    assert seen["+358401110130"]["queue"] == "sales"
    assert seen["+358401110130"]["took"] < 2
    assert traces[0]["outcome"] == "timeout" and traces[0]["took_ms"] < 600


class Unreachable:
    @hookimpl
    def route_call(self, call):
        return Decision(agent="nobody-registered", agent_seconds=5, fallback_queue="cs-fi")


def test_given_a_preferred_agent_who_cannot_be_reached_then_the_caller_goes_to_the_fallback_queue_at_once(
        asterisk, trunk_customers):
    async def scenario():
        async with Routed(asterisk, [Unreachable()]):
            return await joins(asterisk, trunk_customers, "+35891000003", [("+358401110140", "Owner Away")])

    seen = asyncio.run(scenario())
    assert seen["+358401110140"]["queue"] == "cs-fi"
    assert seen["+358401110140"]["took"] < 3


class Announces:
    @hookimpl
    def route_call(self, call):
        return Decision(announcement="tt-weasels", reason="a word before the queue")


def test_given_an_announcement_then_the_caller_hears_it_before_joining_the_queue(asterisk, trunk_customers):
    """The caller's channel runs Playback(tt-weasels) (about 3 s), then joins the queue."""
    async def scenario():
        playing: list[float] = []
        t0 = time.monotonic()

        async def watch() -> None:
            while True:
                rows = (await asyncio.to_thread(asterisk.cli, "core show channels concise")).stdout
                if any("!Playback!tt-weasels" in row and "trunk" in row for row in rows.splitlines()):
                    playing.append(time.monotonic() - t0)
                await asyncio.sleep(0.1)

        async with Routed(asterisk, [Announces()]):
            watcher = asyncio.create_task(watch())
            try:
                seen = await joins(asterisk, trunk_customers, "+35891000003", [("+358401110150", "Announced")])
            finally:
                watcher.cancel()
        return playing, seen["+358401110150"]

    playing, joined = asyncio.run(scenario())
    assert playing, "the caller's channel never played the announcement"
    assert joined["queue"] == "sales" and joined["took"] > max(playing) - 0.3  # joined once it was over
    assert joined["took"] >= 2.5  # the announcement lasts about 3 s
