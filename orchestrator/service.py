"""The orchestrator's lifecycle: wire AMI, ARI, model, dispatcher and commands together."""

from __future__ import annotations

import asyncio
import logging
import time

from orchestrator import events as ev
from orchestrator.ami import AmiConnection
from orchestrator.ari import AriClient
from orchestrator.callcontrol import CallControl
from orchestrator.dashboard import DashboardService
from orchestrator.dispatcher import Dispatcher
from orchestrator.jobs import JobQueue
from orchestrator.livecalls import LiveCalls
from orchestrator.model import Model
from orchestrator.notifier import Notifier
from orchestrator.omni_sync import OmniSync
from orchestrator.pick_service import PickService
from orchestrator.presence_control import PresenceControl
from orchestrator.presence_service import PresenceService
from orchestrator.provisioning import write_dialplan_globals, write_includes, write_work_numbers
from orchestrator.routing import Router
from orchestrator.sla_arbiter import SlaArbiter
from switchboard import commands
from switchboard.callerdata import SalesforceData
from switchboard.config import Settings
from switchboard.contracts import HELD_CALLS_EVERY, PROVISION
from switchboard.pick_db import pickers
from switchboard.plugins import DEFAULT_BUDGET, plugin_manager, safe_call
from switchboard.sfservices import SalesforceServices
from switchboard.sip import SIP
from switchboard.store import Store

logger = logging.getLogger(__name__)


