"""What the jobs of one worker process share, built lazily once: settings, store, Salesforce client."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TypeVar

from simple_salesforce import Salesforce, SalesforceExpiredSession

from switchboard.config import Settings, load_settings
from switchboard.store import Store
from worker.salesforce import connect

logger = logging.getLogger(__name__)

T = TypeVar("T")


class WorkerContext:
    """Lazily built collaborators of the jobs; Salesforce calls get one re-login on an expired session."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None
        self._sf: Salesforce | None = None

    @property
    def store(self) -> Store:
        """The Switchboard database."""
        if self._store is None:
            self._store = Store(self.settings.database_url)
        return self._store

    def salesforce(self) -> Salesforce:
        """The Salesforce client, logging in on first use."""
        if self._sf is None:
            self._sf = connect(self.settings)
        return self._sf

    def call_salesforce(self, op: Callable[[Salesforce], T]) -> T:
        """Run ``op(sf)``; on INVALID_SESSION_ID log in again once and retry once (a second 401 raises)."""
        sf = self.salesforce()
        try:
            return op(sf)
        except SalesforceExpiredSession:
            logger.info("Salesforce session expired; logging in again")
            self._sf = connect(self.settings)
            return op(self._sf)

    def after_fork(self) -> None:
        """In a forked work horse: drop pooled connections inherited from the parent (keep the session id)."""
        if self._sf is not None:
            self._sf.session.close()
        if self._store is not None:
            self._store.engine.dispose(close=False)


@functools.lru_cache(maxsize=1)
def get_context() -> WorkerContext:
    """The process-wide context, built from the environment on first call."""
    return WorkerContext(load_settings())


def reset_context() -> None:
    """Forget the cached context (tests, or after changing the environment)."""
    get_context.cache_clear()
