"""Pick mode, the pure part (docs/routing.md, "Pick mode"): which waiting calls an agent under a pick-mode
profile may pick, the claims that make a pick atomic, and the waiting list each picking agent sees. No I/O:
``orchestrator/pick_service.py`` runs it in the orchestrator's event loop and talks to Asterisk.

A pick claims the call before anything is sent to Asterisk, with no ``await`` between the checks and the
claim, so of two agents picking the same call one wins and the other is refused at once ("Already picked
by ..."). A claim holds until the call ends or enters a queue again (its agent did not answer: it is
waiting, and pickable, once more), or, when the caller never left the queue (Asterisk refused the move),
for CLAIM_UNCONFIRMED seconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from orchestrator.dashboard import logged_in
from orchestrator.model import Call, Model
from switchboard.numbers import display_number
from switchboard.pick_db import Picker
from switchboard.presence import REASON_PICK_MODE

logger = logging.getLogger(__name__)

CLAIM_UNCONFIRMED = 5.0  # seconds a claim holds while the caller still sits in the queue
BUSY_STATES = frozenset({"inuse", "busy", "onhold", "ringing"})


@dataclass(frozen=True, slots=True)
class Claim:
    """``agent`` (shown as ``name``) picked ``call_id`` at ``at``, when the call had entered a queue ``joins`` times."""

    call_id: str
    agent: str
    name: str
    at: float
    joins: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a pick is refused: a stable ``error`` code and the sentence the agent reads."""

    error: str
    message: str

    def answer(self) -> dict[str, Any]:
        """The command's error answer."""
        return {"error": self.error, "message": self.message}


def waiting(call: Call) -> bool:
    """Whether the call's caller waits in a queue now (entered it, and has not left)."""
    return bool(call.queue) and bool(call.waiting_channel) and call.left_queue_at is None


def holds(claim: Claim, call: Call | None, now: float) -> bool:
    """Whether ``claim`` still keeps ``call`` from other pickers."""
    if call is None or call.queue_joins > claim.joins:
        return False  # over, or back in a queue (the agent did not answer): pickable again
    return not (waiting(call) and now - claim.at > CLAIM_UNCONFIRMED)


class Claims:
    """The calls picked and not yet released, by call id."""

    def __init__(self) -> None:
        self.held: dict[str, Claim] = {}

    def holding(self, model: Model, call_id: str, now: float) -> Claim | None:
        """The claim that keeps ``call_id`` now, if any (a claim that no longer holds is dropped)."""
        claim, call = self.held.get(call_id), model.calls.get(call_id)
        if claim is not None and not holds(claim, call, now):
            del self.held[call_id]
            if call is not None and call.queue_joins == claim.joins:
                logger.warning("pick of %s by %s expired: the caller never left the queue", call_id, claim.agent)
            return None
        return claim

    def take(self, call: Call, picker: Picker, now: float) -> Claim:
        """Claim ``call`` for ``picker`` (checked with ``refusal`` just before, with no await between)."""
        claim = self.held[call.call_id] = Claim(call.call_id, picker.agent, picker.name, now, call.queue_joins)
        return claim

    def release(self, call_id: str) -> None:
        """Drop the claim on ``call_id`` (Asterisk refused to move the caller)."""
        self.held.pop(call_id, None)

    def prune(self, model: Model, now: float) -> None:
        """Drop every claim that no longer holds."""
        for call_id in list(self.held):
            self.holding(model, call_id, now)


def refusal(model: Model, claims: Claims, picker: Picker | None, agent: str, call_id: str,
            now: float) -> Refusal | None:
    """Why ``agent`` may not pick ``call_id`` now, or None when they may."""
    if picker is None:
        return Refusal("not_pick_mode", "Your profile is not in pick mode.")
    claim = claims.holding(model, call_id, now)
    if claim is not None:
        who = "you" if claim.agent == agent else claim.name
        return Refusal("already_picked", f"Already picked by {who}.")
    call = model.calls.get(call_id)
    if call is None:
        return Refusal("not_waiting", "The caller hung up.")
    if not waiting(call) or model.bridges.bridge_of(call.waiting_channel):
        return Refusal("not_waiting", "The call is no longer waiting: an agent took it.")
    if call.queue not in picker.queues:
        return Refusal("not_your_queue", "This call waits in a queue outside your profile.")
    if call.ringing:  # app_queue rings a member for it: the member's answer would race the pick
        return Refusal("offered", "The call is being offered to an agent right now; try again in a moment.")
    return _unavailable(model, agent, call.queue)


def _unavailable(model: Model, agent: str, queue: str) -> Refusal | None:
    """Why the agent's phone cannot take a call of ``queue`` now, or None."""
    presence = model.agents.get(agent)
    if presence is None or not logged_in(presence):
        return Refusal("not_available", "Your phone is not registered.")
    if presence.device_state in BUSY_STATES:
        return Refusal("not_available", "You are on a call.")
    membership = presence.queues.get(queue)
    if membership is not None and membership.paused and membership.paused_reason not in ("", REASON_PICK_MODE):
        label = model.queue_labels.get(queue, queue)
        return Refusal("not_available", f"You are paused in {label}: {membership.paused_reason}.")
    return None


def waiting_list(model: Model, claims: Claims, picker: Picker, now: float) -> list[dict[str, Any]]:
    """The calls ``picker`` may pick from, longest waiting first (claimed ones are left out)."""
    rows = []
    for call in model.calls.values():
        if not waiting(call) or call.queue not in picker.queues or claims.holding(model, call.call_id, now):
            continue
        rows.append({
            "call_id": call.call_id,
            "caller_number": call.caller_number,
            "caller_display": display_number(call.caller_number),
            "caller_name": call.caller_name,
            "queue": call.queue,
            "queue_label": model.queue_labels.get(call.queue, call.queue),
            "waiting_since": call.joined_at,
            "wait_seconds": round(max(0.0, now - call.joined_at), 1),
            "offered": bool(call.ringing),
        })
    rows.sort(key=lambda r: (r["waiting_since"], r["call_id"]))
    return rows
