"""Jobs of a worker that died: found within seconds and queued again, not after RQ's own 4 + 10 minutes.

A job a SimpleWorker was running when the process was killed (kill -9, out of memory, a host reset)
stays "started" in RQ's registry until its entry expires (the job's timeout + 60 s) and then until a
worker's maintenance pass (every 10 minutes) retries it; the ledger reconciler also counts it as
handled, since it has a job. So each worker process keeps a short-lived Redis key saying it is alive,
renewed every ``BEAT`` seconds, and looks every ``BEAT`` seconds for started jobs whose worker's key is
gone: each is queued again at the front, once (a marker per job and dead worker), and runs again in a
live worker. Jobs are safe to run twice (``worker.tasks``), so the worst a wrong guess costs is a repeat.
"""

from __future__ import annotations

import logging
import threading

import redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from worker.lease import run_until

logger = logging.getLogger(__name__)

ALIVE = "switchboard:worker:{}:alive"
REQUEUED = "switchboard:worker:{}:requeued:{}"
BEAT = 5.0  # seconds between a worker's heartbeats and between its looks for abandoned jobs
ALIVE_TTL = 15  # a worker silent this long is dead


def beat(conn: redis.Redis, worker_name: str) -> None:
    """Say this worker is alive for the next ``ALIVE_TTL`` seconds."""
    conn.set(ALIVE.format(worker_name), 1, ex=ALIVE_TTL)


def requeue_abandoned(conn: redis.Redis, queue: Queue) -> list[str]:
    """Queue again (at the front) every started job of ``queue`` whose worker is no longer alive; their ids."""
    registry = StartedJobRegistry(queue=queue)
    ids = registry.get_job_ids(cleanup=False)
    if not ids:
        return []
    requeued = []
    for job in Job.fetch_many(ids, connection=conn, serializer=queue.serializer):
        if job is None or not job.worker_name or job.get_status(refresh=False) != JobStatus.STARTED:
            continue
        if conn.exists(ALIVE.format(job.worker_name)):
            continue
        if not conn.set(REQUEUED.format(job.worker_name, job.id), 1, nx=True, ex=3600):
            continue  # another worker queued it again already
        queue.enqueue_job(job, at_front=True)
        requeued.append(job.id)
        logger.warning("job %s was running in worker %s, which died; queued again", job.id, job.worker_name)
    return requeued


class Liveness:
    """A worker's heartbeat and its look-out for the jobs of dead workers, in one thread."""

    def __init__(self, conn: redis.Redis, queue: Queue, worker_name: str) -> None:
        self.redis = conn
        self.queue = queue
        self.worker_name = worker_name
        self.stopping = threading.Event()

    def run_once(self) -> list[str]:
        """One heartbeat and one look; the ids of the jobs queued again."""
        beat(self.redis, self.worker_name)
        return requeue_abandoned(self.redis, self.queue)

    def run_forever(self) -> None:
        """Beat and look every ``BEAT`` seconds until ``stopping`` is set."""
        def failed(exc: Exception, delay: float) -> None:
            logger.warning("liveness: %s; trying again in %.1f s", exc, delay)

        run_until(self.stopping, self.run_once, poll=BEAT, backoff_max=BEAT, failed=failed)
