"""Salesforce access with bounded retries: one shared session, one re-login, backoff on transient errors.

* The session token lives in Redis, so every worker process (and every forked work horse) uses the same
  one, and an expiry costs one login in total, not one per process.
* ``INVALID_SESSION_ID`` -> log in again once (under a Redis lock; a process that finds a newer token
  than the one that failed uses it), then retry once. A second 401 is raised: never a re-login loop.
* ``REQUEST_LIMIT_EXCEEDED``, 5xx and network errors -> exponential backoff with jitter (tenacity),
  within a time budget (``sf_job_retry_budget``); then the error is raised and the job is retried later by RQ.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import redis
import requests
from simple_salesforce import (
    Salesforce,
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential_jitter

from switchboard.config import Settings
from switchboard.meter import Meter
from switchboard.salesforce import connect
from switchboard.transport import make_session

logger = logging.getLogger(__name__)

T = TypeVar("T")
SESSION_KEY = "switchboard:sf:session"
LOGIN_LOCK = "switchboard:sf:login-lock"
SESSION_TTL = 90 * 60  # below Salesforce's default 2 h session timeout


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying later: limits, server errors, network trouble."""
    if isinstance(exc, SalesforceRefusedRequest):
        return "REQUEST_LIMIT_EXCEEDED" in str(exc.content)
    if isinstance(exc, SalesforceGeneralError):
        return exc.status >= 500
    if isinstance(exc, SalesforceAuthenticationFailed):
        return any(s in str(exc) for s in ("SERVER_UNAVAILABLE", "503", "500", "REQUEST_LIMIT_EXCEEDED"))
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


class SalesforceClient:
    """A process's access to Salesforce."""

    def __init__(self, settings: Settings, client: redis.Redis, meter: Meter) -> None:
        self.settings = settings
        self.redis = client
        self.session = make_session(settings.sf_emulator_url)
        self.session.hooks["response"].append(meter.on_response)
        self._sf: Salesforce | None = None

    def _from_token(self, token: dict[str, str]) -> Salesforce:
        return Salesforce(session_id=token["session_id"], instance_url=token["instance_url"],
                          version=self.settings.sf_api_version, session=self.session)

    def salesforce(self) -> Salesforce:
        """The client, from the shared session or by logging in."""
        if self._sf is None:
            raw = self.redis.get(SESSION_KEY)
            self._sf = self._from_token(json.loads(raw)) if raw else self.login(None)
        return self._sf

    def login(self, failed_session_id: str | None) -> Salesforce:
        """Log in once for every process (Redis lock); reuse a newer shared session when there is one."""
        lock = str(uuid.uuid4())
        deadline = time.monotonic() + 30
        while not self.redis.set(LOGIN_LOCK, lock, nx=True, px=30000):
            if time.monotonic() > deadline:
                raise TimeoutError("another process holds the Salesforce login lock")
            time.sleep(0.05)
        try:
            raw = self.redis.get(SESSION_KEY)
            if raw:
                token = json.loads(raw)
                if token["session_id"] != failed_session_id:
                    self._sf = self._from_token(token)
                    return self._sf
            sf = connect(self.settings, self.session)
            token = {"session_id": sf.session_id, "instance_url": f"https://{sf.sf_instance}"}
            self.redis.set(SESSION_KEY, json.dumps(token), ex=SESSION_TTL)
            self._sf = sf
            return sf
        finally:
            if self.redis.get(LOGIN_LOCK) == lock.encode():
                self.redis.delete(LOGIN_LOCK)

    def _once(self, op: Callable[[Salesforce], T]) -> T:
        sf = self.salesforce()
        try:
            return op(sf)
        except SalesforceExpiredSession:
            logger.info("Salesforce session expired; logging in again (once)")
            return op(self.login(sf.session_id))

    def call(self, op: Callable[[Salesforce], T], *, budget: float | None = None) -> T:
        """Run ``op(sf)`` with one re-login on expiry and backoff on transient errors for ``budget`` seconds
        (default ``sf_job_retry_budget``; 0 tries once)."""
        budget = self.settings.sf_job_retry_budget if budget is None else budget
        if budget <= 0:
            return self._once(op)
        retrying = Retrying(
            retry=retry_if_exception(is_transient), reraise=True,
            wait=wait_exponential_jitter(initial=0.5, max=self.settings.sf_backoff_max, jitter=1.0),
            stop=stop_after_delay(budget),
            before_sleep=lambda s: logger.warning("Salesforce: %s; retrying in %.1f s", s.outcome.exception(),
                                                  s.next_action.sleep if s.next_action else 0),
        )
        return retrying(self._once, op)

    def forget_connections(self) -> None:
        """Drop pooled sockets (in a forked child)."""
        self.session.close()
