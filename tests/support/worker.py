"""The RQ worker in-process against the Salesforce emulator, a real Redis and SQLite: fixtures for its
environment, a call's activity to finish, and what lands (Tasks, call history, the emulator's log)."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sfemu.auth import Credentials
from sfemu.seed import DEMO_CALLER_NUMBER
from sfemu.testing import running_emulator
from switchboard.salesforce import soql_quote
from switchboard.store import Store, upgrade
from tests.support.redis_server import running_redis
from worker.context import get_context, reset_context

CREDS = Credentials()
_call_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    """The Salesforce emulator (demo data), one per test module."""
    with running_emulator("demo") as url:
        yield url


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A redis-server of the test module's own."""
    with running_redis() as url:
        yield url


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database of the test module's own."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'switchboard.db'}"
    upgrade(url)
    return url


@pytest.fixture
def worker_env(emulator_url: str, redis_url: str, database_url: str,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The worker's settings in this process's environment, a fresh worker context and an empty Redis."""
    env = {
        "SWITCHBOARD_SF_EMULATOR_URL": emulator_url,
        "SWITCHBOARD_SF_AUTH": "password",
        "SWITCHBOARD_SF_USERNAME": CREDS.username,
        "SWITCHBOARD_SF_PASSWORD": CREDS.password,
        "SWITCHBOARD_SF_SECURITY_TOKEN": CREDS.security_token,
        "SWITCHBOARD_DATABASE_URL": database_url,
        "SWITCHBOARD_REDIS_URL": redis_url,
        "SWITCHBOARD_RQ_QUEUE": "switchboard-test",
        "SWITCHBOARD_DEFAULT_REGION": "FI",
    }
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_context()
    ctx = get_context()
    ctx.redis.flushdb()
    yield env
    reset_context()


def make_call(**overrides: Any) -> dict[str, Any]:
    """A finished call's activity (the orchestrator's summary) with a fresh call id."""
    call = {
        "call_id": f"{int(time.time())}.{os.getpid()}{next(_call_numbers)}",
        "direction": "inbound", "caller_number": DEMO_CALLER_NUMBER, "caller_name": "",
        "queue": "cs-en", "queue_label": "Customer Service EN", "agent": "agent1", "disposition": "answered",
        "started_at": "2024-06-03T10:00:00+03:00", "answered_at": "2024-06-03T10:00:07+03:00",
        "ended_at": "2024-06-03T10:02:07+03:00", "wait_seconds": 7, "duration_seconds": 120,
    }
    call.update(overrides)
    return call


def tasks_for(call_id: str) -> list[dict[str, Any]]:
    """The Tasks written for ``call_id`` (by its external id)."""
    sf = get_context().client.salesforce()
    result = sf.query(
        "SELECT Id, Subject, Status, TaskSubtype, CallType, CallDurationInSeconds, CallObject, CallDisposition, "
        "Call_Result__c, ActivityDate, Phone_Number_2__c, Service_Pool_Queue__c, Queue_Wait_Time__c, "
        "Queue_Wait_Time_Sec__c, Call_End_Time__c, Advanced_Call_Details__c, Who.Name, What.Name FROM Task "
        f"WHERE Call_Id__c = {soql_quote(call_id)}")
    return list(result["records"])


def flush() -> int:
    """Write the outbox now; how many records went."""
    return get_context().flusher().run_once(force=True)


def emulator(url: str, method: str, path: str) -> Any:
    """The emulator's control API ``/__emulator/<path>``."""
    with requests.Session() as http:
        http.trust_env = False
        response = http.request(method, f"{url}/__emulator/{path}", timeout=5)
        return response.json() if response.content else None


def api_paths(url: str) -> list[str]:
    """The API resources the emulator was asked for, in order."""
    return [e["path"].split("/")[4] for e in emulator(url, "GET", "requests?api=1")["requests"]]


def call_history(database_url: str, call_id: str) -> list[Any]:
    """The call history rows of ``call_id``."""
    return [r for r in Store(database_url).call_history(limit=1000) if r.call_id == call_id]


def slow_once(marker: str, seconds: float = 120.0) -> str:
    """An RQ job for tests of a worker that dies mid-job: the first run leaves ``marker`` and takes
    ``seconds``; a later run (the job queued again) returns at once."""
    if os.path.exists(marker):
        return "done"
    with open(marker, "w") as out:
        out.write(str(os.getpid()))
    time.sleep(seconds)
    return "slow"
