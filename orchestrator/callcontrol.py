"""Call control from the agent's page, server-side through AMI: hang up, blind-transfer or consult-transfer
the agent's own leg of a call. This is how an agent on a SIP phone (whose page holds no SIP session) hangs
up and transfers from the page; the web phone may use it as well.

A consult (attended) transfer is Asterisk's own, as if the phone's keypad had started it: the target is
put on the agent's channel (``SB_CONSULT_TARGET``, inherited by the consultation's channel) and AMI
``Atxfer`` dials it through the ``sb-consult`` context; the customer hears music on hold. Complete and
cancel are the keypad's codes (features.conf: atxfercomplete ``*2``, atxferabort ``*1``) played as if the
phone had sent them. The phone's own keys do the same; hanging the phone up completes the transfer.

Every command names the agent (the web takes it from the login session) and the call id; the agent must
have a channel of their own in that call (``Model.agent_leg``), else the answer is ``not_on_call``.
Answers are JSON objects: ``{"ok": true, ...}`` or ``{"error": code, "message": text}``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.model import AgentLeg, Model
from orchestrator.translate import CONSULT_CHANNEL, CONSULT_CONTEXT, CONSULT_EXTEN
from switchboard import contracts as c

logger = logging.getLogger(__name__)

AmiAction = Callable[[dict[str, Any]], Awaitable[Any]]
# The consultation: Local/<CONSULT_EXTEN>@<CONSULT_CONTEXT> (orchestrator/translate.py; [sb-consult]),
# which goes on to TRANSFER_CONTEXT with the target the agent's channel carries. Its extension has two
# digits: Atxfer keys them in; the first cuts the "transfer" prompt short, and a one-digit extension then
# waited transferdigittimeout (3 s) for a second.
# Once the keyed-in digits are read, Asterisk moves the agent's channel out of the call's bridge: the
# sign that the consultation started (within this many seconds; the page's request waits 5).
CONSULT_START = 3.0
CONSULT_TARGET = "__SB_CONSULT_TARGET"
COMPLETE_CODE = "*2"
CANCEL_CODE = "*1"
# Where a transferred party goes: the agents' own context (a colleague's SIP user name, a queue number,
# an external number), exactly as a transfer the web phone or a desk phone asks for with REFER.
TRANSFER_CONTEXT = "from-agents"
# What the dialplan of from-agents accepts: digits with + * #, or an agent name (letters first).
_TARGET = re.compile(r"^(\+?[0-9*#]{1,32}|[A-Za-z][A-Za-z0-9._-]{0,79})$")
NORMAL_CLEARING = "16"
CALL_REJECTED = "21"


def error(code: str, message: str) -> dict[str, Any]:
    """A command's error answer."""
    return {"error": code, "message": message}


def refusal(response: Any) -> str | None:
    """Asterisk's message when an AMI response is an error, else None."""
    first = response[0] if isinstance(response, list) and response else response
    if hasattr(first, "get") and str(first.get("Response", "")).lower() == "error":
        return str(first.get("Message") or "refused")
    return None


@dataclass
class Consultation:
    """A consult transfer started from the page: who, from which bridge (the one with the other party)."""

    agent: str
    bridge: str


