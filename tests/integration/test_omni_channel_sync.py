"""Salesforce Omni-Channel presence sync (seed 1.3) with the real processes: the admin maps statuses and
links an agent with the CLI; the emulator changes the agent's Omni status and workload as Salesforce
would; within 2 s Asterisk pauses or unpauses the agent's queue membership with the mapped status as the
reason, "In a Case" follows the workload, and only an Offline the agent chose switches the queues off."""

from __future__ import annotations

import re
import time

import httpx
import pytest
import redis

from switchboard.commands import encode
from switchboard.contracts import COMMAND_CHANNEL, PRESENCE_OMNI_LOGOUT
from tests.support.stack import cli, member_line, own_stack, wait_for

pytestmark = pytest.mark.integration

PAUSED = re.compile(r"\(paused(?::(.*?))? was \d+ secs? ago\)")
WITHIN = 2.0  # seconds: the limit from an Omni change to Asterisk
QUEUES = ("cs-en", "cs-fi", "sales")


@pytest.fixture(scope="module")
def omni_stack():
    """A stack of its own with the Omni-Channel sync on (polled every 0.5 s, In a Case at workload 2)."""
    with own_stack("omni", overrides={"omni_sync": True, "omni_poll_seconds": 0.5,
                                      "omni_workload_limit": 2}) as stack:
        yield stack


def omni(stack, path: str, method: str = "POST", **body) -> dict:  # noqa: ANN001
    response = httpx.request(method, f"{stack.settings.sf_emulator_url}/__emulator/omni{path}", json=body or None,
                             timeout=10)
    assert response.status_code < 300, response.text
    return response.json()


def reasons(stack) -> set[str]:  # noqa: ANN001
    """agent1's pause reasons over its queues in Asterisk ('' when a queue may ring it)."""
    out = set()
    for queue in QUEUES:  # "... (paused:OffWork was 3 secs ago) ..." (Asterisk's queue show)
        found = PAUSED.search(member_line(stack, "agent1", queue) or "")
        out.add((found.group(1) or "?") if found else "")
    return out


def within(stack, wanted: set[str], what: str) -> float:  # noqa: ANN001
    """Wait (at most WITHIN s) until agent1's pause reasons are ``wanted``; how long it took."""
    t0 = time.monotonic()
    wait_for(lambda: reasons(stack) == wanted, WITHIN, f"{what}: Asterisk shows {reasons(stack)}, not {wanted}")
    return time.monotonic() - t0


def test_the_admin_maps_and_links_then_omni_changes_reach_asterisk_within_two_seconds(omni_stack):
    for args in (("Available_Voice", "Available", "--type", "online"), ("Busy", "Busy", "--type", "busy"),
                 ("Lunch", "Lunch (45 min)", "--type", "busy")):
        mapped = cli(omni_stack, "omni", "map", *args)
        assert mapped.returncode == 0, mapped.stderr
    wrong = cli(omni_stack, "omni", "map", "Busy", "No Such Status")
    assert wrong.returncode != 0 and "not a Switchboard status" in wrong.stderr
    linked = cli(omni_stack, "omni", "link", "agent1", "agent1@switchboard.demo")
    assert linked.returncode == 0 and linked.stdout.startswith("agent1: Salesforce user 005"), linked
    listing = cli(omni_stack, "omni", "list").stdout
    assert "Lunch" in listing and "Lunch (45 min)" in listing and "offwork" in listing and "agent1" in listing

    times = {}
    omni(omni_stack, "/presence", user="agent1@switchboard.demo", status="Lunch")
    times["Lunch"] = within(omni_stack, {"OffWork"}, "Omni Lunch")
    omni(omni_stack, "/presence", user="agent1@switchboard.demo", status="Available_Voice")
    times["Available"] = within(omni_stack, {""}, "Omni Available - Voice")

    work = omni(omni_stack, "/work", user="agent1@switchboard.demo", capacity_weight=2)
    times["In a Case"] = within(omni_stack, {"In a Case"}, "workload 2 of 2")
    omni(omni_stack, f"/work/{work['id']}", method="PATCH", status="Closed")
    times["work closed"] = within(omni_stack, {""}, "work closed")

    # Offline that the agent did not choose (browser closed, network lost): the queues stay on
    omni(omni_stack, "/presence", user="agent1@switchboard.demo", status=None)
    time.sleep(WITHIN)
    assert reasons(omni_stack) == {""}

    # the agent chooses Offline in the widget (the component tells the phone, the phone the server)
    omni(omni_stack, "/presence", user="agent1@switchboard.demo", status="Lunch")
    within(omni_stack, {"OffWork"}, "Omni Lunch again")
    redis.Redis.from_url(omni_stack.settings.redis_url).publish(COMMAND_CHANNEL,
                                                               encode(PRESENCE_OMNI_LOGOUT, agent="agent1"))
    omni(omni_stack, "/presence", user="agent1@switchboard.demo", status=None)
    times["Offline chosen"] = within(omni_stack, {"queue off"}, "Omni Offline, chosen")
    omni(omni_stack, "/presence", user="agent1@switchboard.demo", status="Available_Voice")
    times["back online"] = within(omni_stack, {""}, "back from Offline")
    print("\nomni sync: Omni change -> Asterisk " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()))


def test_the_cli_shows_each_agents_presence_live(omni_stack):
    for args in (("map", "Available_Voice", "Available"), ("link", "agent1", "agent1@switchboard.demo")):
        assert cli(omni_stack, "omni", *args).returncode == 0  # as the test before did (idempotent)
    omni(omni_stack, "/presence", user="agent1@switchboard.demo", status="Available_Voice")
    work = omni(omni_stack, "/work", user="agent1@switchboard.demo", capacity_weight=3)
    within(omni_stack, {"In a Case"}, "workload 3 of 2")
    shown = cli(omni_stack, "presence")
    assert shown.returncode == 0, shown.stderr
    line = next(ln for ln in shown.stdout.splitlines() if ln.startswith("agent1 "))
    assert "In a Case (then Available)" in line and "paused in cs-en (In a Case)" in line, line
    assert any(ln.startswith("agent2 ") and "Available  takes queue calls" in ln for ln in shown.stdout.splitlines())
    omni(omni_stack, f"/work/{work['id']}", method="PATCH", status="Closed")
    within(omni_stack, {""}, "work closed")
