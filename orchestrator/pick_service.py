"""Pick mode in the orchestrator (docs/routing.md, "Pick mode"): each picking agent's live list of waiting
calls (event ``waiting_calls``), and the ``call_pick`` command that claims a call and moves its caller out of
the queue to the agent.

The rules are ``orchestrator/picking.py``'s; this service runs them in the orchestrator's event loop: checks
and claim in one step, then AMI ``Redirect`` of the caller's channel to ``[sb-pick]`` (extensions.conf), which
rings the agent and puts the caller back in the queue when the agent does not answer.

The lists are sent when they change (the model pokes after every event), with ``wait_seconds`` at ``at``: the
page ticks the waiting time itself. Who is in pick mode is read from the database at start, on
``provision``, before every pick, and every RELOAD_EVERY seconds; a change has the presence service pause
(or unpause) the agent's queue memberships ("Pick mode").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from orchestrator import callcontrol
from orchestrator.model import Model
from orchestrator.notifier import Notifier
from orchestrator.picking import Claims, refusal, waiting_list
from switchboard.contracts import CALL_PICK, PICK_REFRESH, WAITING_CALLS_EVENT
from switchboard.pick_db import Picker

logger = logging.getLogger(__name__)

AmiAction = Callable[[dict[str, Any]], Awaitable[Any]]
PICK_CONTEXT = "sb-pick"  # extensions.conf: exten = the agent's SIP user name
RELOAD_EVERY = 5.0  # seconds between reads of who is in pick mode (a profile changed without a provision)
TICKING = ("wait_seconds",)  # a call's fields that change every second by themselves: not a reason to emit


def steady(payload: dict[str, Any]) -> dict[str, Any]:
    """A ``waiting_calls`` payload without what ticks by itself, for change detection."""
    return {"pick_mode": payload["pick_mode"],
            "calls": [{k: v for k, v in c.items() if k not in TICKING} for c in payload["calls"]]}


class PickService:
    """Sends picking agents their waiting lists and carries out their picks."""

    def __init__(self, model: Model, ami: AmiAction, notifier: Notifier | None,
                 load: Callable[[], dict[str, Picker]], *, clock: Callable[[], float] = time.time,
                 on_change: Callable[[], Awaitable[None]] | None = None) -> None:
        self.model = model
        self.ami = ami
        self.notifier = notifier
        self.load = load  # blocking: run in a thread
        self.clock = clock
        self.on_change = on_change  # who is in pick mode changed (the presence service re-applies pauses)
        self.pickers: dict[str, Picker] = {}
        self.claims = Claims()
        self.sent: dict[str, dict[str, Any]] = {}  # agent -> the steady part of the list last sent
        self._poked = asyncio.Event()

    def poke(self) -> None:
        """Something changed (an event reached the model, a pick): the lists are looked at again soon."""
        self._poked.set()

    async def reload(self) -> None:
        """Read who is in pick mode, and from which queues."""
        pickers = await asyncio.to_thread(self.load)
        if pickers == self.pickers:
            return
        self.pickers = pickers
        logger.info("agents in pick mode: %s", ", ".join(sorted(pickers)) or "none")
        self.poke()
        if self.on_change is not None:
            await self.on_change()

    async def pick(self, command: dict[str, Any]) -> dict[str, Any]:
        """``call_pick`` {agent, call_id}: claim the call for the agent and ring them; the answer says whether
        they won it (``ok``) or why not (``already_picked`` with who did, ``not_waiting``, ...)."""
        agent, call_id = command.get("agent"), command.get("call_id")
        if not isinstance(agent, str) or not isinstance(call_id, str):
            return callcontrol.error("bad_request", "Pick a call by its id.")
        try:
            await self.reload()  # the agent may have changed profile a moment ago
        except Exception:
            logger.exception("could not read who is in pick mode; using what was read before")
        now = self.clock()
        picker = self.pickers.get(agent)
        refused = refusal(self.model, self.claims, picker, agent, call_id, now)
        if refused is not None:
            logger.info("%s did not get call %s: %s", agent, call_id, refused.message)
            return refused.answer()
        assert picker is not None  # refusal() refuses an agent who is not in pick mode
        # No await between the checks above and this claim: a second pick of the call is refused from here on.
        call = self.model.calls[call_id]
        self.claims.take(call, picker, now)
        self.poke()  # gone from every other list at once
        channel = self.model.channel_names.get(call.waiting_channel, "")
        try:
            refused_by = callcontrol.refusal(await self.ami({"Action": "Redirect", "Channel": channel,
                                                            "Context": PICK_CONTEXT, "Exten": agent, "Priority": "1"}))
        except Exception as exc:  # AMI away
            refused_by = str(exc) or type(exc).__name__
        if refused_by:
            self.claims.release(call_id)
            self.poke()
            logger.warning("pick of %s by %s: Asterisk did not move %s: %s", call_id, agent, channel, refused_by)
            return callcontrol.error("asterisk_refused", f"The call could not be moved to you: {refused_by}.")
        logger.info("%s picked call %s from %s (%s)", agent, call_id, call.queue, channel)
        return {"ok": True, "call_id": call_id, "queue": call.queue,
                "queue_label": self.model.queue_labels.get(call.queue, call.queue), "agent": agent}

    async def publish(self, force: str = "") -> None:
        """Send each picking agent their list when it changed (``force``: that agent's in any case)."""
        now = self.clock()
        self.claims.prune(self.model, now)
        for agent in sorted(set(self.pickers) | set(self.sent) | ({force} if force else set())):
            picker = self.pickers.get(agent)
            calls = waiting_list(self.model, self.claims, picker, now) if picker is not None else []
            payload = {"pick_mode": picker is not None, "at": now, "calls": calls}
            if agent != force and self.sent.get(agent) == steady(payload):
                continue
            if picker is None:
                self.sent.pop(agent, None)  # told once that pick mode is over
            else:
                self.sent[agent] = steady(payload)
            if self.notifier is not None:
                await self.notifier.to_agent(agent, WAITING_CALLS_EVENT, payload)

    async def refresh(self, command: dict[str, Any]) -> None:
        """``pick_refresh`` {agent}: send that agent's list now (their page just connected)."""
        agent = command.get("agent")
        if isinstance(agent, str) and agent:
            await self.reload()
            await self.publish(force=agent)

    async def run(self, interval: float = 1.0, settle: float = 0.05) -> None:
        """Keep the lists up to date: after each poke (a burst settles ``settle`` s first), and every
        ``interval`` s (claims expire); read who is in pick mode every RELOAD_EVERY s."""
        read_at = time.monotonic()
        while True:
            try:
                await asyncio.wait_for(self._poked.wait(), interval)
                await asyncio.sleep(settle)
            except TimeoutError:
                pass
            self._poked.clear()
            try:
                if time.monotonic() - read_at >= RELOAD_EVERY:
                    read_at = time.monotonic()
                    await self.reload()
                await self.publish()
            except Exception:
                logger.exception("waiting lists not sent")

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[Any]]]:
        """The command handlers this service adds to the orchestrator's command channel."""
        return {CALL_PICK: self.pick, PICK_REFRESH: self.refresh}
