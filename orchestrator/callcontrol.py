"""Call control from the agent's page, server-side through AMI: hang up or blind-transfer the agent's own
leg of a call. This is how an agent on a SIP phone (whose page holds no SIP session) hangs up and
transfers from the page; the web phone may use it as well.

Every command names the agent (the web takes it from the login session) and the call id; the agent must
have a channel of their own in that call (``Model.agent_leg``), else the answer is ``not_on_call``.
Answers are JSON objects: ``{"ok": true, ...}`` or ``{"error": code, "message": text}``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from orchestrator.model import AgentLeg, Model

logger = logging.getLogger(__name__)

AmiAction = Callable[[dict[str, Any]], Awaitable[Any]]
# Command names (web/call_control.py sends them with commands.request).
HANGUP = "call_hangup"
TRANSFER = "call_transfer"
DEVICE_STATE = "agent_device_state"
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


class CallControl:
    """Carries out the page's call actions on the agent's own channel."""

    def __init__(self, model: Model, ami: AmiAction) -> None:
        self.model = model
        self.ami = ami

    def _leg(self, command: dict[str, Any]) -> tuple[str, str, AgentLeg | None]:
        agent, call_id = command.get("agent"), command.get("call_id")
        if not isinstance(agent, str) or not isinstance(call_id, str):
            return "", "", None
        return agent, call_id, self.model.agent_leg(agent, call_id)

    async def hangup(self, command: dict[str, Any]) -> dict[str, Any]:
        """``call_hangup`` {agent, call_id}: end the agent's leg (a ringing one: declined)."""
        agent, call_id, leg = self._leg(command)
        if leg is None:
            return error("not_on_call", "You are not on this call.")
        if leg.peer:
            # A leg that ends without the phone's BYE looks lost to the dialplan, which would take the call
            # back and ring the agent again (sb-leg-lost): tell the other side it is a real hang-up.
            await self.ami({"Action": "Setvar", "Channel": leg.peer, "Variable": "SHARED(SB_HUNGUP)", "Value": "1"})
        cause = NORMAL_CLEARING if leg.bridged else CALL_REJECTED
        refused = refusal(await self.ami({"Action": "Hangup", "Channel": leg.channel, "Cause": cause}))
        if refused:
            return error("asterisk_refused", f"The call could not be hung up: {refused}.")
        logger.info("%s hung up %s from the page (%s)", agent, call_id, leg.channel)
        return {"ok": True, "call_id": call_id, "declined": not leg.bridged}

    async def transfer(self, command: dict[str, Any]) -> dict[str, Any]:
        """``call_transfer`` {agent, call_id, target}: blind transfer of the other party to ``target``."""
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
        refused = refusal(await self.ami({"Action": "BlindTransfer", "Channel": leg.channel,
                                          "Context": TRANSFER_CONTEXT, "Exten": target}))
        if refused:
            return error("asterisk_refused", f"The transfer failed: {refused}.")
        logger.info("%s transferred %s to %s from the page (%s)", agent, call_id, target, leg.channel)
        return {"ok": True, "call_id": call_id, "target": target}

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
        return {HANGUP: self.hangup, TRANSFER: self.transfer, DEVICE_STATE: self.device_state}
