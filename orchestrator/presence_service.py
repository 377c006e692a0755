"""Presence in Asterisk: applies ``switchboard.presence`` through AMI, on commands, every second and
after every resync, so Asterisk always matches the database.

Queue calls: ``QueuePause`` per queue with a reason (the members stay static in queues.conf).
Direct calls: ``DBPut switchboard/presence/<agent> = <type>``, read by ``[sb-agent-direct]``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pluggy

from orchestrator.notifier import Notifier
from switchboard import presence as p
from switchboard import presence_db
from switchboard.contracts import (
    PRESENCE_EVENT,
    PRESENCE_NOTICE,
    PRESENCE_POOL,
    PRESENCE_QUEUE,
    PRESENCE_REFRESH,
    PRESENCE_SET,
    RESULT_TTL,
    RETRY,
    SET_WRAPUP_CODE,
    WRAPUP_CODE,
    finish_call_job_id,
    wrapup_job_id,
)
from switchboard.hookspecs import Rewrite, Veto
from switchboard.plugins import safe_call
from switchboard.store import Agent, Store

logger = logging.getLogger(__name__)

AmiAction = Callable[[dict[str, Any]], Awaitable[Any]]
Hook = Callable[..., None]  # fire and forget: the dispatcher's hook lane (Dispatcher.hook)
STATUS_HOOK_BUDGET = 2.0  # seconds each plugin has to answer status_change_requested


def member_interface(agent: str) -> str:
    """The queue member interface of an agent (see provisioning.render_members)."""
    return f"Local/{agent}@sb-agent/n"


def status_view(chosen: p.Chosen) -> dict[str, Any]:
    """A status as the plugins see it: ``id``, ``name``, ``kind``, ``until``."""
    return {"id": chosen.status_id, "name": chosen.status, "kind": chosen.kind, "until": chosen.until}


class PresenceService:
    """Holds every agent's presence, persists changes, and makes Asterisk and the pages follow."""

    def __init__(self, store: Store, ami: AmiAction, notifier: Notifier | None, jobs: Any = None,
                 clock: Callable[[], float] = time.time, *, pm: pluggy.PluginManager | None = None,
                 hook: Hook | None = None,
                 live: Callable[[str, dict[str, Any], float], Awaitable[None]] | None = None) -> None:
        self.store = store
        self.live = live
        self.pm = pm
        self.hook = hook
        self.ami = ami
        self.notifier = notifier
        self.jobs = jobs  # an rq.Queue, for the wrap-up code job
        self.clock = clock
        self.agents: dict[str, p.AgentPresence] = {}
        self.statuses: dict[int, p.StatusDef] = {}
        self.applied: dict[str, p.Wanted] = {}
        self._lock = asyncio.Lock()

    # -- loading and applying -----------------------------------------------------------------------
    async def reload(self, force: bool = True) -> None:
        """Load every agent from the database and apply; ``force`` resends all (after a resync)."""
        async with self._lock:
            before = self.agents
            self.agents, self.statuses = await asyncio.to_thread(presence_db.load_all, self.store)
            for agent, state in before.items():  # what is not stored: the system statuses of calls going on
                if state.system is not None and agent in self.agents:
                    self.agents[agent] = dataclasses.replace(self.agents[agent], system=state.system)
            if force:
                self.applied.clear()
            for agent in list(self.agents):
                await self._advance(agent)

    def paused_queues(self, agents: Iterable[Agent] = ()) -> dict[str, set[str]]:
        """The queues each agent is to be paused in now (for rendering queue members); ``agents`` (memberships
        loaded) bring the queues they are members of from now on, e.g. after a profile change: a DND agent
        is rendered paused in a queue new to them too."""
        now = self.clock()
        states = dict(self.agents)
        for a in agents:
            if a.sip_username in states:
                states[a.sip_username] = dataclasses.replace(states[a.sip_username],
                                                             queues=presence_db.queue_switches(a))
        return {agent: {q for q, reason in p.wanted(state, now).paused.items() if reason}
                for agent, state in states.items()}

    async def _advance(self, agent: str, before: p.AgentPresence | None = None, *, why: str = "time",
                       code: str = "") -> None:
        """Let time act on one agent, persist a change, apply to Asterisk, tell the page and the plugins."""
        now = self.clock()
        current = self.agents[agent]
        after = p.tick(current, self.statuses, now)
        changed = after != current or before is not None
        self.agents[agent] = after
        if after != current:
            await asyncio.to_thread(presence_db.save, self.store, current, after)
        applied = await self._apply(after, now)
        if changed or applied:
            await self._emit(after, now)
        if changed:
            self._announce(before if before is not None else current, after, why, code)

    def _announce(self, before: p.AgentPresence, after: p.AgentPresence, why: str, code: str) -> None:
        """Tell the plugins what changed: the status, a wrap-up that started or finished."""
        if self.hook is None:
            return
        agent, old, new = after.agent, before.chosen, after.chosen
        if (old.status_id, old.status, old.kind) != (new.status_id, new.status, new.kind):
            self.hook("status_changed", agent=agent, status=status_view(new), previous=status_view(old))
        w0, w1 = before.wrapup, after.wrapup
        if w0 is not None and (w1 is None or w1.call_id != w0.call_id):
            self.hook("wrapup_finished", agent=agent, call_id=w0.call_id, code=code if why == "code" else "",
                      reason=why if why in ("code", "status") else "time")
        if w1 is not None and (w0 is None or w0.call_id != w1.call_id):
            self.hook("wrapup_started", agent=agent, call_id=w1.call_id, queue=w1.queue, until=w1.until)

    async def _apply(self, state: p.AgentPresence, now: float) -> bool:
        """Send the AMI actions that bring Asterisk to what ``state`` wants; True when any was sent."""
        want = p.wanted(state, now)
        had = self.applied.get(state.agent)
        sent = False
        if had is None or had.direct != want.direct:
            await self._action({"Action": "DBPut", "Family": p.DB_FAMILY, "Key": state.agent, "Val": want.direct})
            sent = True
        for queue, reason in want.paused.items():
            if had is not None and had.paused.get(queue) == reason:
                continue
            action = {"Action": "QueuePause", "Interface": member_interface(state.agent), "Queue": queue,
                      "Paused": "true" if reason else "false"}
            if reason:
                action["Reason"] = reason
            await self._action(action)
            sent = True
        self.applied[state.agent] = want
        if sent:
            logger.info("presence of %s applied: %s, paused %s", state.agent, want.direct,
                        {q: r for q, r in want.paused.items() if r} or "nowhere")
        return sent

    async def hold(self, holds: dict[str, frozenset[str]]) -> int:
        """The SLA arbiter's holds (agent -> queues to hold them back in; an agent left out: none), applied
        to Asterisk as pauses; nothing is stored and the pages are not told. Returns how many agents changed."""
        changed = 0
        async with self._lock:
            now = self.clock()
            for agent, state in list(self.agents.items()):
                held = holds.get(agent, frozenset())
                if held == state.held:
                    continue
                self.agents[agent] = after = dataclasses.replace(state, held=held)
                await self._apply(after, now)
                changed += 1
        return changed

    async def _action(self, action: dict[str, Any]) -> None:
        response = await self.ami(action)
        first = response[0] if isinstance(response, list) and response else response
        if hasattr(first, "get") and str(first.get("Response", "")).lower() == "error":
            logger.warning("AMI %s %s failed: %s", action["Action"], action.get("Queue", action.get("Key")),
                           first.get("Message"))

    async def _emit(self, state: p.AgentPresence, now: float) -> None:
        view = p.view(state, now)
        if self.notifier is not None:
            await self.notifier.to_agent(state.agent, PRESENCE_EVENT, view)
        if self.live is not None:
            try:
                await self.live(state.agent, view, now)
            except Exception as exc:  # Redis away: the page still got it; the CLI shows it later
                logger.warning("could not keep the presence of %s for the CLI: %s", state.agent, exc)

    async def tick(self) -> None:
        """Once a second: expiries, schedules and wrap-up ends."""
        async with self._lock:
            for agent in list(self.agents):
                await self._advance(agent)

    async def run_timer(self, interval: float = 1.0) -> None:
        """Tick forever."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tick()
            except Exception:
                logger.exception("presence tick failed")

    # -- commands from the web (agent = the logged-in session's SIP user) ----------------------------
    async def _known(self, command: dict[str, Any]) -> str | None:
        agent = command.get("agent")
        if not isinstance(agent, str) or agent not in self.agents:
            await self.reload(force=False)  # an agent added since the last load
        if not isinstance(agent, str) or agent not in self.agents:
            logger.warning("rejected %s for unknown agent %.80r", command.get("command"), agent)
            return None
        return agent

    async def _change(self, agent: str, new: p.AgentPresence, *, why: str = "time", code: str = "") -> None:
        before = self.agents[agent]
        self.agents[agent] = new
        await asyncio.to_thread(presence_db.save, self.store, before, new)
        await self._advance(agent, before, why=why, code=code)

    async def set_status(self, command: dict[str, Any]) -> None:
        """``presence_set`` {agent, status_id}: the agent chose a named status (the plugins may refuse or
        replace it); it ends a wrap-up."""
        agent = await self._known(command)
        if agent is None:
            return
        status = self.statuses.get(command.get("status_id"))  # type: ignore[arg-type]
        if status is None:
            logger.warning("rejected presence_set of %s: unknown status %.40r", agent, command.get("status_id"))
            return
        status, reason = await self._ask_plugins(agent, status)
        async with self._lock:
            state = self.agents[agent]
            if status is None:
                await self._emit(state, self.clock())  # the page's choice snaps back
                await self._notice(agent, reason, refused=True)
                return
            chosen = p.choose(status, self.clock(), receive_pool_calls=state.chosen.receive_pool_calls,
                              before=state.chosen)
            await self._change(agent, dataclasses.replace(state, chosen=chosen, wrapup=None), why="status")
        if reason:
            await self._notice(agent, reason, refused=False)

    async def _ask_plugins(self, agent: str, status: p.StatusDef) -> tuple[p.StatusDef | None, str]:
        """``status_change_requested``: the status to apply (None: refused) and the plugin's reason."""
        if self.pm is None:
            return status, ""
        now = self.clock()
        answer = await safe_call(self.pm, "status_change_requested", STATUS_HOOK_BUDGET, agent=agent,
                                 status=status_view(p.choose(status, now)), current=p.view(self.agents[agent], now))
        if isinstance(answer, Veto):
            logger.info("a plugin refused %s for %s: %s", status.name, agent, answer.reason)
            return None, str(answer.reason)
        if isinstance(answer, Rewrite):
            other = next((s for s in self.statuses.values() if s.name == answer.status), None)
            if other is None:
                logger.error("a plugin replaced %s of %s with an unknown status %.80r; kept %s", status.name,
                             agent, answer.status, status.name)
                return status, ""
            logger.info("a plugin replaced %s of %s with %s: %s", status.name, agent, other.name, answer.reason)
            return other, str(answer.reason)
        if answer is not None:
            logger.error("a plugin answered status_change_requested with %.80r (not Veto or Rewrite); ignored",
                         answer)
        return status, ""

    async def _notice(self, agent: str, reason: str, *, refused: bool) -> None:
        if self.notifier is not None:
            await self.notifier.to_agent(agent, PRESENCE_NOTICE, {"reason": reason, "refused": refused})

    async def set_pool_calls(self, command: dict[str, Any]) -> None:
        """``presence_pool`` {agent, on}: receive pool calls or not."""
        agent = await self._known(command)
        if agent is None:
            return
        async with self._lock:
            state = self.agents[agent]
            chosen = dataclasses.replace(state.chosen, receive_pool_calls=bool(command.get("on")))
            await self._change(agent, dataclasses.replace(state, chosen=chosen))

    async def set_queue(self, command: dict[str, Any]) -> None:
        """``presence_queue`` {agent, queue, active}: the agent's own switch for one queue."""
        agent = await self._known(command)
        if agent is None:
            return
        queue, active = command.get("queue"), bool(command.get("active"))
        async with self._lock:
            state = self.agents[agent]
            if not any(q.name == queue for q in state.queues):
                logger.warning("rejected presence_queue of %s: not a member of %.80r", agent, queue)
                return
            await asyncio.to_thread(self.store.set_membership_active, agent, str(queue), active)
            switches = tuple(dataclasses.replace(q, active=active) if q.name == queue else q for q in state.queues)
            await self._change(agent, dataclasses.replace(state, queues=switches))

    async def refresh(self, command: dict[str, Any]) -> None:
        """``presence_refresh`` {agent}: the agent's schedules changed in the database."""
        agent = await self._known(command)
        if agent is None:
            return
        async with self._lock:
            fresh = await asyncio.to_thread(presence_db.load_one, self.store, agent)
            if fresh is not None:
                self.agents[agent] = dataclasses.replace(self.agents[agent], schedules=fresh.schedules)
                await self._advance(agent, self.agents[agent])

    async def wrapup_code(self, command: dict[str, Any]) -> None:
        """``wrapup_code`` {agent, call_id, code}: store the code on the call and end the wrap-up."""
        agent = await self._known(command)
        if agent is None:
            return
        call_id, code = command.get("call_id"), command.get("code")
        if not isinstance(call_id, str) or not isinstance(code, str) or not code:
            logger.warning("rejected wrapup_code of %s: %.120r", agent, command)
            return
        async with self._lock:
            state = self.agents[agent]
            if state.wrapup is not None and state.wrapup.call_id == call_id and state.wrapup.codes \
                    and code not in state.wrapup.codes:
                logger.warning("rejected wrapup_code of %s: %.80r is not a code of %s", agent, code,
                               state.wrapup.queue)
                return
            await self._enqueue_code(call_id, code)
            await self._change(agent, p.end_wrapup(state, call_id), why="code", code=code)

    async def _enqueue_code(self, call_id: str, code: str) -> None:
        if self.jobs is None:
            return
        def enqueue() -> None:
            finish = self.jobs.fetch_job(finish_call_job_id(call_id))
            # After the call's own job: its Task is then in the outbox (or written) when the code lands.
            self.jobs.enqueue(SET_WRAPUP_CODE, call_id, code, job_id=wrapup_job_id(call_id), retry=RETRY,
                              depends_on=finish if finish is not None else None, result_ttl=RESULT_TTL)

        await asyncio.to_thread(enqueue)
        logger.info("wrap-up code for call %s queued", call_id)

    # -- what plugins do (orchestrator/presence_control.py hands them these) -----------------------------
    async def set_system(self, agent: str, name: str | None, kind: str = p.BUSY) -> None:
        """Show ``name`` (of status type ``kind``) over ``agent``'s own status, or none when ``name`` is
        None; not stored (a restarted orchestrator shows the agent's own)."""
        if kind not in p.KINDS:
            logger.error("system status %.40r for %s: unknown type %.20r; ignored", name, agent, kind)
            return
        if agent not in self.agents:
            await self.reload(force=False)
        async with self._lock:
            state = self.agents.get(agent)
            if state is None:
                logger.warning("system status %.40r for unknown agent %.80r; ignored", name, agent)
                return
            had = (state.system.name, state.system.kind) if state.system is not None else None
            if had == ((name, kind) if name else None):
                return
            system = p.SystemStatus(name, kind, self.clock()) if name else None
            await self._shift(state, dataclasses.replace(state, system=system))

    async def _shift(self, before: p.AgentPresence, after: p.AgentPresence) -> None:
        """A change nobody stores (a system status): apply it, tell the page and the plugins."""
        self.agents[after.agent] = after
        now = self.clock()
        await self._apply(after, now)
        await self._emit(after, now)
        self._announce(before, after, "time", "")

    async def start_wrapup(self, agent: str, queue: str, call_id: str, seconds: int | None = None) -> None:
        """Put ``agent`` in wrap-up after ``call_id``: for ``queue``'s configured time (and codes), or for
        ``seconds`` without codes (a call without a queue); the system status ("In a Call") ends."""
        if agent not in self.agents:
            await self.reload(force=False)
        async with self._lock:
            if agent not in self.agents:
                return
            row = await asyncio.to_thread(self.store.find_queue, queue) if queue else None
            if row is not None:
                wrapup = p.start_wrapup(call_id, queue, row.wrapup_seconds, presence_db.wrapup_codes(row),
                                        row.wrapup_required, self.clock())
            else:
                wrapup = p.start_wrapup(call_id, queue, seconds or 0, (), False, self.clock())
            state = self.agents[agent]
            if wrapup is None:
                if state.system is not None:
                    await self._shift(state, dataclasses.replace(state, system=None))
                return
            logger.info("%s in wrap-up after call %s (%s)", agent, call_id,
                        "until a code" if wrapup.required else f"{wrapup.until - self.clock():.0f} s")
            await self._change(agent, dataclasses.replace(state, wrapup=wrapup, system=None))

    async def switch(self, agent: str, *, status: str | None = None, offwork: bool = False,
                     queues: bool | None = None, queue_names: tuple[str, ...] = ()) -> bool:
        """Another system's change (Omni-Channel): choose the status named ``status`` (or the first untimed
        OffWork status with ``offwork``), switch the agent's ``queue_names`` (all theirs when empty) on
        or off; True when something changed. The plugins are not asked: the agent chose it elsewhere."""
        async with self._lock:
            state = self.agents.get(agent)
            if state is None:
                return False
            new = state
            if queues is not None:
                switched = []
                for q in state.queues:
                    if (not queue_names or q.name in queue_names) and q.active != queues:
                        await asyncio.to_thread(self.store.set_membership_active, agent, q.name, queues)
                        q = dataclasses.replace(q, active=queues)
                    switched.append(q)
                new = dataclasses.replace(new, queues=tuple(switched))
            wanted = None
            if status is not None:
                wanted = next((s for s in self.statuses.values() if s.name == status), None)
                if wanted is None:
                    logger.error("%s: no Switchboard status %.80r (the Omni mapping names it)", agent, status)
            elif offwork:
                wanted = p.default_status(self.statuses, p.OFFWORK)
            if wanted is not None and (wanted.id, wanted.name) != (state.chosen.status_id, state.chosen.status):
                chosen = p.choose(wanted, self.clock(), receive_pool_calls=state.chosen.receive_pool_calls,
                                  before=state.chosen)
                new = dataclasses.replace(new, chosen=chosen, wrapup=None)
            if new == state:
                return False
            await self._change(agent, new, why="status")
            return True

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        """The command handlers this service adds to the orchestrator's command channel."""
        return {PRESENCE_SET: self.set_status, PRESENCE_POOL: self.set_pool_calls,
                PRESENCE_QUEUE: self.set_queue, PRESENCE_REFRESH: self.refresh, WRAPUP_CODE: self.wrapup_code}
