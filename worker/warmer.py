"""Screen-pop warm-ups: a caller's lookup started when the call enters a queue, so the phone rings with it.

A warm-up is not an RQ job. It is worth nothing once the phone has rung (the web app then looks the
caller up itself, ``web/identity.py``), so it must never make a call's activity wait behind it, and it
need not survive a crash. The orchestrator pushes ``{"number", "at"}`` onto one Redis list
(``switchboard.contracts.push_warmup``: newest first, capped at ``WARMUP_CAP``); each worker process runs
a few threads that take the newest, skip any older than ``lookup_warm_ttl`` seconds, and fill the lookup
cache (``switchboard.callerid``). The RQ worker loop, which writes the calls' activities, never sees them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from switchboard.contracts import WARMUP_KEY
from switchboard.meter import Meter
from worker.lease import run_until

logger = logging.getLogger(__name__)

BACKOFF_MAX = 5.0  # seconds between tries at most while Redis is away


class Warmer:
    """Threads that fill the caller lookup cache from the warm-up list."""

    def __init__(self, conn: redis.Redis, identify: Callable[[str], Any], meter: Meter, *, ttl: float,
                 threads: int, key: str = WARMUP_KEY,
                 identified: Callable[[str, str, Any], None] | None = None) -> None:
        self.redis = conn
        self.key = key
        self.identify = identify
        self.identified = identified
        self.meter = meter
        self.ttl = ttl
        self.threads = max(1, threads)
        self.stopping = threading.Event()

    def run_once(self, timeout: float = 1.0) -> str:
        """Take the newest warm-up and look it up (then tell ``identified`` of the call's caller):
        ``warmed``, ``stale``, ``failed``, ``bad`` or ``idle``."""
        item = self.redis.blpop([self.key], timeout=timeout)
        if item is None:
            return "idle"
        try:
            request = json.loads(item[1])
            number, at = str(request["number"]), float(request["at"])
            call_id = str(request.get("call_id") or "")
        except (ValueError, KeyError, TypeError):
            logger.warning("dropping a malformed warm-up request: %r", item[1][:200])
            return "bad"
        if time.time() - at > self.ttl:
            self.meter.count("lookup_warmups_stale")
            return "stale"
        try:
            match = self.identify(number)
        except Exception:  # the web app looks the caller up again when the phone rings
            logger.warning("warm-up lookup of %s failed", number, exc_info=True)
            return "failed"
        if call_id and self.identified is not None:
            try:
                self.identified(call_id, number, match)
            except Exception:  # the lookup is done; what the listener does is its own business
                logger.exception("caller_identified of call %s failed", call_id)
        return "warmed"

    def _loop(self) -> None:
        def failed(exc: Exception, delay: float) -> None:
            logger.warning("warm-ups: %s; retrying in %.1f s", exc, delay)

        run_until(self.stopping, self.run_once, poll=0, backoff_max=BACKOFF_MAX, failed=failed)

    def run_forever(self) -> None:
        """Run ``threads`` lookup threads until ``stopping`` is set."""
        workers = [threading.Thread(target=self._loop, name=f"warmer-{i}", daemon=True)
                   for i in range(self.threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
