"""A Redis lock kept alive while its holder works: renewed every third of its TTL by a thread; and the
loop of the worker's background threads (the flusher, the ledger reconciler).

A holder that dies stops renewing, so the lock expires after its TTL; a holder that runs long (a slow
Salesforce request) keeps it, so a second process never takes over work still in flight.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis
from redis.exceptions import LockError
from redis.lock import Lock

logger = logging.getLogger(__name__)


def lease(client: redis.Redis, name: str, ttl: float) -> Lock:
    """A non-blocking lock called ``name`` that expires ``ttl`` seconds after it was last renewed."""
    return client.lock(name, timeout=ttl, blocking=False, thread_local=False)


@contextmanager
def renewed(lock: Lock, ttl: float) -> Iterator[threading.Event]:
    """Renew the held ``lock`` every ``ttl / 3`` seconds until the block ends; yields an event set when the
    lock was lost (expired and maybe taken by another process: stop starting new work then)."""
    lost = threading.Event()
    done = threading.Event()

    def keep() -> None:
        while not done.wait(ttl / 3):
            try:
                lock.reacquire()
            except (LockError, redis.RedisError) as exc:
                logger.warning("lost the lock %s (%s)", lock.name, exc)
                lost.set()
                return

    keeper = threading.Thread(target=keep, name=f"renew {lock.name}", daemon=True)
    keeper.start()
    try:
        yield lost
    finally:
        done.set()
        keeper.join()


def release(lock: Lock) -> None:
    """Release ``lock`` if this process still holds it."""
    try:
        lock.release()
    except LockError:
        logger.warning("the lock %s had expired before it was released", lock.name)


def run_until(stopping: threading.Event, step: Callable[[], object], *, poll: float, backoff_max: float,
              failed: Callable[[Exception, float], None]) -> None:
    """Run ``step`` every ``poll`` seconds until ``stopping`` is set; after a failure (``failed`` is told the
    error and the delay) wait 0.5 s doubling up to ``backoff_max``, with jitter, before the next try."""
    failures = 0
    while not stopping.is_set():
        try:
            step()
            failures = 0
            stopping.wait(poll)
        except Exception as exc:
            failures += 1
            delay = min(backoff_max, 0.5 * 2 ** min(failures, 10)) * random.uniform(0.5, 1.0)
            failed(exc, delay)
            stopping.wait(delay)
