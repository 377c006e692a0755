"""RQ jobs: module-level functions with JSON arguments, safe to run twice.

``finish_call`` records the call in the database and writes exactly one Salesforce Task per call by
upserting on the external id ``Task.Call_Id__c``: a retried or duplicated job updates the same Task.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from rq import Queue
from rq.job import Job

from switchboard.store import CallRecord
from worker.activity import task_fields
from worker.context import get_context
from worker.salesforce import find_by_phone, upsert_by_external_id

logger = logging.getLogger(__name__)

TASK_EXTERNAL_ID = "Call_Id__c"


def call_record_columns() -> list[str]:
    """The CallRecord columns a job may set (not the primary key, not the Task id)."""
    return [c.name for c in CallRecord.__table__.columns if c.name not in ("id", "sf_task_id")]


def finish_call(call: dict[str, Any]) -> str:
    """Record a finished call and log it as one Salesforce Task (upsert on Call_Id__c); returns the Task id."""
    ctx = get_context()
    call_id = call["call_id"]
    row = {k: call[k] for k in call_record_columns() if k in call}
    if ctx.store.record_call(**row):
        logger.info("recorded call %s", call_id)
    else:
        logger.info("call %s was already recorded", call_id)
    region = ctx.settings.default_region
    match = ctx.call_salesforce(lambda sf: find_by_phone(sf, call.get("caller_number") or "", region))
    fields = task_fields(call, match)
    task_id = ctx.call_salesforce(lambda sf: upsert_by_external_id(sf, "Task", TASK_EXTERNAL_ID, call_id, fields))
    ctx.store.set_task_id(call_id, task_id)
    logger.info("call %s logged as Task %s (caller match: %s)", call_id, task_id, match["kind"])
    return task_id


def identify_caller(number: str) -> dict[str, Any]:
    """Contacts, accounts and leads matching a phone number (see ``worker.salesforce.find_by_phone``)."""
    ctx = get_context()
    return ctx.call_salesforce(lambda sf: find_by_phone(sf, number, ctx.settings.default_region))


def finish_call_job_id(call_id: str) -> str:
    """A deterministic RQ job id for a call (RQ allows only letters, digits, ``_`` and ``-``)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", call_id)[:64]
    return f"finish_call-{safe}-{hashlib.sha1(call_id.encode()).hexdigest()[:8]}"


def enqueue_finish_call(queue: Queue, call: dict[str, Any]) -> Job:
    """Enqueue ``finish_call`` for ``call`` under its deterministic job id."""
    return queue.enqueue(finish_call, call, job_id=finish_call_job_id(call["call_id"]))
