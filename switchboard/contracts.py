"""What crosses a process boundary: the one place web, orchestrator and worker agree on names.

The processes import this module and the rest of the kernel (``switchboard``), never each other
(``tests/unit/test_layering.py``). Here live the Redis keys and channels they share, the RQ jobs the
orchestrator and the web enqueue for the worker (by path string, so no process imports the worker), the
Socket.IO namespaces, rooms and events the orchestrator emits to the web's pages, and the names of the
commands the web and the CLI send to the orchestrator.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from typing import Any

from rq import Retry

logger = logging.getLogger(__name__)

# -- Orchestrator commands (switchboard.commands): Redis pub/sub, answers on a reply list -----------------
COMMAND_CHANNEL = "switchboard:commands"
REPLY_PREFIX = "switchboard:reply:"
REPLY_TTL = 30  # seconds a reply waits for a requester that gave up
# Command names.
PROVISION = "provision"
PRESENCE_SET = "presence_set"
PRESENCE_POOL = "presence_pool"
PRESENCE_QUEUE = "presence_queue"
PRESENCE_REFRESH = "presence_refresh"
PRESENCE_OMNI = "presence_omni"  # {agent, status: Omni DeveloperName | None, workload}: from the Omni poller
PRESENCE_OMNI_LOGOUT = "presence_omni_logout"  # {agent}: the agent chose Offline in the Omni widget
WRAPUP_CODE = "wrapup_code"
DASHBOARD_REFRESH = "dashboard_refresh"
# Call control from the page (web/call_control.py sends them with commands.request).
CALL_HANGUP = "call_hangup"
CALL_TRANSFER = "call_transfer"
AGENT_DEVICE_STATE = "agent_device_state"
CALL_CONSULT = "call_consult"
CALL_CONSULT_STATE = "call_consult_state"
CALL_CONSULT_COMPLETE = "call_consult_complete"
CALL_CONSULT_CANCEL = "call_consult_cancel"
# Pick mode (orchestrator/pick_service.py; web/pick.py sends them).
CALL_PICK = "call_pick"  # {agent, call_id}, with a reply: won ({"ok": true}) or why not
PICK_REFRESH = "pick_refresh"  # {agent}: send that agent's waiting list now

# -- Socket.IO: the orchestrator emits through the Redis message queue, the web serves the pages ---------
PHONE_NAMESPACE = "/phone"
BOARD_NAMESPACE = "/board"
BOARD_ROOM = "board"
# Events on PHONE_NAMESPACE (to one agent's room) and, for CALL_ENDED and AGENT_STATE, on BOARD_NAMESPACE.
CALL_OFFERED = "call_offered"
CALL_PLACED = "call_placed"
CALL_ANSWERED = "call_answered"
CALL_ENDED = "call_ended"
CALL_LEFT = "call_left"
AGENT_STATE = "agent_state"
PRESENCE_EVENT = "presence"
# every agent's presence as their page last got it (JSON, with "at": epoch seconds), for `switchboard presence`
LIVE_PRESENCE_KEY = "switchboard:presence:live"
PRESENCE_NOTICE = "presence_notice"  # a plugin refused or replaced the status the agent chose: {reason, refused}
QUEUE_STATS_EVENT = "queue_stats"
WAITING_CALLS_EVENT = "waiting_calls"  # pick mode: {pick_mode, at, calls: [...]} (orchestrator/pick_service.py)
PHONE_EVENTS = (CALL_OFFERED, CALL_ANSWERED, CALL_ENDED, CALL_LEFT, AGENT_STATE)


def agent_room(agent: str) -> str:
    """The Socket.IO room of one agent's phone pages (``agent`` is the SIP user name)."""
    return f"agent:{agent}"


