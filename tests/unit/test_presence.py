"""Availability and wrap-up as pure logic: seed 1.2.2's status types, timed statuses, schedules."""

from __future__ import annotations

import dataclasses

import pytest

from switchboard import presence as p

T0 = 1_800_000_000.0
STATUSES = {
    1: p.StatusDef(1, "Available", p.AVAILABLE),
    2: p.StatusDef(2, "Busy (60 min)", p.BUSY, 60),
    3: p.StatusDef(3, "DND (30 min)", p.DND, 30),
    4: p.StatusDef(4, "Lunch (45 min)", p.OFFWORK, 45),
    5: p.StatusDef(5, "DND", p.DND),
}
QUEUES = (p.QueueSwitch("cs-en", "Customer Service EN"), p.QueueSwitch("sales", "Sales"))


def agent(status: int = 1, **kw) -> p.AgentPresence:
    chosen = p.choose(STATUSES[status], T0, receive_pool_calls=kw.pop("pool", True))
    return p.AgentPresence("agent1", chosen, kw.pop("queues", QUEUES), **kw)


@pytest.mark.parametrize(("kind", "queue", "direct", "outbound"), [
    (p.AVAILABLE, True, True, True),
    (p.BUSY, True, True, True),
    (p.DND, False, False, True),
    (p.OFFWORK, False, True, True),
])
def test_each_status_type_follows_the_seed_for_queue_direct_and_outbound_calls(kind, queue, direct, outbound):
    assert (p.allows(kind, p.QUEUE), p.allows(kind, p.DIRECT), p.allows(kind, p.OUTBOUND)) == \
        (queue, direct, outbound)
    state = dataclasses.replace(agent(), chosen=p.Chosen(kind=kind, status=kind))
    want = p.wanted(state, T0)
    assert all(bool(r) != queue for r in want.paused.values())
    assert want.direct == kind  # [sb-agent-direct] refuses only "dnd"


def test_given_dnd_then_every_queue_is_paused_with_the_type_as_reason():
    assert p.wanted(agent(5), T0).paused == {"cs-en": "DND", "sales": "DND"}


def test_given_pool_calls_off_then_queues_pause_but_direct_calls_ring():
    want = p.wanted(agent(1, pool=False), T0)
    assert want.paused == {"cs-en": p.REASON_POOL_OFF, "sales": p.REASON_POOL_OFF}
    assert want.direct == p.AVAILABLE


def test_given_one_queue_switched_off_then_only_it_pauses_with_queue_off():
    queues = (p.QueueSwitch("cs-en", active=False), p.QueueSwitch("sales"))
    assert p.wanted(agent(1, queues=queues), T0).paused == {"cs-en": "queue off", "sales": ""}


def test_given_a_timed_status_then_it_reverts_to_available_when_it_expires():
    state = agent(3)
    assert state.chosen.until == T0 + 30 * 60
    still = p.tick(state, STATUSES, T0 + 30 * 60 - 1)
    assert still.chosen.kind == p.DND
    after = p.tick(state, STATUSES, T0 + 30 * 60)
    assert (after.chosen.kind, after.chosen.status, after.chosen.until) == (p.AVAILABLE, "Available", None)
    assert set(p.wanted(after, T0 + 1800).paused.values()) == {""}


def test_given_an_untimed_status_then_it_holds():
    assert p.tick(agent(5), STATUSES, T0 + 10 * 86400).chosen.kind == p.DND


def test_reverting_keeps_the_pool_calls_switch():
    after = p.tick(agent(2, pool=False), STATUSES, T0 + 3600)
    assert after.chosen.kind == p.AVAILABLE and not after.chosen.receive_pool_calls


def test_given_a_schedule_then_it_starts_at_its_time_and_ends_at_its_end():
    plan = (p.Scheduled(7, 4, T0 + 60, T0 + 120),)
    state = agent(1, schedules=plan)
    assert p.tick(state, STATUSES, T0 + 59).chosen.kind == p.AVAILABLE
    started = p.tick(state, STATUSES, T0 + 60)
    assert (started.chosen.status, started.chosen.until, started.schedules) == ("Lunch (45 min)", T0 + 120, ())
    assert p.tick(started, STATUSES, T0 + 120).chosen.kind == p.AVAILABLE


