"""rq's worker classes as the Switchboard worker runs them: stopped by SIGTERM within a second.

rq listens on a Redis channel for its commands (``rq`` CLI: shutdown, kill-horse, stop-job) in a
redis-py pubsub thread that waits up to ``sleep_time`` for a message, 60 s in rq; on shutdown rq
unsubscribes and then stops that thread, which redis-py (8.x) joins. When the thread saw the
unsubscribe before the stop, it waits out its 60 s for a subscription first, and so did the worker's
exit (seen: a worker still there 10 and 15 s after SIGTERM, in 1 of 10 runs). Here it waits one second.
"""

from __future__ import annotations

import rq

PUBSUB_POLL = 1.0  # seconds the command channel's thread waits at most, so the longest it delays an exit


class _PromptStop(rq.worker.BaseWorker):
    def subscribe(self) -> None:
        """Subscribe to this worker's command channel, its thread polling every ``PUBSUB_POLL`` s."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_POLL, daemon=True, exception_handler=self._pubsub_exception_handler)


class SimpleWorker(_PromptStop, rq.SimpleWorker):
    """rq's SimpleWorker (jobs in this process) that stops promptly."""


class Worker(_PromptStop, rq.Worker):
    """rq's forking Worker (a work horse per job) that stops promptly."""
