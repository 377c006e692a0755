"""What the jobs of one worker process share, built lazily once: settings, store, Redis, Salesforce."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

import pluggy
import redis

from switchboard.config import Settings, load_settings
from switchboard.plugins import plugin_manager
from switchboard.store import Store
from switchboard.store.live import LiveSettings
from worker.callerid import CallerDirectory, lookup_returning
from worker.client import SalesforceClient
from worker.flusher import Flusher
from worker.meter import Meter
from worker.outbox import Entry, Outbox
from worker.warmer import Warmer

if TYPE_CHECKING:
    from worker.reconciler import Reconciler

logger = logging.getLogger(__name__)

CALL_ID_FIELD = "Call_Id__c"


class WorkerContext:
    """Lazily built collaborators of the jobs."""

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
    def plugins(self) -> pluggy.PluginManager:
        """The installed plugins the ``plugins`` setting enables (for ``call_activity``)."""
        return plugin_manager(self.settings.plugins)

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

    @functools.cached_property
    def activity_outbox(self) -> Outbox:
        """Where call activities wait for their batch: Tasks, or Cases with ``sf_call_info_on_case``."""
        return Outbox(self.redis, "Case" if self.settings.sf_call_info_on_case else "Task", CALL_ID_FIELD)

    def outboxes(self) -> list[Outbox]:
        """Every outbox the flusher drains (both, so switching the option loses nothing)."""
        return [Outbox(self.redis, "Task", CALL_ID_FIELD), Outbox(self.redis, "Case", CALL_ID_FIELD)]

    def warmer(self) -> Warmer:
        """Threads that fill the lookup cache from the orchestrator's screen-pop warm-ups."""
        s = self.settings
        return Warmer(self.redis, self.directory.identify, self.meter, ttl=s.lookup_warm_ttl,
                      threads=s.lookup_warm_threads)

    def flusher(self) -> Flusher:
        """A flusher over every outbox, recording written ids in the call history."""
        s = self.settings
        return Flusher(self.client, self.redis, self.meter, self.outboxes(), batch_size=s.sf_batch_size,
                       window=s.sf_batch_window, backoff_max=s.sf_backoff_max, on_written=self._written,
                       lock_ttl=s.sf_flush_lock_ttl)

    def reconciler(self) -> Reconciler | None:
        """The ledger reconciler (None when no ledger is configured)."""
        from worker.reconciler import reconciler_from  # it enqueues worker.tasks' jobs, which use this context

        return reconciler_from(self.settings, self.redis, self.store)

    def _written(self, written: list[tuple[Entry, str]]) -> None:
        self.store.set_task_ids({entry.external_id: record_id for entry, record_id in written})

    def after_fork(self) -> None:
        """In a forked work horse: drop pooled connections inherited from the parent."""
        cached: dict[str, Any] = self.__dict__
        if "client" in cached:
            self.client.forget_connections()
        if "store" in cached:
            self.store.engine.dispose(close=False)
        if "redis" in cached:
            self.redis.connection_pool.reset()


@functools.lru_cache(maxsize=1)
def get_context() -> WorkerContext:
    """The process-wide context, built from the environment on first call."""
    return WorkerContext(load_settings())


def reset_context() -> None:
    """Forget the cached context (tests, or after changing the environment)."""
    get_context.cache_clear()
