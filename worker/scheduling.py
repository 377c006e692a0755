"""RQ's scheduler (it queues a retried job again once its delay is over) in a thread of the worker.

``Worker.work(with_scheduler=True)`` forks the scheduler into a child process while the worker's own
threads (flusher, reconciler, warm-ups, liveness) run. A child of a threaded process inherits any lock
one of those threads held at the fork, held for ever (Python 3.12 warns of such forks), and a child that
outlived a killed worker kept the worker's Redis connections open, so Redis handed the next job to a
dead BLMOVE (docs/architecture.md, "Other failures"). Nothing here forks: the same ``RQScheduler`` takes
the queue's scheduler lock (one holder among all workers, renewed every second, free 61 s after its
holder died) and moves due jobs back to the queue."""

from __future__ import annotations

import logging
import threading

import redis
from rq.scheduler import RQScheduler

from worker.lease import run_until

logger = logging.getLogger(__name__)


class Scheduler:
    """Due retries back onto the queue every ``interval`` seconds, by whichever worker holds the lock."""

    def __init__(self, conn: redis.Redis, queue_names: list[str], interval: int = 1) -> None:
        self.rq = RQScheduler(queue_names, connection=conn, interval=interval)  # whole seconds (lock TTL + 60)
        self.interval = interval
        self.stopping = threading.Event()

    def run_once(self) -> bool:
        """Take or renew the lock and, holding it, queue the due jobs; whether this worker holds it."""
        if not self.rq.acquire_locks():
            return False
        self.rq.register_birth()
        self.rq.enqueue_scheduled_jobs()
        return True

    def run_forever(self) -> None:
        """Schedule until ``stopping`` is set, then let the lock go for another worker to take at once."""
        def failed(exc: Exception, delay: float) -> None:
            logger.warning("scheduler: %s; trying again in %.1f s", exc, delay)

        run_until(self.stopping, self.run_once, poll=self.interval, backoff_max=5.0, failed=failed)
        self.release()

    def release(self) -> None:
        """Give the lock up and remove this scheduler's entry."""
        try:
            self.rq.release_locks()
            self.rq.register_death()
        except redis.RedisError as exc:
            logger.warning("scheduler: could not release its lock (%s); it expires by itself", exc)