class CallControl:
    """Carries out the page's call actions on the agent's own channel."""

    def __init__(self, model: Model, ami: AmiAction, clock: Callable[[], float] = time.monotonic) -> None:
        self.model = model
        self.ami = ami
        self.clock = clock
        self.consultations: dict[str, Consultation] = {}  # call id ->

    def _leg(self, command: dict[str, Any]) -> tuple[str, str, AgentLeg | None]:
        agent, call_id = command.get("agent"), command.get("call_id")
        if not isinstance(agent, str) or not isinstance(call_id, str):
            return "", "", None
        return agent, call_id, self.model.agent_leg(agent, call_id)

    async def hangup(self, command: dict[str, Any]) -> dict[str, Any]:
        """``call_hangup`` {agent, call_id}: end the agent's leg (a ringing one: declined; during a consultation the
        transfer completes, as when a phone hangs up then)."""
        agent, call_id, leg = self._leg(command)
        if leg is None:
            return error("not_on_call", "You are not on this call.")
        if leg.peer and not self._consultation(call_id):
            # (During a consultation the peer is the consulted party, and the hang-up completes the transfer.)
            # A leg that ends without the phone's BYE looks lost to the dialplan, which would take the call
            # back and ring the agent again (sb-leg-lost): tell the other side it is a real hang-up.
            await self.ami({"Action": "Setvar", "Channel": leg.peer, "Variable": "SHARED(SB_HUNGUP)", "Value": "1"})
        cause = NORMAL_CLEARING if leg.bridged else CALL_REJECTED
        refused = refusal(await self.ami({"Action": "Hangup", "Channel": leg.channel, "Cause": cause}))
        if refused:
            return error("asterisk_refused", f"The call could not be hung up: {refused}.")
        logger.info("%s hung up %s from the page (%s)", agent, call_id, leg.channel)
        return {"ok": True, "call_id": call_id, "declined": not leg.bridged}

    def _transferable(self, command: dict[str, Any]) -> tuple[str, str, str, AgentLeg] | dict[str, Any]:
        """(agent, call id, target, leg) of a transfer the agent may make, or the error answer."""
        target = command.get("target")
        if not isinstance(target, str) or not _TARGET.match(target):
            return error("bad_target", "Transfer to a queue, an agent or a number.")
        agent, call_id, leg = self._leg(command)
        if leg is None:
            return error("not_on_call", "You are not on this call.")
        if target[0].isalpha() and not self.model.is_agent(target):
            return error("unknown_target", f"There is no agent {target!r}.")
        if target == agent:
            return error("bad_target", "You cannot transfer a call to yourself.")
        if not leg.bridged:
            return error("not_answered", "Answer the call before you transfer it.")
        if self._consultation(call_id):
            return error("consulting", "Complete or cancel the consultation first.")
        return agent, call_id, target, leg

    async def transfer(self, command: dict[str, Any]) -> dict[str, Any]:
        """``call_transfer`` {agent, call_id, target}: blind transfer of the other party to ``target``."""
        checked = self._transferable(command)
        if isinstance(checked, dict):
            return checked
        agent, call_id, target, leg = checked
        refused = refusal(await self.ami({"Action": "BlindTransfer", "Channel": leg.channel,
                                          "Context": TRANSFER_CONTEXT, "Exten": target}))
        if refused:
            return error("asterisk_refused", f"The transfer failed: {refused}.")
        logger.info("%s transferred %s to %s from the page (%s)", agent, call_id, target, leg.channel)
        return {"ok": True, "call_id": call_id, "target": target}

    def _consultation(self, call_id: str) -> str:
        """The state of the call's consultation: 'in_call' (answered), 'dialing' or '' (none, or over).

        While it lasts, Asterisk keeps the agent's channel in a bridge of its own with the consulted
        party: first the consultation's Local channel (whose other half rings the target), and once the
        target answered, the target's own channel (the Local pair optimises itself away)."""
        consultation = self.consultations.get(call_id)
        if consultation is None:
            return ""
        leg = self.model.agent_leg(consultation.agent, call_id)
        bridge = self.model.bridges.bridge_of(leg.uniqueid) if leg is not None else ""
        if leg is None or not bridge or bridge == consultation.bridge:
            del self.consultations[call_id]
            return ""
        if not leg.peer:
            return "dialing"
        if leg.peer.startswith(CONSULT_CHANNEL):
            dialing = leg.peer[:-1] + "2"
            return "in_call" if any(bridged for _, bridged in self.model.legs_named(call_id, dialing)) else "dialing"
        return "in_call"

    async def consult(self, command: dict[str, Any]) -> dict[str, Any]:
        """``call_consult`` {agent, call_id, target}: the other party on hold, the agent's phone talks to
        ``target`` (step 1 of a consult transfer)."""
        checked = self._transferable(command)
        if isinstance(checked, dict):
            return checked
        agent, call_id, target, leg = checked
        if target in self.model.queue_numbers.values():
            # the consultation would join the queue as this very call (it carries the call's id)
            return error("bad_target", "Consult a colleague or a number; transfer to a queue directly.")
        bridge = self.model.bridges.bridge_of(leg.uniqueid)  # before Asterisk's answer: its events may come first
        refused = refusal(await self.ami({"Action": "Setvar", "Channel": leg.channel, "Variable": CONSULT_TARGET,
                                          "Value": target}))
        refused = refused or refusal(await self.ami({"Action": "Atxfer", "Channel": leg.channel,
                                                     "Context": CONSULT_CONTEXT, "Exten": CONSULT_EXTEN}))
        if refused:
            return error("asterisk_refused", f"The consultation could not start: {refused}.")
        if not await self._left(leg.uniqueid, bridge):
            return error("asterisk_refused", "The phone did not start the consultation; try again.")
        self.consultations[call_id] = Consultation(agent, bridge)
        logger.info("%s consults %s about %s from the page (%s)", agent, target, call_id, leg.channel)
        return {"ok": True, "call_id": call_id, "target": target, "state": "dialing"}

    async def _left(self, uniqueid: str, bridge: str) -> bool:
        """Whether the channel ``uniqueid`` leaves ``bridge`` (for the consultation's) within CONSULT_START."""
        deadline = self.clock() + CONSULT_START
        while self.model.bridges.bridge_of(uniqueid) == bridge:
            if self.clock() > deadline or uniqueid not in self.model.channels:
                return False
            await asyncio.sleep(0.05)
        return True

    async def consult_state(self, command: dict[str, Any]) -> dict[str, Any]:
        """``call_consult_state`` {agent, call_id}: 'dialing', 'in_call' or '' (no consultation)."""
        _, call_id, leg = self._leg(command)
        if leg is None:
            return error("not_on_call", "You are not on this call.")
        return {"ok": True, "call_id": call_id, "state": self._consultation(call_id)}

    async def _consult_key(self, command: dict[str, Any], code: str, done: str) -> dict[str, Any]:
        agent, call_id, leg = self._leg(command)
        if leg is None:
            return error("not_on_call", "You are not on this call.")
        if not self._consultation(call_id):  # the code would start a new transfer
            return error("not_consulting", "There is no consultation to end.")
        for digit in code:
            refused = refusal(await self.ami({"Action": "PlayDTMF", "Channel": leg.channel, "Digit": digit,
                                              "Receive": "yes"}))
            if refused:
                return error("asterisk_refused", f"The consultation could not be {done}: {refused}.")
        self.consultations.pop(call_id, None)
        logger.info("%s %s the consultation about %s from the page (%s)", agent, done, call_id, leg.channel)
        return {"ok": True, "call_id": call_id}

    async def consult_complete(self, command: dict[str, Any]) -> dict[str, Any]:
        """``call_consult_complete`` {agent, call_id}: join the other party and the consulted one; the agent
        leaves the call."""
        return await self._consult_key(command, COMPLETE_CODE, "completed")

    async def consult_cancel(self, command: dict[str, Any]) -> dict[str, Any]:
        """``call_consult_cancel`` {agent, call_id}: end the consultation, back to the other party."""
        return await self._consult_key(command, CANCEL_CODE, "cancelled")

    async def device_state(self, command: dict[str, Any]) -> dict[str, Any]:
        """``agent_device_state`` {agent}: what Asterisk says of the agent's phone (the ``agent_state`` view)."""
        agent = command.get("agent")
        if not isinstance(agent, str) or not self.model.is_agent(agent):
            return error("unknown_agent", "Unknown agent.")
        presence = self.model.agents.get(agent)
        return presence.view() if presence is not None else {
            "agent": agent, "device_state": "unknown", "registered": None, "paused": False, "queues": [],
            "paused_queues": []}

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]:
        """The command handlers this service adds to the orchestrator's command channel."""
        # The command names web/call_control.py sends with commands.request.
        return {c.CALL_HANGUP: self.hangup, c.CALL_TRANSFER: self.transfer, c.AGENT_DEVICE_STATE: self.device_state,
                c.CALL_CONSULT: self.consult, c.CALL_CONSULT_STATE: self.consult_state,
                c.CALL_CONSULT_COMPLETE: self.consult_complete, c.CALL_CONSULT_CANCEL: self.consult_cancel}
