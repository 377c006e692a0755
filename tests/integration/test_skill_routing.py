"""Skill-based distribution on the real stack: two SIP-phone agents (SIPp) in Customer Service EN under
profiles of different skill, a customer calling over the trunk. Asterisk offers each call to the higher
skilled agent first (penalty 10 - skill), whatever round robin says; when that agent declines, the lower
skilled one gets the call before the same agent is rung again. A profile change reaches Asterisk at once:
a call going on is not dropped, and an agent in DND stays paused in every queue, new ones too."""

from __future__ import annotations

import re
import secrets
import time

import pytest

from switchboard.store import Store
from tests.support.sipagent import SipAgentPhones, make_sip_agents
from tests.support.stack import cli, member_line, wait_for, web_session

pytestmark = pytest.mark.integration

CS_EN = "+35891000001"


def caller() -> str:
    return "+35840" + "".join(secrets.choice("0123456789") for _ in range(7))


def penalty(stack, agent: str, queue: str = "cs-en") -> int | None:
    """The agent's penalty in ``queue`` as Asterisk holds it now, None when not a member."""
    line = member_line(stack, agent, queue)
    if line is None:
        return None
    found = re.search(r"with penalty (\d+)", line)
    return int(found.group(1)) if found else 0


def use(stack, agent: str, profile: str, penalties: dict[str, int | None]) -> None:
    """``switchboard profile use AGENT PROFILE``; wait until Asterisk has the penalties it brings."""
    r = cli(stack, "profile", "use", agent, profile)
    assert r.returncode == 0 and "no orchestrator running" not in r.stdout, r.stderr
    wait_for(lambda: all(penalty(stack, agent, q) == p for q, p in penalties.items()), 10,
             f"{agent} under {profile!r} in Asterisk: {penalties}")


def answered_by(stack, number: str, timeout: float = 10.0) -> str:
    """Who answered the finished call of the customer ``number`` (the call history)."""
    store = Store(stack.settings.database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            call = next((c for c in store.call_history(limit=200) if c.caller_number == number), None)
            if call is not None:
                return call.agent
            assert time.monotonic() < deadline, f"no call of {number} in the history"
            time.sleep(0.2)
    finally:
        store.engine.dispose()


@pytest.fixture(scope="module")
def skilled(stack):
    """Two SIP-phone agents (in Sales only, at first) and four profiles: expert (Customer Service EN 9),
    novice (EN 3), wide (EN 5, Sales 5), sales (Sales 4). Returns (expert agent, novice agent, profile names)."""
    stamp = "".join(chr(ord("a") + int(d)) for d in f"{int(time.time()) % 100000:05d}")
    hi, lo = f"skillhi{stamp}", f"skilllo{stamp}"
    make_sip_agents(stack, [hi, lo], queues=("sales",))
    names = {"expert": f"Expert {stamp}", "novice": f"Novice {stamp}", "wide": f"Wide {stamp}",
             "sales": f"Sales {stamp}"}
    for key, skills in (("expert", {"cs-en": 9}), ("novice", {"cs-en": 3}), ("wide", {"cs-en": 5, "sales": 5}),
                        ("sales", {"sales": 4})):
        assert cli(stack, "profile", "add", names[key]).returncode == 0
        for queue, level in skills.items():
            assert cli(stack, "profile", "skill", names[key], queue, str(level)).returncode == 0
    yield hi, lo, names
    for name in names.values():
        cli(stack, "profile", "remove", name)


def test_given_two_skill_levels_then_each_call_is_offered_to_the_higher_skilled_agent_first(stack, skilled,
                                                                                            customers):
    hi, lo, profiles = skilled
    use(stack, hi, profiles["expert"], {"cs-en": 1, "sales": None})  # skill 9: penalty 1; Sales left
    use(stack, lo, profiles["novice"], {"cs-en": 7, "sales": None})
    numbers = [caller(), caller()]
    with SipAgentPhones(stack, [hi, lo], answer_after=1, talk_time=2) as phones:
        for number in numbers:  # one after the other: round robin alone would give the second call to lo
            assert customers.call(CS_EN, number, "Skilled Customer").wait(30).ok
        assert phones.invites(hi) == 2 and phones.invites(lo) == 0
    assert [answered_by(stack, n) for n in numbers] == [hi, hi]


def test_given_the_higher_skilled_agent_declines_then_the_lower_skilled_one_gets_the_call_and_a_profile_change_drops_nothing(  # noqa: E501
        stack, skilled, customers):
    hi, lo, profiles = skilled
    use(stack, hi, profiles["expert"], {"cs-en": 1})
    use(stack, lo, profiles["novice"], {"cs-en": 7})
    number = caller()
    with SipAgentPhones(stack, [hi], answer_after=1, scenario="agent_declines.xml") as declining, \
            SipAgentPhones(stack, [lo], answer_after=1, talk_time=10) as answering:
        customer = customers.call(CS_EN, number, "Declined Customer")
        try:
            wait_for(lambda: answering.invites(lo) == 1, 15, "the lower skilled agent rung")
            assert declining.invites(hi) == 1  # rung first (lo would have answered otherwise), and only once
            time.sleep(1.5)  # lo answers after ringing 1 s
            # during the call: the expert becomes a novice, and lo leaves the very queue the call came from
            use(stack, hi, profiles["novice"], {"cs-en": 7})
            use(stack, lo, profiles["sales"], {"cs-en": None, "sales": 6})
            assert customer.running
            outcome = customer.wait(20)
        finally:
            customer.stop()
        assert outcome.ok, outcome  # lo hung up after talking 10 s: the members reloads dropped nothing
        assert answering.received("BYE", lo) == 0  # Asterisk never hung up on the agent
        assert declining.invites(hi) == 1
    assert answered_by(stack, number) == lo


def test_given_an_agent_in_dnd_when_they_choose_another_profile_on_the_page_then_they_stay_paused_everywhere(
        stack, skilled):
    hi, lo, profiles = skilled
    use(stack, lo, profiles["novice"], {"cs-en": 7, "sales": None})
    store = Store(stack.settings.database_url)
    statuses = {s.name: s.id for s in store.list_statuses()}
    store.engine.dispose()
    http, csrf = web_session(stack, lo)
    base = stack.settings.public_url

    def post(path: str, body: dict) -> int:
        return http.post(f"{base}{path}", json=body, headers={"X-CSRF-Token": csrf}, timeout=10).status_code

    try:
        assert post("/api/presence", {"status_id": statuses["DND"]}) == 202
        wait_for(lambda: "paused" in (member_line(stack, lo, "cs-en") or ""), 10, "lo paused in cs-en")
        assert post("/api/profile", {"profile": profiles["wide"]}) == 202
        wait_for(lambda: penalty(stack, lo, "sales") == 5 and penalty(stack, lo, "cs-en") == 5, 10,
                 "the wide profile's queues in Asterisk")
        assert "paused" in member_line(stack, lo, "sales")  # a queue new to them
        assert "paused" in member_line(stack, lo, "cs-en")
        assert http.get(f"{base}/api/profile", timeout=10).json()["profile"] == profiles["wide"]
        assert f'value="{profiles["wide"]}" selected' in http.get(f"{base}/phone", timeout=10).text
        assert post("/api/presence", {"status_id": statuses["Available"]}) == 202
        wait_for(lambda: "paused" not in member_line(stack, lo, "sales"), 10, "lo unpaused in Sales")
    finally:
        post("/api/presence", {"status_id": statuses["Available"]})
