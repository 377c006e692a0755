"""HTTP transport for Salesforce: default timeouts, and the rewrite of https:// to a plain-HTTP emulator."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


class SalesforceAdapter(HTTPAdapter):
    """A transport adapter that applies a default timeout and, when given an emulator URL, sends every
    request for ``https://<any host>/path`` to ``<emulator URL>/path`` over plain HTTP."""

    def __init__(self, emulator_url: str | None = None, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout
        self.emulator: tuple[str, str] | None = None
        if emulator_url:
            parts = urlsplit(emulator_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"emulator URL must look like http://127.0.0.1:8911, got {emulator_url!r}")
            self.emulator = (parts.scheme, parts.netloc)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Send ``request``, rewritten to the emulator when one is configured."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if self.emulator and request.url:
            parts = urlsplit(request.url)
            request.url = urlunsplit((*self.emulator, parts.path, parts.query, parts.fragment))
        return super().send(request, **kwargs)


def make_session(emulator_url: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> requests.Session:
    """A requests session for Salesforce; ignores proxy/CA environment variables when an emulator is used."""
    session = requests.Session()
    adapter = SalesforceAdapter(emulator_url or None, timeout)
    session.mount("https://", adapter)
    if emulator_url:
        session.trust_env = False
    return session
