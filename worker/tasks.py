"""RQ jobs: module-level functions with JSON arguments, safe to run twice.

``finish_call`` records the call in the database, identifies the caller (cached) and puts the call
activity in the outbox keyed by the call id; the flusher writes it with other calls' activities in one
sObject Collections upsert on the external id ``Call_Id__c``. A retried or duplicated job replaces its
own outbox entry, and the upsert updates the same record: never a second Task or Case.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rq import Queue, Retry
from rq.job import Job

from switchboard.config import FIELD_NAME
from switchboard.contracts import (
    CONTEXT_TTL,
    FAILURE_TTL,
    RESULT_TTL,
    RETRY,
    SUMMARY_KEY,
    WRAPUP_KEY,
    call_context,
    finish_call_job_id,
)
from switchboard.plugins import call_hook
from switchboard.store import CallRecord
from worker.activity import case_fields, fit_lengths, parse_time, task_fields
from worker.context import get_context

logger = logging.getLogger(__name__)


def call_record_columns() -> list[str]:
    """The CallRecord columns a job may set (not the primary key, not the Task id)."""
    return [c.name for c in CallRecord.__table__.columns if c.name not in ("id", "sf_task_id")]


def finish_call(call: dict[str, Any]) -> str:
    """Record a finished call and queue its activity (Task, or Case with the option) for Salesforce."""
    ctx = get_context()
    call_id = call["call_id"]
    row = {k: call[k] for k in call_record_columns() if k in call}
    if not ctx.store.record_call(**row):
        logger.info("call %s was already recorded", call_id)
    # After record_call (see web/workflows.py): a choice saved later re-runs this job with the summary.
    remember_summary(ctx.redis, call)
    call = {**call, **call_context(ctx.redis, call_id)}
    call = with_wrapup_code(ctx, call)  # the agent's wrap-up code, if picked already
    match = ctx.directory.identify(call.get("caller_number") or "")
    build = case_fields if ctx.settings.sf_call_info_on_case else task_fields
    fields = build(call, match, details_url=details_url(ctx.settings.public_url, call_id))
    fields = with_plugin_fields(ctx.plugins, call, ctx.activity_outbox.sobject, fields)
    ctx.activity_outbox.put(call_id, fields, parse_time(call["ended_at"]).timestamp())
    logger.info("call %s queued for Salesforce (caller match: %s)", call_id, match["kind"])
    return "queued"


def with_plugin_fields(pm: Any, call: dict[str, Any], sobject: str, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with what the plugins' ``call_activity`` add or change, in the order they registered; a
    name that is not a Salesforce field name, or a value that is not text, a number, a boolean or null, is
    logged and left out (the activity is still written)."""
    out = dict(fields)
    for answer in reversed(call_hook(pm, "call_activity", summary=dict(call), sobject=sobject, fields=dict(fields))):
        if not isinstance(answer, dict):
            logger.error("call %s: a plugin's call_activity answered %.80r, not a dict; ignored", call["call_id"],
                         answer)
            continue
        for name, value in answer.items():
            if not isinstance(name, str) or not FIELD_NAME.match(name) \
                    or not (value is None or isinstance(value, str | int | float | bool)):
                logger.error("call %s: a plugin's field %.80r = %.80r refused", call["call_id"], name, value)
                continue
            out[name] = value
    return fit_lengths(out)


def remember_summary(conn: Any, call: dict[str, Any]) -> None:
    """Keep the call summary a while, so a later workflow choice can rebuild the same activity."""
    conn.set(SUMMARY_KEY.format(call["call_id"]), json.dumps(call), ex=CONTEXT_TTL)


def details_url(public_url: str, call_id: str) -> str:
    """The advanced call details page of a call (recording and details), or '' without a public URL."""
    return f"{public_url.rstrip('/')}/calls/{call_id}" if public_url else ""


def enqueue_finish_call(queue: Queue, call: dict[str, Any], *, retry: Retry | None = RETRY) -> Job:
    """Enqueue ``finish_call`` for ``call`` under its deterministic job id, retried as ``RETRY`` says."""
    return queue.enqueue(finish_call, call, job_id=finish_call_job_id(call["call_id"]), retry=retry,
                         result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)


def wrapup_context(conn: Any, call_id: str) -> dict[str, str]:
    """The wrap-up code the agent picked for a call, as ``{"wrapup_code": code}``, or {}."""
    raw = conn.get(WRAPUP_KEY.format(call_id))
    return {"wrapup_code": raw.decode() if isinstance(raw, bytes) else str(raw)} if raw else {}


def with_wrapup_code(ctx: Any, call: dict[str, Any]) -> dict[str, Any]:
    """``call`` with the wrap-up code picked for it (also saved in its history), if any."""
    extra = wrapup_context(ctx.redis, call["call_id"])
    if extra:
        ctx.store.set_wrapup_code(call["call_id"], extra["wrapup_code"])
    return {**call, **extra}


def set_wrapup_code(call_id: str, code: str) -> str:
    """Save the agent's wrap-up code on the call (history) and its Task (CallDisposition).

    The code is kept in Redis first, so ``finish_call`` uses it whenever it runs; when the call's
    activity was already built, this rebuilds it with the code and puts it in the outbox again (a
    pending entry is replaced, a written Task is updated by the same upsert on ``Call_Id__c``).
    """
    ctx = get_context()
    ctx.redis.set(WRAPUP_KEY.format(call_id), code, ex=CONTEXT_TTL)
    raw = ctx.redis.get(SUMMARY_KEY.format(call_id))
    if raw is None:
        ctx.store.set_wrapup_code(call_id, code)
        logger.info("wrap-up code for call %s kept until its activity is built", call_id)
        return "pending"
    finish_call(json.loads(raw))
    ctx.store.set_wrapup_code(call_id, code)
    logger.info("wrap-up code for call %s queued for Salesforce", call_id)
    return "queued"
