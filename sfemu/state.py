"""The emulator's mutable state: store, sessions, API usage, request log, query cursors, faults and flows."""

from __future__ import annotations

import secrets
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from flask import current_app

from sfemu.auth import DEFAULT_SESSION_TIMEOUT, Credentials, SessionRegistry
from sfemu.faults import Faults
from sfemu.flow_rules import FlowSet
from sfemu.store import Store

DEFAULT_API_LIMIT = 15000
MAX_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200
REQUEST_KINDS = ("api", "login", "control")


@dataclass(frozen=True)
class EmulatorConfig:
    """Knobs of one emulator instance."""

    latency: float = 0.0
    api_limit: int = DEFAULT_API_LIMIT
    request_log_size: int = 10000
    unavailable_for: float = 0.0
    limit_exceeded_for: float = 0.0
    invalid_session_for: float = 0.0
    faults_include_logins: bool = False
    session_timeout: float = DEFAULT_SESSION_TIMEOUT


@dataclass(frozen=True)
class RequestLogEntry:
    """One HTTP request the emulator answered; ``api`` is true when it counted against the API limit and
    ``kind`` is "api" (``/services/data``), "login" (SOAP login, OAuth token) or "control" (``/__emulator``)."""

    method: str
    path: str
    query: str
    status: int
    time: float
    duration_ms: float
    api: bool
    kind: str = "api"

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON."""
        return asdict(self)


class ApiUsage:
    """Counts API requests against the daily limit (``Sforce-Limit-Info: api-usage=USED/MAX``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def count(self) -> int:
        """Count one request; returns the new total."""
        with self._lock:
            self.used += 1
            return self.used

    def header(self) -> str:
        """The ``Sforce-Limit-Info`` value."""
        return f"api-usage={self.used}/{self.limit}"


class RequestLog:
    """A bounded, thread-safe log of answered requests."""

    def __init__(self, size: int) -> None:
        self._entries: deque[RequestLogEntry] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, entry: RequestLogEntry) -> None:
        """Append an entry."""
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[RequestLogEntry]:
        """A snapshot of the log."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


class QueryCursors:
    """Rendered query results waiting to be fetched page by page via ``nextRecordsUrl``."""

    def __init__(self) -> None:
        self._results: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self._lock = threading.Lock()

    def open(self, records: list[dict[str, Any]], batch_size: int) -> str:
        """Keep ``records`` (served ``batch_size`` at a time) and return the locator naming them."""
        locator = "01g5g" + secrets.token_hex(5).upper()
        with self._lock:
            self._results[locator] = (records, batch_size)
        return locator

    def get(self, locator: str) -> tuple[list[dict[str, Any]], int] | None:
        """The records and batch size of a locator, else None."""
        with self._lock:
            return self._results.get(locator)


class EmulatorState:
    """Everything one emulator app holds between requests."""

    def __init__(self, store: Store, credentials: Credentials, config: EmulatorConfig, user_id: str,
                 flows: FlowSet | None = None) -> None:
        self.store = store
        self.credentials = credentials
        self.config = config
        self.user_id = user_id
        self.flows = flows or FlowSet()
        self.faults = Faults(latency=config.latency, unavailable_for=config.unavailable_for,
                             limit_exceeded_for=config.limit_exceeded_for,
                             invalid_session_for=config.invalid_session_for,
                             include_logins=config.faults_include_logins)
        self.sessions = SessionRegistry(config.session_timeout)
        self.usage = ApiUsage(config.api_limit)
        self.log = RequestLog(config.request_log_size)
        self.cursors = QueryCursors()
        self.signing_key = secrets.token_hex(16)


def get_state() -> EmulatorState:
    """The state of the app handling the current request."""
    state: EmulatorState = current_app.extensions["sfemu"]
    return state