# -- Live calls: written by the orchestrator, read by the web and the worker -----------------------------
LIVE_CALL_PREFIX = "switchboard:agent-call:"
LIVE_CALL_TTL = 4 * 3600
OFFER_PREFIX = "switchboard:offer:"
OFFER_TTL = 12 * 3600  # the web authorizes an agent's workflow actions on a call while this lives
# The calls the orchestrator's live model holds, a JSON list of call ids it rewrites every
# HELD_CALLS_EVERY seconds (gone HELD_CALLS_TTL seconds after the orchestrator stopped): the ledger
# reconciler leaves a call the orchestrator still holds to it, whatever the ledger says.
HELD_CALLS_KEY = "switchboard:orchestrator:calls"
HELD_CALLS_EVERY = 1.0
HELD_CALLS_TTL = 3


def live_call_key(agent: str) -> str:
    """The Redis key of an agent's current answered call (a reloaded page restores it)."""
    return LIVE_CALL_PREFIX + agent


def offer_key(call_id: str, agent: str) -> str:
    """Redis key recording that ``call_id`` was offered to ``agent`` (the web authorizes with it)."""
    return f"{OFFER_PREFIX}{call_id}:{agent}"


# -- A call's workflow context, summary and wrap-up code: written by web and worker ----------------------
CONTEXT_KEY = "switchboard:call:{}:context"
SUMMARY_KEY = "switchboard:call:{}:summary"
WRAPUP_KEY = "switchboard:call:{}:wrapup"
AUTOCASE_KEY = "switchboard:call:{}:autocase"
CONTEXT_TTL = 7 * 86400
CONTEXT_FIELDS = ("who_id", "what_id", "case_id")


def call_context(conn: Any, call_id: str) -> dict[str, str]:
    """The agent's phone-workflow choice for a call (``who_id``, ``what_id``, ``case_id``), or {}."""
    raw = conn.get(CONTEXT_KEY.format(call_id))
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        logger.warning("ignoring a malformed workflow context for call %s", call_id)
        return {}
    return {k: str(data[k]) for k in CONTEXT_FIELDS if isinstance(data, dict) and data.get(k)}


# -- Screen-pop warm-ups: the orchestrator pushes, the worker's warmer threads take ----------------------
WARMUP_KEY = "switchboard:lookups:warm"
WARMUP_CAP = 1000  # at most this many warm-ups wait; older ones are dropped first


def warm_request(number: str, now: float, call_id: str = "") -> str:
    """The list entry asking for ``number``'s lookup (the caller of ``call_id``), pushed at ``now`` (epoch s)."""
    return json.dumps({"number": number, "at": now, **({"call_id": call_id} if call_id else {})})


def push_warmup(conn: Any, number: str, now: float | None = None, *, call_id: str = "",
                key: str = WARMUP_KEY) -> None:
    """Ask the workers to look ``number`` up soon (newest first; the oldest beyond ``WARMUP_CAP`` dropped)."""
    pipe = conn.pipeline()
    pipe.lpush(key, warm_request(number, time.time() if now is None else now, call_id))
    pipe.ltrim(key, 0, WARMUP_CAP - 1)
    pipe.execute()


# -- RQ jobs the worker runs, enqueued by path (rq imports the function in the worker) -------------------
FINISH_CALL = "worker.tasks.finish_call"
SET_WRAPUP_CODE = "worker.tasks.set_wrapup_code"
# A job that fails (Salesforce down longer than ``sf_job_retry_budget``) runs again later, up to 8 times
# over about 9 minutes, then stays in RQ's failed registry (``switchboard jobs failed`` / ``requeue``).
RETRY = Retry(max=8, interval=[1, 2, 5, 10, 30, 60, 120, 300])
# How long RQ keeps a call's finished job (the orchestrator and the ledger reconciler then see the call was
# handled) and a failed one.
RESULT_TTL = 86400
FAILURE_TTL = 7 * 86400


def finish_call_job_id(call_id: str) -> str:
    """A deterministic RQ job id for a call (RQ allows only letters, digits, ``_`` and ``-``)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", call_id)[:64]
    return f"finish_call-{safe}-{hashlib.sha1(call_id.encode()).hexdigest()[:8]}"


def wrapup_job_id(call_id: str) -> str:
    """A deterministic RQ job id for a call's wrap-up code."""
    return "wrapup-" + finish_call_job_id(call_id)
