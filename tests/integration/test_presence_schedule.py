"""Scheduled availability enforced in Asterisk, all real: a fresh agent schedules a DND through the web
API (with the CSRF header, as the page does); the presence service (ticking once a second) pauses the
agent in the queue with reason DND when it starts and unpauses them when it ends."""

from __future__ import annotations

import time

import pytest

from tests.support.stack import fresh_agent, member_line, wait_for, web_session

pytestmark = pytest.mark.integration
QUEUE = "cs-en"  # Customer Service EN


def test_scheduled_dnd_pauses_the_agent_in_asterisk_when_it_starts_and_unpauses_when_it_ends(stack):
    base = stack.settings.public_url
    agent = fresh_agent(stack)
    assert "paused" not in member_line(stack, agent)
    s, csrf = web_session(stack, agent)
    presence = s.get(f"{base}/api/presence", timeout=10).json()
    dnd = next(st["id"] for st in presence["statuses"] if st["name"] == "DND")

    assert s.post(f"{base}/api/presence/schedule", json={"status_id": dnd, "starts_at": time.time() + 3,
                  "ends_at": time.time() + 60}, timeout=10).status_code == 403  # no CSRF header
    starts, ends = time.time() + 3, time.time() + 7
    r = s.post(f"{base}/api/presence/schedule", headers={"X-CSRF-Token": csrf},
               json={"status_id": dnd, "starts_at": starts, "ends_at": ends}, timeout=10)
    assert r.status_code == 201, r.text
    listed = s.get(f"{base}/api/presence", timeout=10).json()["schedules"]
    assert [(x["id"], x["status_id"]) for x in listed] == [(r.json()["id"], dnd)]

    time.sleep(max(0.0, starts - time.time() - 1.0))
    assert "paused" not in member_line(stack, agent), "paused before the schedule started"
    wait_for(lambda: "paused:DND" in member_line(stack, agent), 5, "not paused for DND when the schedule started")
    paused_at = time.time()
    assert paused_at >= starts - 0.2, "paused too early"
    assert paused_at - starts < 2.5, f"paused {paused_at - starts:.1f} s after the start"
    assert "dnd" in stack.asterisk.cli(f"database get switchboard/presence {agent}").stdout
    assert s.get(f"{base}/api/presence", timeout=10).json()["kind"] == "dnd"

    time.sleep(max(0.0, ends - time.time() - 1.0))
    assert "paused:DND" in member_line(stack, agent), "unpaused before the schedule ended"
    wait_for(lambda: "paused" not in member_line(stack, agent), 5, "still paused after the schedule ended")
    unpaused_at = time.time()
    assert unpaused_at - ends < 2.5, f"unpaused {unpaused_at - ends:.1f} s after the end"
    assert "available" in stack.asterisk.cli(f"database get switchboard/presence {agent}").stdout
    after = s.get(f"{base}/api/presence", timeout=10).json()
    assert after["kind"] == "available" and after["schedules"] == []
