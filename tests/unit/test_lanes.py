"""Lanes run side effects in order, apart from the model's loop; a failing effect never stops the next."""

from __future__ import annotations

import asyncio

from orchestrator.lanes import Lane


def test_given_effects_put_in_a_lane_then_they_run_in_order_after_the_putter_went_on_and_a_failure_is_skipped():
    ran: list[str] = []

    async def effect(name: str, delay: float = 0.0) -> None:
        await asyncio.sleep(delay)
        if name == "bad":
            raise RuntimeError("broken effect")
        ran.append(name)

    async def run() -> list[str]:
        lane = Lane("test")
        lane.put(effect, "first", 0.05)
        lane.put(effect, "bad")
        lane.put(effect, "second")
        seen_at_once = list(ran)  # put() does not wait for the effects
        await lane.drain()
        await lane.close()
        return seen_at_once

    assert asyncio.run(run()) == []
    assert ran == ["first", "second"]


def test_given_two_lanes_then_a_slow_one_does_not_hold_the_other_back():
    ran: list[str] = []

    async def effect(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        ran.append(name)

    async def run() -> None:
        slow, fast = Lane("slow"), Lane("fast")
        slow.put(effect, "slow", 0.2)
        fast.put(effect, "fast", 0.0)
        await fast.drain()
        assert ran == ["fast"]
        await slow.drain()

    asyncio.run(run())
    assert ran == ["fast", "slow"]
