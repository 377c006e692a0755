"""Writes the outbox to Salesforce: up to 200 records per sObject Collections upsert (one API request).

A batch goes when it is full or when its oldest record has waited ``sf_batch_window`` seconds. One
flusher runs at a time: a Redis lock renewed while a flush runs (``worker.lease``), so a slow request
never lets a second flusher send the same batch. On a transient failure the records stay and the
flusher backs off exponentially with jitter; a record Salesforce refuses for good is parked as a dead
letter.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from switchboard.meter import Meter
from switchboard.sfclient import SalesforceClient, is_transient
from worker.lease import lease, release, renewed, run_until
from worker.outbox import Entry, Outbox

logger = logging.getLogger(__name__)

LOCK = "switchboard:sf:flush-lock"
# Fields Salesforce accepts on create only: on an upsert that matches an existing record they are refused.
CREATE_ONLY = {"Task": ("TaskSubtype",)}
OnWritten = Callable[[list[tuple[Entry, str]]], None]


def _create_only_refused(errors: list[dict[str, Any]], sobject: str) -> bool:
    names = CREATE_ONLY.get(sobject, ())
    return any(e.get("statusCode") == "INVALID_FIELD_FOR_INSERT_UPDATE"
               and any(n in (e.get("fields") or []) or n in str(e.get("message")) for n in names) for e in errors)


class Flusher:
    """Drains outboxes into Salesforce."""

    def __init__(self, client: SalesforceClient, redis_client: redis.Redis, meter: Meter, outboxes: list[Outbox],
                 *, batch_size: int, window: float, backoff_max: float, on_written: OnWritten | None = None,
                 lock_ttl: float = 30.0) -> None:
        self.client = client
        self.redis = redis_client
        self.meter = meter
        self.outboxes = outboxes
        self.batch_size = min(batch_size, 200)
        self.window = window
        self.backoff_max = backoff_max
        self.on_written = on_written
        self.lock_ttl = lock_ttl
        self.stopping = threading.Event()

    def _upsert(self, outbox: Outbox, entries: list[Entry], drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        records = [{k: v for k, v in e.record().items() if k not in drop} for e in entries]
        path = f"composite/sobjects/{outbox.sobject}/{outbox.external_id_field}"
        return self.client.call(lambda sf: sf.restful(path, method="PATCH", json={
            "allOrNone": False, "records": records}), budget=0)

    def flush(self, outbox: Outbox) -> int:
        """Write one batch of ``outbox``; returns how many records were written. Transient errors raise."""
        entries = outbox.take(self.batch_size)
        if not entries:
            return 0
        results = self._upsert(outbox, entries)
        retry: list[Entry] = []
        written: list[tuple[Entry, str]] = []
        for entry, result in zip(entries, results, strict=True):
            if result.get("success"):
                written.append((entry, result["id"]))
            elif _create_only_refused(result.get("errors") or [], outbox.sobject):
                retry.append(entry)  # the record exists already: update it without create-only fields
            else:
                logger.error("Salesforce refused %s %s: %s", outbox.sobject, entry.external_id, result.get("errors"))
                outbox.dead_letter(entry, result.get("errors") or [])
                self.meter.count("dead_letters")
        if retry:
            for entry, result in zip(retry, self._upsert(outbox, retry, CREATE_ONLY.get(outbox.sobject, ())),
                                     strict=True):
                if result.get("success"):
                    written.append((entry, result["id"]))
                else:
                    outbox.dead_letter(entry, result.get("errors") or [])
                    self.meter.count("dead_letters")
        now = time.time()
        for entry, _ in written:
            outbox.done(entry)
        if self.on_written is not None and written:
            try:
                self.on_written(written)
            except Exception:
                logger.exception("after writing %d %s record(s)", len(written), outbox.sobject)
        self.meter.calls_logged(len(written), [now - e.ended_at for e, _ in written])
        logger.info("wrote %d %s record(s) in one request", len(written), outbox.sobject)
        return len(written)

    def due(self, outbox: Outbox) -> bool:
        """True when a batch is full or its oldest record has waited long enough."""
        if outbox.pending() >= self.batch_size:
            return True
        age = outbox.oldest_age()
        return age is not None and age >= self.window

    def run_once(self, force: bool = False) -> int:
        """Flush every due outbox (every pending one with ``force``) under the renewed lock; returns records
        written."""
        lock = lease(self.redis, LOCK, self.lock_ttl)
        if not lock.acquire():
            return 0
        written = 0
        try:
            ready = [o for o in self.outboxes if (force and o.pending()) or self.due(o)]
            if not ready:
                return 0
            with renewed(lock, self.lock_ttl) as lost:
                for outbox in ready:
                    while not lost.is_set() and ((force and outbox.pending()) or self.due(outbox)):
                        n = self.flush(outbox)
                        written += n
                        if n == 0:
                            break
        finally:
            release(lock)
        return written

    def run_forever(self, poll: float = 0.05) -> None:
        """Flush until ``stopping`` is set; back off on transient errors, never drop a record."""
        logger.info("flusher running (batch %d, window %.2f s)", self.batch_size, self.window)

        def failed(exc: Exception, delay: float) -> None:
            level = logging.WARNING if is_transient(exc) else logging.ERROR
            logger.log(level, "flush failed (%s); records kept, retrying in %.1f s", exc, delay)

        run_until(self.stopping, self.run_once, poll=poll, backoff_max=self.backoff_max, failed=failed)
