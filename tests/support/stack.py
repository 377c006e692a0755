"""A running stack from the outside: its CLI, its Salesforce (the emulator), Asterisk's queues, new agents
and logged-in web sessions."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from control.stack import DEMO_PASSWORD
from tests.support.ami import asterisk_of

_agents = itertools.count(1)


def cli_env(stack: Any) -> dict[str, str]:
    """The environment of a ``switchboard`` command run by an operator against the stack (its state folder)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env["SWITCHBOARD_STATE_DIR"] = str(stack.workdir)
    return env


def cli(stack: Any, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """``switchboard ARGS`` against the stack (its state folder), as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "control.cli", *args], env=cli_env(stack), capture_output=True,
                          text=True, timeout=60, input=input)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> float:
    """Poll ``predicate`` until true (fail with ``what`` after ``timeout`` s); the moment it became true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return time.monotonic()


def member_line(target: Any, agent: str, queue: str = "cs-en") -> str | None:
    """``agent``'s line in ``queue show QUEUE`` of a stack's (or a bare) Asterisk, with its paused reason;
    None when not a member."""
    out = asterisk_of(target).cli(f"queue show {queue}").stdout
    return next((ln for ln in out.splitlines() if f"Local/{agent}@sb-agent/n" in ln), None)


def set_workflow(stack: Any, username: str, workflow: str) -> None:
    """Give ``username`` the phone workflow ``workflow`` in the database."""
    from sqlalchemy import select

    from switchboard.store import Store, User

    store = Store(stack.settings.database_url)
    with store.session() as s, s.begin():
        s.scalar(select(User).where(User.username == username)).phone_workflow = workflow
    store.engine.dispose()


def fresh_agent(stack: Any, workflow: str | None = None, *, queue: str | tuple[str, ...] = "Customer Service EN",
                prefix: str = "wf") -> str:
    """A new agent (display name "Workflow <name>") in ``queue`` (or each of several), with ``workflow``
    when given, once Asterisk knows its endpoint and has it as a member of those queues."""
    from switchboard.store import Store

    stamp = "".join(chr(ord("a") + int(d)) for d in f"{int(time.time()) % 100000:05d}")  # letters: never a number
    name = f"{prefix}{next(_agents)}{stamp}"
    queues = (queue,) if isinstance(queue, str) else queue
    r = cli(stack, "agent", "add", name, "--name", f"Workflow {name}", "--password", DEMO_PASSWORD,
            *[arg for q in queues for arg in ("--queue", q)])
    assert r.returncode == 0, r.stderr
    store = Store(stack.settings.database_url)
    keys = [store.find_queue(q).name for q in queues]
    store.engine.dispose()
    wait_for(lambda: "Unable to find" not in stack.asterisk.cli(f"pjsip show endpoint {name}", check=False).stdout,
             10, f"Asterisk does not know {name}")
    for key in keys:
        wait_for(lambda k=key: member_line(stack, name, k) is not None, 10, f"{name} is not a member of {key}")
    if workflow:
        set_workflow(stack, name, workflow)
    return name


def web_session(stack: Any, username: str) -> tuple[Any, str]:
    """A logged-in requests session and its CSRF token (the one the page reads from #presence[data-csrf])."""
    import requests

    base = stack.settings.public_url
    s = requests.Session()
    form = s.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    r = s.post(f"{base}/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
               timeout=10)
    assert r.ok and r.url.endswith("/phone"), r.url
    csrf = re.search(r'data-csrf="([^"]+)"', s.get(f"{base}/phone", timeout=10).text).group(1)
    return s, csrf


# ---- Salesforce (the emulator) ------------------------------------------------------------------------------
def sf_client(stack: Any) -> Any:
    """A simple-salesforce client of the stack's Salesforce, logged in as the integration user."""
    from switchboard.salesforce import connect

    return connect(stack.settings)


def tasks_for(sf: Any, call_id: str) -> list[dict]:
    """The call Tasks whose CallObject is ``call_id``."""
    from switchboard.salesforce import soql_quote

    q = ("SELECT Id, Subject, TaskSubtype, CallType, CallDurationInSeconds, CallObject, CallDisposition, "
         f"Phone_Number_2__c, Service_Pool_Queue__c, Queue_Wait_Time_Sec__c, Queue_Wait_Time__c, "
         f"Advanced_Call_Details__c, Call_End_Time__c, WhoId, WhatId, Description FROM Task WHERE CallObject = "
         f"{soql_quote(call_id)}")
    return sf.query(q)["records"]


def task_of(stack: Any, call_id: str, timeout: float = 8) -> dict:
    """The call's Task once it landed."""
    sf = sf_client(stack)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = tasks_for(sf, call_id)
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no Task for call {call_id}")


def one_task(stack: Any, call_id: str) -> dict:
    """Exactly one Task for the call lands (and no second one after it)."""
    task_of(stack, call_id)
    time.sleep(1.0)
    tasks = tasks_for(sf_client(stack), call_id)
    assert len(tasks) == 1, f"{len(tasks)} Tasks for call {call_id}"
    return tasks[0]


def contact_id(stack: Any, name: str) -> str:
    """The Id of the one Contact named ``name`` ("First Last")."""
    from switchboard.salesforce import soql_quote

    first, last = name.split(" ", 1)
    recs = sf_client(stack).query(f"SELECT Id FROM Contact WHERE FirstName = {soql_quote(first)} "
                                  f"AND LastName = {soql_quote(last)}")["records"]
    assert len(recs) == 1, recs
    return recs[0]["Id"]


@contextlib.contextmanager
def own_stack(name: str, **options: Any) -> Iterator[Any]:
    """A whole stack of its own (demo data; ``options`` as ``control.stack.Stack`` takes them: plugins,
    overrides…), started for the block and stopped after it, its logs kept in the test artifacts."""
    import shutil
    import tempfile
    from pathlib import Path

    from control.stack import Stack
    from tests.support.paths import ARTIFACTS

    workdir = Path(tempfile.mkdtemp(prefix=f"sb-{name}-"))
    stack = Stack(workdir, f"{name}-{os.getpid()}", demo=True, log=lambda msg: None, **options)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        logs = ARTIFACTS / f"stack-logs-{name}"
        logs.mkdir(parents=True, exist_ok=True)
        for f in (workdir / "logs").glob("*.log"):
            shutil.copy(f, logs / f.name)
        shutil.rmtree(workdir, ignore_errors=True)
