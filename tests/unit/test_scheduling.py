"""RQ's scheduler in a worker's thread: one holder of the lock moves due retries back onto the queue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Queue

from worker.scheduling import Scheduler


@pytest.fixture
def conn(redis_conn: redis.Redis) -> redis.Redis:
    return redis_conn


@pytest.fixture
def queue(conn: redis.Redis) -> Queue:
    return Queue(f"test-sched-{uuid.uuid4().hex[:8]}", connection=conn)


def test_the_lock_holder_queues_a_due_job_and_another_worker_waits(conn: redis.Redis, queue: Queue) -> None:
    job = queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=1), print, "due")
    later = queue.enqueue_at(datetime.now(UTC) + timedelta(hours=1), print, "later")
    first, second = Scheduler(conn, [queue.name]), Scheduler(conn, [queue.name])
    assert queue.job_ids == []
    assert first.run_once() is True
    assert second.run_once() is False
    assert queue.job_ids == [job.id]
    assert later.id in queue.scheduled_job_registry.get_job_ids()


def test_a_released_lock_is_taken_by_another_worker_at_once(conn: redis.Redis, queue: Queue) -> None:
    first, second = Scheduler(conn, [queue.name]), Scheduler(conn, [queue.name])
    assert first.run_once() is True
    first.release()
    assert second.run_once() is True
    assert first.run_once() is False


def test_run_forever_stops_and_lets_the_lock_go(conn: redis.Redis, queue: Queue) -> None:
    first = Scheduler(conn, [queue.name])
    first.stopping.set()
    first.run_once()
    first.run_forever()
    assert Scheduler(conn, [queue.name]).run_once() is True
