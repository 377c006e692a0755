"""The presence service on a real SQLite store with a recording page and hook lane, for unit tests of
presence rules that plugins and the Omni-Channel sync drive."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from orchestrator.presence_service import PresenceService
from switchboard.plugins import plugin_manager
from switchboard.store import Store
from switchboard.store.db import upgrade

T0 = 1_800_000_000.0
STATUSES = (("Available", "available", None), ("DND", "dnd", None), ("Busy (60 min)", "busy", 60),
            ("Lunch (45 min)", "offwork", 45), ("OffWork", "offwork", None))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Pages:
    """What the agents' pages were sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def to_agent(self, agent: str, event: str, data: dict[str, Any]) -> None:
        self.sent.append((agent, event, data))

    def notices(self) -> list[dict[str, Any]]:
        return [d for _, e, d in self.sent if e == "presence_notice"]


def seeded_store(folder: Path) -> Store:
    """A migrated SQLite store: agent1 in cs-en (30 s wrap-up) and sales (30 s, required codes), STATUSES."""
    url = f"sqlite:///{folder / 'sb.db'}"
    upgrade(url)
    s = Store(url)
    s.upsert_queue("cs-en", "Customer Service EN", "+35891000001")
    s.upsert_queue("sales", "Sales", "+35891000003")
    s.create_user("agent1", "pw-agent1", "Anna Agent", sip_username="agent1", sip_password="sip-secret-1")
    s.add_member("agent1", ("cs-en", "sales"))
    for name, kind, minutes in STATUSES:
        s.upsert_status(name, kind, minutes)
    s.set_queue_wrapup("cs-en", 30, [], False)
    s.set_queue_wrapup("sales", 30, ["Sold", "No sale"], True)
    return s


def service(store: Store, *plugins: object) -> tuple[PresenceService, Clock, Pages, list[tuple[str, dict]]]:
    """A loaded presence service with ``plugins``, its clock, what the pages got and the hooks it called."""
    clock, pages, hooks = Clock(), Pages(), []
    pm = plugin_manager(load_entrypoints=False)
    for plugin in plugins:
        pm.register(plugin)

    async def ami(action: dict[str, Any]) -> dict[str, str]:
        return {"Response": "Success"}

    svc = PresenceService(store, ami, pages, clock=clock, pm=pm,  # type: ignore[arg-type]
                          hook=lambda name, **kwargs: hooks.append((name, kwargs)))
    asyncio.run(svc.reload())
    return svc, clock, pages, hooks


def status_id(store: Store, name: str) -> int:
    """The id of the status called ``name``."""
    return next(s.id for s in store.list_statuses() if s.name == name)
