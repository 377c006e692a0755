"""The Salesforce API budget meter: requests spent, calls logged and the org's remaining daily requests.

Every response the connector receives passes through ``Meter.on_response`` (a requests hook), so the
count is of real HTTP requests. Figures live in one Redis hash, shared by every worker process and read
by ``switchboard sf-usage`` and the web app's ``/metrics``.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import redis
import requests

logger = logging.getLogger(__name__)

KEY = "switchboard:sf:meter"
LATENCY_KEY = "switchboard:sf:meter:latency"
LATENCY_SAMPLES = 10000
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_LOGIN_PATHS = ("/services/Soap/u/", "/services/oauth2/token")


def request_kind(url: str) -> str:
    """``login`` for login endpoints, else ``api``."""
    return "login" if any(p in url for p in _LOGIN_PATHS) else "api"


class Meter:
    """Counts Salesforce requests and call activities in Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """requests response hook: count the request, read ``Sforce-Limit-Info``."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hincrby(KEY, "logins" if request_kind(response.url) == "login" else "api_requests", 1)
            if response.status_code >= 400:
                pipe.hincrby(KEY, f"http_{response.status_code}", 1)
            m = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
            if m:
                pipe.hset(KEY, mapping={"org_used": m.group(1), "org_max": m.group(2), "org_seen_at": time.time()})
            pipe.execute()
        except redis.RedisError:
            logger.warning("could not update the API meter", exc_info=True)

    def calls_logged(self, n: int, latencies: list[float]) -> None:
        """Count ``n`` call activities written, with their call-end -> written latencies (seconds)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(KEY, "calls_logged", n)
        if latencies:
            pipe.lpush(LATENCY_KEY, *[f"{x:.3f}" for x in latencies])
            pipe.ltrim(LATENCY_KEY, 0, LATENCY_SAMPLES - 1)
        pipe.execute()

    def count(self, field: str, n: int = 1) -> None:
        """Add ``n`` to a named counter (cache hits, misses, dead letters...)."""
        self.redis.hincrby(KEY, field, n)

    def snapshot(self) -> dict[str, Any]:
        """Every figure, with derived requests per call, remaining daily requests and latency percentiles."""
        raw = {k.decode(): v.decode() for k, v in self.redis.hgetall(KEY).items()}
        out: dict[str, Any] = {k: float(v) if "." in v else int(v) for k, v in raw.items()}
        calls = out.get("calls_logged", 0)
        out["requests_per_call"] = round(out.get("api_requests", 0) / calls, 3) if calls else None
        if "org_max" in out:
            out["org_remaining"] = out["org_max"] - out["org_used"]
        samples = sorted(float(x) for x in self.redis.lrange(LATENCY_KEY, 0, -1))
        if samples:
            out["latency_p50_s"] = samples[len(samples) // 2]
            out["latency_p95_s"] = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
        return out

    def reset(self) -> None:
        """Forget every figure (tests and benchmarks)."""
        self.redis.delete(KEY, LATENCY_KEY)


def prometheus(snapshot: dict[str, Any]) -> str:
    """The snapshot as Prometheus text exposition."""
    lines = []
    names = {
        "api_requests": ("switchboard_sf_api_requests_total", "counter", "Salesforce API requests sent"),
        "logins": ("switchboard_sf_logins_total", "counter", "Salesforce logins"),
        "calls_logged": ("switchboard_sf_call_activities_total", "counter", "Call activities written"),
        "lookup_cache_hits": ("switchboard_sf_lookup_cache_hits_total", "counter", "Caller lookups from cache"),
        "lookup_cache_misses": ("switchboard_sf_lookup_cache_misses_total", "counter", "Caller lookups sent"),
        "dead_letters": ("switchboard_sf_dead_letters_total", "counter", "Records Salesforce refused"),
        "requests_per_call": ("switchboard_sf_requests_per_call", "gauge", "API requests per call activity"),
        "org_remaining": ("switchboard_sf_org_daily_requests_remaining", "gauge", "Org daily API requests left"),
        "org_max": ("switchboard_sf_org_daily_requests_max", "gauge", "Org daily API request limit"),
        "latency_p95_s": ("switchboard_sf_activity_latency_p95_seconds", "gauge", "Call end to activity, p95"),
    }
    for key, (name, kind, help_text) in names.items():
        value = snapshot.get(key)
        if value is None:
            continue
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"]
    return "\n".join(lines) + "\n"
