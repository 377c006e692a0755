"""The ledger reconciler: a finished call that got no activity gets its Task from Asterisk's own ledger.

A thread of the worker, like the flusher, and one at a time across workers (a Redis lease). It reads
the ledger file Asterisk writes (``switchboard/ledger.py``) from where it left off, folds it into
finished calls, and ``ledger_grace`` seconds after a call ended (the live path, the orchestrator, has
normally enqueued the call's job within milliseconds) it enqueues ``finish_call`` for every call that
the orchestrator's live model does not hold (``HELD_CALLS_KEY``: a running orchestrator ends the calls
it holds itself, with its own data) and that has neither a job (queued, running, done or failed) nor a
row in the call history, with the summary ``switchboard.calls.call_summary`` builds from the ledger's
facts, under the call's deterministic job id.

Exactly once: both paths use the same job id, and ``finish_call`` records the call once (unique call id)
and writes its Task by upsert on ``Call_Id__c``; so even if both enqueued, Salesforce gets one Task.

Where it left off (the checkpoint, in Redis) is the first line of the oldest call still open or still
in its grace period: after a restart of the worker (or a lost lease) the reconciler reads again from
there, and calls it sees finish a second time are found handled. A lost checkpoint (Redis emptied) means
reading the ledger files again from their start, each call checked against the call history.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import redis
from redis.exceptions import LockError
from redis.lock import Lock
from rq import Queue
from rq.job import Job

from switchboard.calls import call_summary
from switchboard.contracts import HELD_CALLS_KEY, finish_call_job_id
from switchboard.ledger import FinishedCall, Ledger, parse_line
from switchboard.store import Store
from worker.lease import lease, run_until
from worker.tasks import enqueue_finish_call

logger = logging.getLogger(__name__)

LOCK = "switchboard:ledger:lock"
CHECKPOINT = "switchboard:ledger:checkpoint"
LOCK_TTL = 15.0
FILE_SPAN = 1 << 40  # a mark is <file's sequence number> * FILE_SPAN + <byte offset in that file>
READ_CHUNK = 4 << 20  # bytes read per pass at most
MAX_OPEN = 24 * 3600.0  # a call open this long without an end is forgotten (it pins the checkpoint otherwise)
QUEUES_TTL = 30.0
BACKOFF_MAX = 30.0
HELD_MAX = 3600.0  # a call the orchestrator holds this long after the ledger's end is reconciled anyway


class LedgerTail:
    """Complete lines of the ledger file from a place in it, following a rotation (a rename) to the new file.

    Asterisk opens, appends one whole line and closes the file for every record, so after a rename its
    next record starts a new file; a record being written during the rename still lands in the old one,
    which is therefore read for ``settle`` seconds more before the reader moves on.
    """

    def __init__(self, path: Path, settle: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.rotated = path.with_name(path.name + ".1")
        self.settle = settle
        self.clock = clock
        self._fh: BinaryIO | None = None
        self._seq = 0
        self._offset = 0
        self._inodes: dict[int, int] = {}  # sequence number -> inode of that file
        self._moved_since: float | None = None

    def open_at(self, inode: int | None, offset: int) -> None:
        """Read on from ``offset`` of the file whose inode is ``inode`` (the current one or the rotated one),
        else from the start of the oldest file there is."""
        files = [p for p in (self.rotated, self.path) if p.exists()]
        chosen = next((p for p in files if inode is not None and p.stat().st_ino == inode), None)
        if chosen is None:
            if inode is not None:
                logger.warning("ledger: the checkpoint's file is gone; reading %s from its start",
                               files[0] if files else self.path)
            chosen, offset = (files[0] if files else None), 0
        if chosen is not None:
            self._open(chosen, offset)

    def _open(self, path: Path, offset: int) -> None:
        self.close()
        self._fh = path.open("rb")
        self._seq += 1
        self._inodes[self._seq] = os.fstat(self._fh.fileno()).st_ino
        self._offset = min(offset, os.fstat(self._fh.fileno()).st_size)
        self._moved_since = None

    def close(self) -> None:
        """Close the file being read."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def position(self) -> int:
        """The mark of the next byte to read."""
        return self._seq * FILE_SPAN + self._offset

    def place(self, mark: int) -> tuple[int, int] | None:
        """``mark`` as (inode, offset), for a checkpoint; None when its file is unknown."""
        inode = self._inodes.get(mark // FILE_SPAN)
        return None if inode is None else (inode, mark % FILE_SPAN)

    def lines(self) -> Iterator[tuple[int, str]]:
        """(mark, text) of every complete line written since the last call."""
        if self._fh is None:
            if self.path.exists():
                self._open(self.path, 0)
            else:
                return  # Asterisk has written nothing yet
        assert self._fh is not None
        size = os.fstat(self._fh.fileno()).st_size
        if size < self._offset:
            logger.warning("ledger: %s shrank (%d < %d); reading it from its start", self.path, size, self._offset)
            self._offset = 0
        self._fh.seek(self._offset)
        data = self._fh.read(READ_CHUNK)
        end = data.rfind(b"\n") + 1
        start = 0
        while start < end:
            stop = data.index(b"\n", start)
            text = data[start:stop].decode("utf-8", errors="replace").rstrip("\r")
            if text:
                yield self._seq * FILE_SPAN + self._offset + start, text
            start = stop + 1
        self._offset += end
        if end == len(data) and len(data) < READ_CHUNK:
            self._follow()

    def _follow(self) -> None:
        """All read: move on to the current file if this one was renamed away (and has settled)."""
        assert self._fh is not None
        try:
            current = self.path.stat().st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(self._fh.fileno()).st_ino:
            self._moved_since = None
            return
        now = self.clock()
        if self._moved_since is None:
            self._moved_since = now
        if now - self._moved_since >= self.settle and current is not None:
            logger.info("ledger: %s was rotated; reading the new file", self.path)
            self._open(self.path, 0)

    def rotate(self, keep_from: int, limit: int) -> bool:
        """Rename the file to ``<name>.1`` when it is read, at least ``limit`` bytes and nothing before
        ``keep_from`` (a mark) is in the older ``.1`` (which the rename replaces)."""
        if self._fh is None or limit <= 0 or self._offset < limit or keep_from // FILE_SPAN != self._seq:
            return False
        try:
            if self.path.stat().st_ino != os.fstat(self._fh.fileno()).st_ino:
                return False  # already moved away
            os.replace(self.path, self.rotated)
        except OSError as exc:
            logger.warning("ledger: could not rotate %s: %s", self.path, exc)
            return False
        logger.info("ledger: rotated %s at %d bytes", self.path, self._offset)
        return True


class Reconciler:
    """Turns calls the ledger saw finish without an activity into their Task."""

    def __init__(self, path: Path, region: str, redis_client: redis.Redis, store: Store, queue: Queue, *,
                 grace: float, rotate_bytes: int, clock: Callable[[], float] = time.time,
                 settle: float = 1.0) -> None:
        self.path = path
        self.region = region
        self.redis = redis_client
        self.store = store
        self.queue = queue
        self.grace = grace
        self.rotate_bytes = rotate_bytes
        self.clock = clock
        self.settle = settle  # how long a rotated file is still read (a record being written lands in it)
        self.stopping = threading.Event()
        self._lock: Lock | None = None
        self._tail: LedgerTail | None = None
        self._ledger = Ledger(region)
        self._pending: dict[str, FinishedCall] = {}  # call id -> finished, waiting out its grace
        self._saved: tuple[int, int] | None = None
        self._queues: tuple[float, dict[str, str], dict[str, str]] = (0.0, {}, {})

    # -- the loop -----------------------------------------------------------------------------------------
    def run_forever(self, poll: float = 0.5) -> None:
        """Reconcile until ``stopping`` is set; back off on errors (Redis, the database), never skip a call."""
        logger.info("ledger reconciler running on %s (grace %.1f s)", self.path, self.grace)
        run_until(self.stopping, self.run_once, poll=poll, backoff_max=BACKOFF_MAX,
                  failed=lambda exc, delay: logger.warning("ledger reconciler: %s; retrying in %.1f s", exc, delay))
        self.close()

    def close(self) -> None:
        """Let another worker take over."""
        if self._tail is not None:
            self._tail.close()
        if self._lock is not None:
            try:
                self._lock.release()
            except (LockError, redis.RedisError):
                pass
            self._lock = None

    def run_once(self) -> int:
        """One pass while holding the lease: read, enqueue what is due, save the place; returns jobs enqueued."""
        if not self._hold():
            return 0
        assert self._tail is not None
        for mark, text in self._tail.lines():
            line = parse_line(text)
            if line is not None:
                for finished in self._ledger.feed(line, mark):
                    self._pending[finished.call.call_id] = finished
        for call_id in self._ledger.expire(self.clock(), MAX_OPEN):
            logger.warning("ledger: call %s never ended in the ledger; forgotten", call_id)
        enqueued = self._settle()
        open_from = self._ledger.low_water()
        keep = min([self._tail.position(), *(f.mark for f in self._pending.values()),
                    *([] if open_from is None else [open_from])])
        self._checkpoint(keep)
        self._tail.rotate(keep, self.rotate_bytes)
        return enqueued

    def _hold(self) -> bool:
        if self._lock is not None:
            try:
                self._lock.reacquire()
                return True
            except (LockError, redis.RedisError) as exc:
                logger.warning("ledger reconciler lost its lease (%s)", exc)
                self._lock = None
        lock = lease(self.redis, LOCK, LOCK_TTL)
        if not lock.acquire():
            return False
        self._lock = lock
        self._start()
        return True

    def _start(self) -> None:
        """Fresh state, read again from the checkpoint."""
        raw = self.redis.get(CHECKPOINT)
        place = json.loads(raw) if raw else {}
        self._tail = LedgerTail(self.path, self.settle)
        self._tail.open_at(place.get("inode"), int(place.get("offset") or 0))
        self._ledger = Ledger(self.region)
        self._pending = {}
        self._saved = None
        logger.info("ledger reconciler reading %s from %s", self.path, place or "its start")

    def _checkpoint(self, mark: int) -> None:
        assert self._tail is not None
        place = self._tail.place(mark)
        if place is not None and place != self._saved:
            self.redis.set(CHECKPOINT, json.dumps({"inode": place[0], "offset": place[1]}))
            self._saved = place

    # -- the calls --------------------------------------------------------------------------------------
    def _settle(self) -> int:
        now = self.clock()
        due = [f for f in self._pending.values() if f.ended_at + self.grace <= now]
        if due:
            held = self.held_by_orchestrator()  # it ends them itself (its end may come later than the ledger's:
            # a consultation call goes on in the model until the transferred call ends)
            due = [f for f in due if f.call.call_id not in held or now - f.ended_at > HELD_MAX]
        if not due:
            return 0
        handled = self.handled([f.call.call_id for f in due])
        labels, numbers = self._queue_names()
        enqueued = 0
        for finished in due:
            call_id = finished.call.call_id
            if call_id not in handled:
                summary = call_summary(finished.call, finished.ended_at, labels, numbers)
                enqueue_finish_call(self.queue, summary)
                enqueued += 1
                logger.info("ledger: call %s %s %.1f s ago without an activity; its Task comes from the ledger",
                            call_id, "was cut by an Asterisk restart" if finished.cut else "ended",
                            now - finished.ended_at)
            del self._pending[call_id]
        return enqueued

    def held_by_orchestrator(self) -> set[str]:
        """The calls the orchestrator's live model holds (none when it is not running)."""
        raw = self.redis.get(HELD_CALLS_KEY)
        return set(json.loads(raw)) if raw else set()

    def handled(self, call_ids: list[str]) -> set[str]:
        """The calls that have a job (in any state) or a row in the call history."""
        jobs = Job.fetch_many([finish_call_job_id(c) for c in call_ids], connection=self.redis)
        have_job = {c for c, job in zip(call_ids, jobs, strict=True) if job is not None}
        rest = [c for c in call_ids if c not in have_job]
        return have_job | (self.store.recorded_call_ids(rest) if rest else set())

    def _queue_names(self) -> tuple[dict[str, str], dict[str, str]]:
        at, labels, numbers = self._queues
        if self.clock() - at > QUEUES_TTL:
            queues = self.store.list_queues()
            labels, numbers = {q.name: q.label for q in queues}, {q.name: q.number for q in queues}
            self._queues = (self.clock(), labels, numbers)
        return labels, numbers


def reconciler_from(settings: Any, redis_client: redis.Redis, store: Store) -> Reconciler | None:
    """The reconciler of these settings, or None when no ledger is configured."""
    if not settings.ledger_path:
        return None
    return Reconciler(Path(settings.ledger_path), settings.default_region, redis_client, store,
                      Queue(settings.rq_queue, connection=redis_client), grace=settings.ledger_grace,
                      rotate_bytes=settings.ledger_rotate_bytes)
