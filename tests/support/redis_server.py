"""Test helpers: run a throwaway redis-server on a free port."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from sfemu.testing import free_port, stop_process, wait_until

logger = logging.getLogger(__name__)


@contextmanager
def running_redis(timeout: float = 10) -> Iterator[str]:
    """Start ``redis-server`` (no persistence) in a temp dir, yield its URL, stop it."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="redis-") as tmp:
        log = Path(tmp) / "redis.log"
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", tmp, "--logfile", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            client = redis.Redis.from_url(url, socket_timeout=1)
            wait_until(lambda: bool(client.ping()), timeout, "redis-server", proc, log,
                       errors=(OSError, redis.RedisError))
            client.close()
            yield url
        finally:
            stop_process(proc)
