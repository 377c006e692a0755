"""The AMI connection (the only panoramisk user): stream events, reconnect, resync on every login."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from panoramisk import Manager

from orchestrator import events as ev
from orchestrator.translate import TABLE, ami_event_filter, translate_or_skip

logger = logging.getLogger(__name__)

EventSink = Callable[[ev.Event], Awaitable[None]]
# Actions whose list items rebuild the model after a (re)connect: channels before queue entries.
RESYNC_ACTIONS = ("CoreShowChannels", "QueueStatus", "DeviceStateList", "PJSIPShowContacts")
# An empty listing is an error response for some actions (PJSIPShowContacts: "No Contacts found").
_EMPTY_LISTING = re.compile(r"^No \w+ found")


class ResyncFailed(RuntimeError):
    """A resync listing was refused by Asterisk."""


class AmiConnection:
    """Logs in to AMI, translates every message and hands events to ``sink``."""

    def __init__(self, host: str, port: int, username: str, secret: str, sink: EventSink, *,
                 reconnect_timeout: int = 1) -> None:
        self.sink = sink
        self.booted = asyncio.Event()
        self.manager = Manager(host=host, port=port, username=username, secret=secret, ping_delay=10,
                               reconnect_timeout=reconnect_timeout, on_login=self._on_login,
                               on_disconnect=self._on_disconnect)
        self.manager.register_event("*", self._on_message)
        self._resync_task: asyncio.Task[None] | None = None
        # Live messages that arrive while a resync listing is in flight, applied after its items: the
        # listing is a snapshot taken before they happened (or one they repeat harmlessly).
        self._held: list[tuple[float, Mapping[str, Any]]] | None = None

    async def connect(self) -> None:
        """Connect (panoramisk reconnects by itself afterwards)."""
        await self.manager.connect()

    def close(self) -> None:
        """Close the connection."""
        self.manager.close()

    async def action(self, action: Mapping[str, Any]) -> Any:
        """Send an AMI action and return its response (a list for list actions)."""
        # panoramisk reads the action's Async header when an answer ends "successfully queued" (Atxfer's):
        # without one it raised inside the protocol, which dropped the AMI connection. false is AMI's default.
        return await self.manager.send_action({"Async": "false", **action})

    def _on_login(self, _manager: Manager) -> None:
        logger.info("AMI logged in")
        self._stop_resync()
        self._resync_task = asyncio.ensure_future(self._filtered_then_resync())

    async def _filtered_then_resync(self) -> None:
        try:  # per session, so again on every login; list actions' answers are not filtered
            answer = await self.action({"Action": "Filter", "Operation": "Add", "Filter": ami_event_filter()})
            if str(answer.get("Response")) == "Success":
                logger.info("AMI events filtered to the %d kinds translate reads", len(TABLE))
            else:
                logger.warning("AMI event filter refused (%s); every event still comes", answer.get("Message"))
        except Exception:
            logger.exception("AMI event filter")
        await self._resync_when_booted()

    def _on_disconnect(self, _manager: Manager, exc: Exception | None) -> None:
        logger.warning("AMI disconnected: %s", exc)
        self.booted.clear()
        self._stop_resync()  # its answers will never come; the next login resyncs again

    def _stop_resync(self) -> None:
        if self._resync_task is not None and not self._resync_task.done():
            self._resync_task.cancel()

    async def _on_message(self, _manager: Manager, msg: Mapping[str, Any]) -> None:
        at = time.time()
        if msg.get("Event") == "FullyBooted":
            self.booted.set()
        if self._held is not None:
            self._held.append((at, msg))
            return
        await self.feed(msg, at)

    async def feed(self, msg: Mapping[str, Any], at: float) -> None:
        """Translate one message and hand its event on; malformed messages are logged and skipped."""
        event = translate_or_skip(msg, at)
        if event is not None:
            await self.sink(event)

    async def _resync_when_booted(self) -> None:
        try:
            try:  # FullyBooted comes right after login when Asterisk is already up
                await asyncio.wait_for(self.booted.wait(), 10)
            except TimeoutError:
                logger.warning("no FullyBooted from Asterisk in 10 s; resyncing anyway")
            await self.resync()
        except Exception:
            logger.exception("resync failed")

    async def resync(self) -> None:
        """Rebuild the model from Asterisk's own lists, then let live events stream on."""
        started = time.time()
        await self.sink(ev.ResyncStarted(started))
        try:
            for name in RESYNC_ACTIONS:
                await self._listing(name)
        except BaseException:  # refused, or cancelled by a disconnect: the model keeps what it has
            await self.sink(ev.ResyncAborted(time.time()))
            raise
        await self.sink(ev.ResyncCompleted(time.time()))
        logger.info("resynced from Asterisk in %.0f ms", (time.time() - started) * 1000)

    async def _listing(self, name: str) -> None:
        """Feed one list action's items, then the live messages that arrived meanwhile."""
        self._held = []
        try:
            response = await self.action({"Action": name})
            items = response if isinstance(response, list) else [response]
            head = items[0] if items else {}
            if head.get("Response") == "Error" and not _EMPTY_LISTING.match(str(head.get("Message") or "")):
                raise ResyncFailed(f"{name}: {head.get('Message')}")
            for msg in items:
                if msg.get("Event"):
                    await self.feed(msg, time.time())
        finally:
            while self._held:
                at, msg = self._held.pop(0)
                await self.feed(msg, at)
            self._held = None
