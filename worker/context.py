"""What the jobs of one worker process share, built lazily once: the Salesforce services and the outboxes."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

import pluggy

from switchboard.config import load_settings
from switchboard.plugins import call_hook, plugin_manager
from switchboard.sfservices import SalesforceServices
from worker.flusher import Flusher
from worker.omnisync import OmniPoller
from worker.outbox import Entry, Outbox
from worker.warmer import Warmer

if TYPE_CHECKING:
    from worker.reconciler import Reconciler

logger = logging.getLogger(__name__)

CALLER_HOOK_BUDGET = 2.0  # seconds each plugin may take over caller_identified (a lookup thread waits)

CALL_ID_FIELD = "Call_Id__c"


class WorkerContext(SalesforceServices):
    """Lazily built collaborators of the jobs: the shared Salesforce services and the worker's own."""

    @functools.cached_property
    def plugins(self) -> pluggy.PluginManager:
        """The installed plugins the ``plugins`` setting enables (for ``call_activity``)."""
        return plugin_manager(self.settings.plugins)

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
                      threads=s.lookup_warm_threads, identified=self.caller_identified)

    def omni_poller(self) -> OmniPoller:
        """The Omni-Channel presence poller (``omni_sync``)."""
        s = self.settings
        return OmniPoller(self.client, self.store, self.redis, interval=s.omni_poll_seconds,
                          workload=s.omni_workload_limit > 0)

    def caller_identified(self, call_id: str, caller_number: str, match: dict[str, Any]) -> None:
        """Tell the plugins who is calling (``caller_identified``), within ``CALLER_HOOK_BUDGET`` each."""
        call_hook(self.plugins, "caller_identified", CALLER_HOOK_BUDGET, call_id=call_id,
                  caller_number=caller_number, match=match)

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


@functools.lru_cache(maxsize=1)
def get_context() -> WorkerContext:
    """The process-wide context, built from the environment on first call."""
    return WorkerContext(load_settings())


def reset_context() -> None:
    """Forget the cached context (tests, or after changing the environment)."""
    get_context.cache_clear()