class Orchestrator:
    """Owns the live model; every event goes translate -> model -> dispatcher, in order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.database_url)
        self.model = Model(region=settings.default_region)
        self.pm = plugin_manager(settings.plugins)
        self.dispatcher = Dispatcher(Notifier(settings.redis_url, settings.socketio_channel),
                                     JobQueue(settings.redis_url, settings.rq_queue), self.pm,
                                     ami=self._ami_action, live=LiveCalls(settings.redis_url))
        self.events: asyncio.Queue[ev.Event] = asyncio.Queue()
        self.ami = AmiConnection(settings.ami_host, settings.ami_port, settings.ami_username, settings.ami_secret,
                                 self.events.put)
        self.ari = AriClient(settings.ari_url, settings.ari_username, settings.ari_password, settings.ari_app,
                             self._on_ari, on_connect=self._on_ari_connected)
        self.router: Router | None = None
        self.presence = PresenceService(self.store, self._ami_action, self.dispatcher.notifier,
                                        self.dispatcher.jobs.queue, pm=self.pm, hook=self.dispatcher.hook,
                                        live=self.dispatcher.live.presence if self.dispatcher.live else None)
        self._presence_sync: asyncio.Task[None] | None = None
        self.omni = OmniSync(self.presence, self.store, workload_limit=settings.omni_workload_limit,
                             voice_queues=settings.omni_voice_queues, hook=self.dispatcher.hook)
        self.dashboard = DashboardService(self.model, self.dispatcher.notifier)
        self.calls = CallControl(self.model, self._ami_action)
        self.sla = SlaArbiter(self.model, self.presence)
        self.picks = PickService(self.model, self._ami_action, self.dispatcher.notifier, lambda: pickers(self.store),
                                 on_change=lambda: self.presence.reload(force=False))

    async def _ami_action(self, action: dict) -> object:
        return await self.ami.action(action)

    async def _on_ari(self, message: dict) -> None:
        if self.router is not None:
            await self.router.on_ari(message)

    async def _on_ari_connected(self) -> None:
        if self.router is not None:
            await self.router.recover()

    async def _consume(self) -> None:
        while True:
            event = await self.events.get()
            # First sight of a queue call: warm the caller lookup before any phone rings.
            warm = isinstance(event, ev.CallRouted | ev.CallerJoinedQueue) and event.linkedid not in self.model.calls
            if warm:
                self.dispatcher.warm_caller(event.caller_number, event.linkedid)
            try:
                changes = self.model.apply(event)
            except Exception:
                logger.exception("model rejected %r", event)
                continue
            if changes:
                await self.dispatcher.dispatch(changes)
            self.picks.poke()  # pick mode: the waiting lists may have changed
            if isinstance(event, ev.ResyncCompleted):  # Asterisk may have restarted: re-apply presence
                self._presence_sync = asyncio.create_task(self.presence.reload())

    async def watch_backlog(self, every: float = 5.0, warn_at: int = 200) -> None:
        """Log, while it lasts, a backlog of Asterisk events or of their effects (the orchestrator is behind)."""
        while True:
            await asyncio.sleep(every)
            events, effects = self.events.qsize(), self.dispatcher.backlog()
            if events >= warn_at or effects >= warn_at:
                logger.warning("behind: %d events and %d effects wait (phone %d, jobs %d, hooks %d)", events,
                               effects, self.dispatcher.phone.backlog, self.dispatcher.work.backlog,
                               self.dispatcher.hooks.backlog)

    async def publish_held_calls(self) -> None:
        """Tell the ledger reconciler which calls the live model holds, every HELD_CALLS_EVERY seconds."""
        live = self.dispatcher.live
        assert live is not None
        while True:
            try:
                await live.held(self.model.calls)
            except Exception as exc:  # Redis away: the key expires and the reconciler acts alone meanwhile
                logger.warning("could not publish the calls held: %s", exc)
            await asyncio.sleep(HELD_CALLS_EVERY)

    def routing_data(self) -> SalesforceData:
        """The ``salesforce`` argument of ``route_call``: the caller's Salesforce data (cached lookups, tried
        once each: a Salesforce that is down or slow makes the plugin fail, and the call keeps its path)."""
        services = SalesforceServices(self.settings)
        return SalesforceData(services.client, self.settings.default_region, self.store.linked_agents)

    async def load_queues(self) -> None:
        """Refresh queue labels from the database."""
        queues = await asyncio.to_thread(self.store.list_queues)
        self.model.queue_labels = {q.name: q.label for q in queues}
        self.model.queue_numbers = {q.name: q.number for q in queues}
        self.sla.thresholds = {q.name: q.sla_seconds for q in queues}
        if self.router is not None:
            self.router.queues = set(self.model.queue_labels)

    async def load_agents(self) -> list:
        """The agents from the database; the model learns which endpoints are agents (in event order)."""
        agents = await asyncio.to_thread(self.store.list_agents)
        self.sla.penalties = {a.sip_username: {m.queue.name: m.penalty for m in a.memberships} for a in agents}
        await self.events.put(ev.AgentsProvisioned(
            time.time(), frozenset(a.sip_username for a in agents),
            frozenset(a.sip_username for a in agents if a.device == SIP),
            tuple((a.sip_username, frozenset(m.queue.name for m in a.memberships)) for a in agents)))
        return agents

    async def provision(self, _command: dict | None = None) -> None:
        """Write agents and queue members from the database into Asterisk and reload what changed."""
        await self.load_queues()
        agents = await self.load_agents()
        await self.picks.reload()  # a profile in pick mode pauses its agents ("Pick mode") in the members rendered now
        if not self.settings.asterisk_generated_dir:
            return
        # pauses by the memberships as they are now: a members reload takes each member's pause from the file,
        # so an agent in DND whose profile brings a new queue is paused there from the first moment
        agents_changed, members_changed = await asyncio.to_thread(
            write_includes, self.settings.asterisk_generated_dir, agents, self.presence.paused_queues(agents))
        if agents_changed:
            await self.ami.action({"Action": "Command", "Command": "module reload res_pjsip.so"})
        if members_changed:
            await self.ami.action({"Action": "Command", "Command": "queue reload members"})
        work_numbers = await asyncio.to_thread(write_work_numbers, self.settings.asterisk_generated_dir, agents)
        globals_changed = await asyncio.to_thread(write_dialplan_globals, self.settings.asterisk_generated_dir,
                                                  self.settings)
        if work_numbers or globals_changed:  # agents' work numbers; outbound route, company number, display key
            await self.ami.action({"Action": "Command", "Command": "dialplan reload"})
        logger.info("provisioned %d agents (endpoints %s, members %s)", len(agents),
                    "reloaded" if agents_changed else "unchanged", "reloaded" if members_changed else "unchanged")
        await self.presence.reload()  # a members reload resets pauses; new agents get their presence

    async def run(self) -> None:
        """Run until cancelled."""
        self.pm.provide("presence", PresenceControl(self.presence, asyncio.get_running_loop()))
        await safe_call(self.pm, "startup", DEFAULT_BUDGET, process="orchestrator")
        self.router = Router(self.ari, self.pm, self.settings.routing_timeout, set(),
                             salesforce=self.routing_data(), save_trace=self.store.save_trace)
        await self.load_queues()
        await self.load_agents()  # before AMI's first events: which endpoints are agents
        consumer = asyncio.create_task(self._consume())
        ari_task = asyncio.create_task(self.ari.run())
        await self.ami.connect()
        await self.provision()
        handlers = {PROVISION: self.provision, **self.presence.handlers(), **self.dashboard.handlers(),
                    **self.calls.handlers(), **self.omni.handlers(), **self.picks.handlers()}
        cmd_task = asyncio.create_task(commands.listen(self.settings.redis_url, handlers))
        presence_timer = asyncio.create_task(self.presence.run_timer())
        dashboard_timer = asyncio.create_task(self.dashboard.run_timer())
        pick_lists = asyncio.create_task(self.picks.run())
        sla = asyncio.create_task(self.sla.run() if self.settings.sla_routing else asyncio.Event().wait())
        held = asyncio.create_task(self.publish_held_calls())
        watch = asyncio.create_task(self.watch_backlog())
        logger.info("orchestrator running")
        try:
            await asyncio.gather(consumer, ari_task, cmd_task, presence_timer, dashboard_timer, pick_lists, held,
                                 watch, sla)
        finally:
            try:  # a clean stop lets the lanes finish (what is lost on a kill, the call ledger makes up)
                await asyncio.wait_for(self.dispatcher.drain(), 5)
            except (TimeoutError, asyncio.CancelledError):
                logger.warning("stopped with %d effects still waiting", self.dispatcher.backlog())
            self.ami.close()
            await self.ari.close()
            await safe_call(self.pm, "shutdown", DEFAULT_BUDGET, process="orchestrator")
