"""Salesforce services web and worker both use, built lazily once: settings, store, Redis, Salesforce.

The web process identifies callers and runs the phone workflows with the same connector, cache and
meter as the worker (the session is shared through Redis); the worker's ``WorkerContext`` adds what
only the worker runs (outboxes, flusher, warm-up threads, ledger reconciler).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import redis

from switchboard.callerid import CallerDirectory, lookup_returning
from switchboard.config import Settings
from switchboard.meter import Meter
from switchboard.sfclient import SalesforceClient
from switchboard.store import Store
from switchboard.store.live import LiveSettings

logger = logging.getLogger(__name__)


class SalesforceServices:
    """Lazily built Salesforce connector, caller directory, store and Redis of one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @functools.cached_property
    def store(self) -> Store:
        """The Switchboard database."""
        return Store(self.settings.database_url)

    @functools.cached_property
    def redis(self) -> redis.Redis:
        """Redis: cache, outbox, meter, shared session."""
        return redis.Redis.from_url(self.settings.redis_url)

    @functools.cached_property
    def meter(self) -> Meter:
        """The API budget meter."""
        return Meter(self.redis)

    @functools.cached_property
    def client(self) -> SalesforceClient:
        """Salesforce with bounded retries."""
        return SalesforceClient(self.settings, self.redis, self.meter)

    @functools.cached_property
    def live_settings(self) -> LiveSettings:
        """The settings with the admin's run-time changes (lookup columns, workflow search)."""
        return LiveSettings(self.store, self.settings)

    @functools.cached_property
    def directory(self) -> CallerDirectory:
        """Cached caller identification, returning the admin's current result columns."""
        s = self.settings
        return CallerDirectory(self.client, self.redis, self.meter, region=s.default_region,
                               ttl=s.sf_lookup_ttl, negative_ttl=s.sf_lookup_negative_ttl,
                               returning=lambda: lookup_returning(self.live_settings.get()))

    def after_fork(self) -> None:
        """In a forked work horse: drop pooled connections inherited from the parent."""
        cached: dict[str, Any] = self.__dict__
        if "client" in cached:
            self.client.forget_connections()
        if "store" in cached:
            self.store.engine.dispose(close=False)
        if "redis" in cached:
            self.redis.connection_pool.reset()
