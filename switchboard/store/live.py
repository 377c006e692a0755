"""Settings as an admin left them: the configured settings with the overrides stored in the database."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from switchboard.config import Settings, with_overrides
from switchboard.store.db import Store

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0


class LiveSettings:
    """The settings with ``switchboard admin`` overrides, read from the database at most every ``ttl`` s."""

    def __init__(self, store: Store, base: Settings, ttl: float = REFRESH_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.base = base
        self.ttl = ttl
        self.clock = clock
        self._overrides: dict[str, Any] = {}
        self._value: Settings | None = None
        self._read_at = 0.0

    def get(self) -> Settings:
        """The current settings (cached for ``ttl`` seconds; the last ones if the database is unavailable)."""
        now = self.clock()
        if self._value is None or now - self._read_at >= self.ttl:
            try:
                self._overrides = self.store.admin_settings()
            except Exception:
                logger.exception("could not read the admin settings; keeping the last ones")
            self._value = with_overrides(self.base, self._overrides)
            self._read_at = now
        return self._value