def test_given_a_schedule_without_end_then_the_status_duration_applies():
    started = p.tick(agent(1, schedules=(p.Scheduled(1, 3, T0 + 5),)), STATUSES, T0 + 5)
    assert started.chosen.kind == p.DND and started.chosen.until == T0 + 5 + 1800


def test_given_a_schedule_already_over_then_it_is_dropped_without_effect():
    state = agent(1, schedules=(p.Scheduled(1, 5, T0 - 100, T0 - 50),))
    after = p.tick(state, STATUSES, T0)
    assert after.schedules == () and after.chosen.kind == p.AVAILABLE


def test_given_wrapup_without_required_code_then_paused_everywhere_until_it_ends():
    w = p.start_wrapup("1.1", "cs-en", 30, [], False, T0)
    assert w is not None and not w.required
    state = agent(1, wrapup=w)
    assert p.wanted(state, T0 + 29).paused == {"cs-en": "wrap-up", "sales": "wrap-up"}
    after = p.tick(state, STATUSES, T0 + 30)
    assert after.wrapup is None and set(p.wanted(after, T0 + 30).paused.values()) == {""}


def test_given_a_required_code_then_wrapup_lasts_until_the_code():
    w = p.start_wrapup("1.1", "cs-en", 30, ["No Note", "Manager Request"], True, T0)
    state = agent(1, wrapup=w)
    later = p.tick(state, STATUSES, T0 + 3600)
    assert later.wrapup == w
    assert p.end_wrapup(later, "other.call").wrapup == w
    done = p.end_wrapup(later, "1.1")
    assert done.wrapup is None and set(p.wanted(done, T0 + 3600).paused.values()) == {""}


def test_given_wrapup_ends_then_a_dnd_agent_stays_paused_for_dnd():
    state = agent(5, wrapup=p.start_wrapup("1.1", "cs-en", 10, [], False, T0))
    after = p.tick(state, STATUSES, T0 + 10)
    assert p.wanted(after, T0 + 10).paused == {"cs-en": "DND", "sales": "DND"}


def test_given_no_wrapup_time_and_no_required_code_then_no_wrapup():
    assert p.start_wrapup("1.1", "cs-en", 0, ["No Note"], False, T0) is None
    assert p.start_wrapup("1.1", "cs-en", 0, [], True, T0) is None


def test_view_lists_queues_with_reasons_and_the_wrapup():
    w = p.start_wrapup("1.1", "cs-en", 30, ["No Note"], True, T0)
    v = p.view(agent(1, wrapup=w), T0)
    assert v["queues"][0] == {"name": "cs-en", "label": "Customer Service EN", "active": True, "paused": True,
                              "reason": "wrap-up"}
    assert v["wrapup"] == {"call_id": "1.1", "queue": "cs-en", "until": T0 + 30, "codes": ["No Note"],
                           "required": True}
    assert (v["status"], v["kind"], v["receive_pool_calls"]) == ("Available", "available", True)


def test_given_a_timed_status_chosen_over_an_untimed_one_then_its_end_gives_that_one_back():
    dnd = agent(5)
    busy = p.choose(STATUSES[2], T0 + 10, before=dnd.chosen)
    lunch = p.choose(STATUSES[4], T0 + 20, before=busy)  # timed over timed: still DND comes back
    assert busy.previous == lunch.previous == p.StatusRef(5, "DND", p.DND)
    after = p.tick(dataclasses.replace(dnd, chosen=lunch), STATUSES, T0 + 20 + 45 * 60)
    assert (after.chosen.status, after.chosen.until, after.chosen.previous) == ("DND", None, None)


def test_given_the_status_before_was_deleted_then_the_first_untimed_available_comes_back():
    gone = p.Chosen(9, "Training", p.BUSY)
    busy = p.choose(STATUSES[2], T0, before=gone)
    after = p.tick(dataclasses.replace(agent(), chosen=busy), STATUSES, T0 + 3600)
    assert after.chosen.status == "Available"


def test_given_a_schedule_with_an_end_then_the_status_before_it_comes_back():
    state = dataclasses.replace(agent(5), schedules=(p.Scheduled(7, 4, T0 + 60, T0 + 120),))
    started = p.tick(state, STATUSES, T0 + 60)
    assert p.tick(started, STATUSES, T0 + 120).chosen.status == "DND"
