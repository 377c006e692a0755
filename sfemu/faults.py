"""Fault switches for tests: added latency, a service outage window, a request-limit window and a window
in which every session is refused.

Switched with ``POST /__emulator/faults`` (JSON body, any subset of the keys below), read with
``GET /__emulator/faults``, cleared with ``POST /__emulator/reset-faults``, or set at start with the
CLI flags ``--latency``, ``--unavailable-for``, ``--limit-exceeded-for``, ``--invalid-session-for`` and
``--faults-include-logins``:

- ``latency`` (seconds, float): added to every API request;
- ``unavailable_for`` (seconds): every API request answers 503 ``SERVER_UNAVAILABLE`` until then;
- ``limit_exceeded_for`` (seconds): every API request answers 403 ``REQUEST_LIMIT_EXCEEDED`` until then;
- ``invalid_session_for`` (seconds): every API request answers 401 ``INVALID_SESSION_ID`` until then, whatever
  its token, even one issued a moment ago (logins keep working and keep issuing tokens): a server a client
  must not loop against;
- ``include_logins`` (bool, default false): latency and the outage also hit the login endpoints
  (SOAP ``login`` then answers 500 with ``sf:exceptionCode`` SERVER_UNAVAILABLE, the OAuth token endpoint
  503 ``{"error": "temporarily_unavailable", ...}``). Logins never see the request-limit fault: logins do
  not count against the daily API request limit.

A window given as 0 ends that fault now. Windows are measured on a monotonic clock.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

logger = logging.getLogger(__name__)

FAULT_KEYS = ("latency", "unavailable_for", "limit_exceeded_for", "invalid_session_for", "include_logins")
MAX_SECONDS = 24 * 3600.0


def _seconds(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} must be a number of seconds")
    if not 0 <= value <= MAX_SECONDS:
        raise ValueError(f"{key} must be between 0 and {MAX_SECONDS:.0f} seconds")
    return float(value)


class Faults:
    """The current fault settings of one emulator; thread-safe."""

    def __init__(self, *, latency: float = 0.0, unavailable_for: float = 0.0, limit_exceeded_for: float = 0.0,
                 invalid_session_for: float = 0.0, include_logins: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._latency = 0.0
        self._unavailable_until = 0.0
        self._limit_until = 0.0
        self._invalid_session_until = 0.0
        self._include_logins = False
        self.update({"latency": latency, "unavailable_for": unavailable_for, "limit_exceeded_for": limit_exceeded_for,
                     "invalid_session_for": invalid_session_for, "include_logins": include_logins})

    def update(self, settings: Mapping[str, Any]) -> None:
        """Apply any of ``latency``, ``unavailable_for``, ``limit_exceeded_for``, ``invalid_session_for``,
        ``include_logins``; ValueError for unknown keys or bad values (nothing is applied then)."""
        if not isinstance(settings, Mapping):
            raise ValueError("the body must be a JSON object")
        unknown = sorted(set(settings) - set(FAULT_KEYS))
        if unknown:
            raise ValueError(f"unknown fault switch(es): {', '.join(unknown)}; known: {', '.join(FAULT_KEYS)}")
        checked = {k: _seconds(k, v) for k, v in settings.items() if k != "include_logins"}
        include = settings.get("include_logins")
        if include is not None and not isinstance(include, bool):
            raise ValueError("include_logins must be true or false")
        now = self._clock()
        with self._lock:
            if "latency" in checked:
                self._latency = checked["latency"]
            if "unavailable_for" in checked:
                self._unavailable_until = now + checked["unavailable_for"]
            if "limit_exceeded_for" in checked:
                self._limit_until = now + checked["limit_exceeded_for"]
            if "invalid_session_for" in checked:
                self._invalid_session_until = now + checked["invalid_session_for"]
            if include is not None:
                self._include_logins = include
        logger.info("faults now %s", self.as_dict())

    def reset(self) -> None:
        """Clear every fault."""
        with self._lock:
            self._latency = self._unavailable_until = self._limit_until = self._invalid_session_until = 0.0
            self._include_logins = False

    def latency(self, *, login: bool = False) -> float:
        """Seconds to add to an API request (or a login, when logins are included)."""
        with self._lock:
            return 0.0 if login and not self._include_logins else self._latency

    def unavailable(self, *, login: bool = False) -> bool:
        """True while the outage window is open (for logins only when they are included)."""
        with self._lock:
            if login and not self._include_logins:
                return False
            return self._clock() < self._unavailable_until

    def limit_exceeded(self) -> bool:
        """True while the request-limit window is open."""
        with self._lock:
            return self._clock() < self._limit_until

    def sessions_refused(self) -> bool:
        """True while every session is refused (the invalid-session window is open)."""
        with self._lock:
            return self._clock() < self._invalid_session_until

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON: latency, the seconds left of each window, include_logins."""
        now = self._clock()
        with self._lock:
            return {"latency": self._latency,
                    "unavailable_for": round(max(self._unavailable_until - now, 0.0), 3),
                    "limit_exceeded_for": round(max(self._limit_until - now, 0.0), 3),
                    "invalid_session_for": round(max(self._invalid_session_until - now, 0.0), 3),
                    "include_logins": self._include_logins}
