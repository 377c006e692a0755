"""End to end, all real: pick mode (docs/routing.md, "Pick mode"). Two agents under a pick-mode profile see the
callers waiting in their queue live in the web phone (Chromium), both pick the same caller at nearly the same
moment: exactly one of them gets the call ringing, the other is told who was faster, and the caller leaves
both lists. The winner declines: the caller is back in the queue ahead of the caller who came after it, and
back in both lists; the other agent picks it, answers and talks, and the call's record names them."""

from __future__ import annotations

import re
import time

import pytest
import redis
from sqlalchemy import select

from switchboard.commands import encode
from switchboard.contracts import COMMAND_CHANNEL, PROVISION
from switchboard.store import Store
from switchboard.store.models import Agent, Profile, ProfileSkill, ServiceQueue
from tests.support.paths import ARTIFACTS
from tests.support.phone import login, ring, wait_audio, wait_state
from tests.support.stack import fresh_agent, member_line, wait_for

pytestmark = pytest.mark.e2e

FIRST = ("+358401110001", "Aino Aaltonen")
LATER = ("+358401110002", "<img src=x onerror=\"window.__pwned=1\"> & Co")  # untrusted text, shown as text


def pick_mode_profile(stack, agents: list[str], queue: str = "cs-en") -> None:
    """A profile in pick mode with ``queue``, ``agents`` working under it; the orchestrator re-reads at once."""
    store = Store(stack.settings.database_url)
    with store.session() as s, s.begin():
        q = s.scalar(select(ServiceQueue).where(ServiceQueue.name == queue))
        profile = Profile(name=f"Pickers {agents[0]}", pick_mode=True, skills=[ProfileSkill(queue_id=q.id, skill=8)])
        s.add(profile)
        s.flush()
        for agent in s.scalars(select(Agent).where(Agent.sip_username.in_(agents))):
            agent.profile_id = profile.id
    store.engine.dispose()
    client = redis.Redis.from_url(stack.settings.redis_url)
    client.publish(COMMAND_CHANNEL, encode(PROVISION))
    client.close()


def listed(page) -> list[str]:
    """The caller numbers of the page's waiting list, top first."""
    return page.evaluate("[...document.querySelectorAll('#pick-list .pick-number')].map(e => e.textContent)")


def wait_listed(page, numbers: list[str], timeout: float = 10000) -> None:
    page.wait_for_function(
        "(want) => JSON.stringify([...document.querySelectorAll('#pick-list .pick-number')].map(e => e.textContent))"
        " === JSON.stringify(want)", arg=numbers, timeout=timeout)


def queue_order(stack, queue: str = "cs-en") -> list[str]:
    """The channels waiting in ``queue``, in Asterisk's order."""
    out = stack.asterisk.cli(f"queue show {queue}").stdout
    return re.findall(r"^\s+\d+\. (\S+)", out.split("Callers:", 1)[1], re.M) if "Callers:" in out else []


def test_two_pickers_one_wins_the_other_is_told_and_an_unanswered_pick_returns_to_its_place(browser, stack,
                                                                                             customers):
    agents = [fresh_agent(stack, prefix="pk"), fresh_agent(stack, prefix="pk")]
    pick_mode_profile(stack, agents)
    wait_for(lambda: all("Pick mode" in (member_line(stack, a) or "") for a in agents), 15,
             "the picking agents are not paused for pick mode in cs-en")
    pages = {a: login(browser, stack, a) for a in agents}
    for page in pages.values():
        page.wait_for_selector("#pick", state="visible", timeout=10000)

    first = ring(customers, number=FIRST[0], name=FIRST[1])
    for page in pages.values():
        wait_listed(page, [FIRST[0]])
    later = ring(customers, number=LATER[0], name=LATER[1])
    for page in pages.values():
        wait_listed(page, [FIRST[0], LATER[0]])
        assert page.evaluate("[...document.querySelectorAll('#pick-list .pick-name')].map(e => e.textContent)") == [
            FIRST[1], LATER[1]]
        assert page.locator("#pick-list img").count() == 0 and page.evaluate("window.__pwned") is None
    time.sleep(1.5)  # the waiting times tick
    for page in pages.values():
        shown = page.evaluate("[...document.querySelectorAll('#pick-list .pick-wait')].map(e => e.textContent)")
        assert shown[0] not in ("", "0s"), (shown, page.evaluate("window.switchboardPick.calls()"))
    ARTIFACTS.mkdir(exist_ok=True)
    for n, page in enumerate(pages.values(), 1):
        page.screenshot(path=str(ARTIFACTS / f"e2e-pick-list-{n}.png"))
    call_id = pages[agents[0]].evaluate("window.switchboardPick.calls()[0].call_id")
    order = [first.channel(), later.channel()]
    assert queue_order(stack) == order

    # both pick the first caller at nearly the same moment
    button = f'#pick-list [data-call-id="{call_id}"] .pick-button'
    for page in pages.values():
        page.evaluate("(selector) => document.querySelector(selector).click()", button)
    for page in pages.values():
        page.wait_for_function("['won', 'lost'].includes(document.querySelector('#pick-result').dataset.state)",
                               timeout=10000)
    states = {a: page.get_attribute("#pick-result", "data-state") for a, page in pages.items()}
    assert sorted(states.values()) == ["lost", "won"], states
    winner = next(a for a, s in states.items() if s == "won")
    loser = next(a for a, s in states.items() if s == "lost")
    assert pages[loser].text_content("#pick-result") == f"Already picked by Workflow {winner}."
    pages[winner].wait_for_selector("#incoming", state="visible", timeout=10000)
    assert pages[winner].text_content("#caller-number").strip() == FIRST[0]
    assert pages[winner].text_content("#queue-name").strip() == "Customer Service EN"
    assert pages[loser].is_hidden("#call")
    for page in pages.values():
        wait_listed(page, [LATER[0]])
    assert queue_order(stack) == [order[1]]  # out of the queue: nobody else is offered it
    for n, agent in enumerate((winner, loser), 1):
        pages[agent].screenshot(path=str(ARTIFACTS / f"e2e-pick-{'won' if n == 1 else 'lost'}.png"))

    # the winner declines: the caller is back where it was, ahead of the later caller, pickable by anyone
    pages[winner].click("#decline")
    for page in pages.values():
        wait_listed(page, [FIRST[0], LATER[0]])
    wait_for(lambda: queue_order(stack) == order, 5, f"not back in its place: {queue_order(stack)}")

    pages[loser].click(button)
    pages[loser].wait_for_selector("#incoming", state="visible", timeout=10000)
    assert pages[loser].text_content("#caller-number").strip() == FIRST[0]
    pages[loser].click("#answer")
    wait_state(pages[loser], "In call")
    wait_audio(pages[loser])
    for page in pages.values():
        wait_listed(page, [LATER[0]])
    pages[loser].screenshot(path=str(ARTIFACTS / "e2e-pick-answered.png"))
    pages[loser].click("#hangup")
    wait_state(pages[loser], "Call ended", timeout=5000)
    assert first.wait(5).ended_by == "network"

    store = Store(stack.settings.database_url)
    wait_for(lambda: store.get_call(call_id) is not None, 10, "the picked call was not recorded")
    record = store.get_call(call_id)
    store.engine.dispose()
    assert (record.agent, record.queue, record.disposition) == (loser, "cs-en", "answered")
    later.stop()
    for page in pages.values():
        assert page.js_errors == []  # type: ignore[attr-defined]
        page.context.close()
