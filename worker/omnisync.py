"""Omni-Channel presence read side: every ``omni_poll_seconds`` one worker (a Redis lease left to expire)
reads the current Omni status and workload of every agent linked to a Salesforce user, with two bounded SOQL queries,
and tells the orchestrator about each agent whose state changed (command ``presence_omni``), and about
everyone every ``RESEND_EVERY`` seconds (a restarted orchestrator learns the states again).

Cost: two API requests per poll (one when the workload rule is off), whatever the number of agents up
to ``CHUNK`` each: at the default 2 s that is 43,200 or 86,400 a day — size it against the org's limit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from switchboard.commands import encode
from switchboard.contracts import COMMAND_CHANNEL, PRESENCE_OMNI
from switchboard.salesforce import soql_quote
from switchboard.sfclient import SalesforceClient
from switchboard.store import Store
from worker.lease import lease, run_until

logger = logging.getLogger(__name__)

LOCK = "switchboard:omni:poller"
CHUNK = 200  # user ids per query: the IN list stays far below SOQL's 100,000-character limit
RESEND_EVERY = 30.0  # seconds between full reports
PRESENCE_SOQL = ("SELECT UserId, ServicePresenceStatus.DeveloperName FROM UserServicePresence "
                 "WHERE IsCurrentState = true AND UserId IN ({ids})")
WORKLOAD_SOQL = ("SELECT UserId, CapacityWeight FROM AgentWork WHERE Status IN ('Assigned', 'Opened') "
                 "AND UserId IN ({ids})")


class OmniPoller:
    """Reads Omni-Channel states and reports the changes to the orchestrator."""

    def __init__(self, client: SalesforceClient, store: Store, conn: redis.Redis, *, interval: float,
                 workload: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.store = store
        self.redis = conn
        self.interval = max(0.5, interval)
        self.workload = workload
        self.clock = clock
        self.stopping = threading.Event()
        self.last: dict[str, tuple[str | None, float]] = {}
        self.sent_all_at = float("-inf")

    def _agents(self) -> dict[str, str]:
        """Agent -> Salesforce user id of every linked agent (read each poll: a new link counts at once)."""
        return self.store.linked_agents()

    def _query(self, soql: str, users: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for i in range(0, len(users), CHUNK):
            ids = ", ".join(soql_quote(u) for u in users[i:i + CHUNK])
            rows += self.client.call(lambda sf, ids=ids: sf.query_all(soql.format(ids=ids)), budget=0)["records"]
        return rows

    def read(self, linked: dict[str, str]) -> dict[str, tuple[str | None, float]]:
        """Each linked agent's (Omni status DeveloperName or None for Offline, workload)."""
        users = sorted(set(linked.values()))
        status: dict[str, str] = {}
        for row in self._query(PRESENCE_SOQL, users):
            presence = row.get("ServicePresenceStatus") or {}
            status[str(row["UserId"])[:15]] = str(presence.get("DeveloperName") or "")
        load: dict[str, float] = {}
        if self.workload:
            for row in self._query(WORKLOAD_SOQL, users):
                key = str(row["UserId"])[:15]
                load[key] = load.get(key, 0.0) + float(row.get("CapacityWeight") or 0)
        return {agent: (status.get(user[:15]) or None, load.get(user[:15], 0.0)) for agent, user in linked.items()}

    def run_once(self) -> int:
        """One poll, if no worker polled in the last ``interval`` (the lease is left to expire: one poll per
        interval across all workers); returns how many agents' states were reported."""
        lock = lease(self.redis, LOCK, self.interval * 0.9)
        if not lock.acquire():
            return 0
        linked = self._agents()
        if not linked:
            return 0
        states = self.read(linked)
        everyone = self.clock() - self.sent_all_at >= RESEND_EVERY
        changed = {a: s for a, s in states.items() if everyone or self.last.get(a) != s}
        for agent, (status, workload) in changed.items():
            self.redis.publish(COMMAND_CHANNEL, encode(PRESENCE_OMNI, agent=agent, status=status, workload=workload))
        if everyone:
            self.sent_all_at = self.clock()
        self.last = states
        return len(changed)

    def run_forever(self) -> None:
        """Poll every ``interval`` seconds until ``stopping`` is set; back off while Salesforce fails."""
        logger.info("Omni-Channel poller running every %.1f s (workload %s)", self.interval,
                    "on" if self.workload else "off")

        def failed(exc: Exception, delay: float) -> None:
            logger.warning("Omni-Channel poll failed: %s; retrying in %.1f s", exc, delay)

        run_until(self.stopping, self.run_once, poll=self.interval, backoff_max=30.0, failed=failed)
