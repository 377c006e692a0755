"""The worker's rq classes stop promptly: the command channel's thread, which saw the unsubscribe before
it was told to stop, no longer holds the worker's exit for rq's 60 s."""

from __future__ import annotations

import threading
import time

import redis
import rq

from worker.rqworkers import PUBSUB_POLL, SimpleWorker


def stop_after_unsubscribed(worker: rq.worker.BaseWorker) -> bool:
    """The race of a shutdown, forced: unsubscribed, the thread back waiting, then stopped. Whether the stop
    returned within 5 s."""
    worker.subscribe()
    deadline = time.monotonic() + 5
    while not worker.pubsub.subscribed and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.pubsub.unsubscribe()
    while worker.pubsub.subscribed and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # the thread read the unsubscribe and waits for a subscription again
    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    stopping.start()
    stopping.join(5)
    return not stopping.is_alive()


def test_a_worker_unsubscribed_before_its_stop_exits_within_a_poll(redis_conn: redis.Redis) -> None:
    assert PUBSUB_POLL <= 1
    assert stop_after_unsubscribed(SimpleWorker(["test-prompt"], connection=redis_conn))


def test_rqs_own_worker_would_have_waited(redis_conn: redis.Redis) -> None:
    """What the classes mend (if rq or redis-py fix it, this fails: drop the classes)."""
    assert not stop_after_unsubscribed(rq.SimpleWorker(["test-prompt"], connection=redis_conn))
