"""The Redis the Stack starts keeps an append-only file: queued jobs and the Salesforce outbox survive a restart."""

from __future__ import annotations

import time

import pytest
import redis

pytestmark = pytest.mark.integration


def aof_files(stack) -> list:
    """The append-only files of the stack's Redis (Redis 7 keeps them in appendonlydir/)."""
    return list((stack.workdir / "redis").rglob("*.aof"))


def test_given_the_stack_then_its_redis_writes_what_it_is_given_to_an_append_only_file(stack):
    client = redis.Redis.from_url(stack.settings.redis_url)
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.info("persistence")["aof_enabled"] == 1
    marker = f"switchboard:test:aof:{time.monotonic_ns()}"
    client.set(marker, "kept")
    deadline = time.monotonic() + 5  # appendfsync everysec
    while not any(marker.encode() in f.read_bytes() for f in aof_files(stack)):
        assert time.monotonic() < deadline, f"{marker} not in the append-only files {aof_files(stack)}"
        time.sleep(0.1)
    client.delete(marker)
