"""RQ jobs from asyncio: deterministic job ids, enqueued in a thread (rq uses blocking redis-py)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis import Redis
from rq import Queue

from switchboard.contracts import FAILURE_TTL, FINISH_CALL, RESULT_TTL, RETRY, finish_call_job_id, push_warmup

logger = logging.getLogger(__name__)


class JobQueue:
    """The RQ queue the orchestrator hands Salesforce work to (and the list of screen-pop warm-ups)."""

    def __init__(self, redis_url: str, name: str) -> None:
        self.queue = Queue(name, connection=Redis.from_url(redis_url))

    def _enqueue(self, func: str, arg: dict[str, Any], jid: str) -> None:
        existing = self.queue.fetch_job(jid)
        if existing is not None and existing.get_status(refresh=True) in {"queued", "started", "deferred",
                                                                          "scheduled", "finished"}:
            logger.info("job %s already %s; not enqueued again", jid, existing.get_status())
            return
        self.queue.enqueue(func, arg, job_id=jid, retry=RETRY, result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)

    def warm(self, number: str, call_id: str = "") -> None:
        """Ask the workers to look the caller up now, so the phone rings with the identity (not a job)."""
        push_warmup(self.queue.connection, number, call_id=call_id)

    async def call_ended(self, summary: dict[str, Any]) -> None:
        """Enqueue the call activity (history + Salesforce Task) of a finished call."""
        await asyncio.to_thread(self._enqueue, FINISH_CALL, summary, finish_call_job_id(summary["call_id"]))
