# ruff: noqa: F811
"""The wrap-up code job: the code reaches the call's Task (CallDisposition) and history whether it
comes before the call's activity was built, while it waits in the outbox, or after the Task was written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.worker import (  # noqa: F401  (fixtures)
    call_history,
    database_url,
    emulator_url,
    flush,
    make_call,
    redis_url,
    tasks_for,
    worker_env,
)
from worker import tasks

pytestmark = pytest.mark.integration


def test_code_after_the_task_was_written_updates_the_same_task(worker_env: Any, database_url: str) -> None:
    call = make_call()
    tasks.finish_call(call)
    assert flush() == 1
    assert tasks.set_wrapup_code(call["call_id"], "Manager Request") == "queued"
    assert flush() == 1
    (task,) = tasks_for(call["call_id"])
    assert task["CallDisposition"] == "Manager Request" and task["CallDurationInSeconds"] == 120
    assert call_history(database_url, call["call_id"])[0].wrapup_code == "Manager Request"


def test_code_while_the_task_waits_in_the_outbox_replaces_the_entry(worker_env: Any, database_url: str) -> None:
    call = make_call()
    tasks.finish_call(call)
    tasks.set_wrapup_code(call["call_id"], "No Note")
    assert flush() == 1
    (task,) = tasks_for(call["call_id"])
    assert task["CallDisposition"] == "No Note"


def test_code_before_the_call_activity_is_kept_for_it(worker_env: Any, database_url: str) -> None:
    call = make_call()
    assert tasks.set_wrapup_code(call["call_id"], "Threat/Harassment") == "pending"
    tasks.finish_call(call)
    assert flush() == 1
    (task,) = tasks_for(call["call_id"])
    assert task["CallDisposition"] == "Threat/Harassment"
    assert call_history(database_url, call["call_id"])[0].wrapup_code == "Threat/Harassment"
    tasks.finish_call(dict(call))  # a retried finish_call keeps the code
    flush()
    assert tasks_for(call["call_id"])[0]["CallDisposition"] == "Threat/Harassment"
