"""The demo customer of ``switchboard call``: it comes over the trunk, as a carrier's call does.

An AMI Originate of ``PJSIP/<dialled number>@sb-loopback``: that endpoint's contact is the instance's own
SIP port (asterisk-conf/pjsip.conf, generated/pjsip_loopback_contact.conf), so Asterisk sends itself a
real INVITE, with the caller's name and number in its From header, which arrives on the trunk endpoint
(identified by IP) and runs the inbound dialplan like any carrier's call. Once the inbound side answers,
the originating leg plays the demo customer (``sb-demo-caller``: talks with a prompt until hung up).
"""

from __future__ import annotations

import asyncio
import re
import secrets

from panoramisk import Manager

from switchboard.config import Settings

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DIALLABLE = re.compile(r"^[+0-9A-Za-z*#._-]+$")  # a request URI's user: no '@', '/', ';' or spaces
LOOPBACK = "sb-loopback"
RINGING_AFTER = 3.0  # seconds without an answer to the Originate: the call is ringing, placed
# OriginateResponse reasons (Asterisk's AST_CONTROL_* of the outgoing leg), when its Hangup says nothing
REASONS = {"0": "failed", "1": "hung up", "3": "no answer", "5": "busy", "8": "congestion"}


class CallRefused(RuntimeError):
    """The call could not be placed (a bad number, or Asterisk refused or failed it)."""


def caller_id(number: str, name: str = "") -> str:
    """An AMI CallerID value; control characters (header injection) are removed, quotes escaped."""
    number = _CONTROL.sub("", number)
    name = _CONTROL.sub("", name).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{name}" <{number}>' if name else f"<{number}>"


async def _channel_name(manager: Manager, channel_id: str) -> str:
    """The name (PJSIP/sb-loopback-…) of the channel originated with ``channel_id``, once it exists."""
    for _ in range(20):
        reply = await manager.send_action({"Action": "Getvar", "Channel": channel_id, "Variable": "CHANNEL(name)"})
        value = reply.get("Value") if hasattr(reply, "get") else None
        if value:
            return str(value)
        await asyncio.sleep(0.05)
    return channel_id


async def place_call(settings: Settings, number: str, name: str, dialed: str, hangup_after: float = 0) -> str:
    """A customer from ``number`` named ``name`` calls the inbound number ``dialed`` over the trunk (a SIP
    INVITE Asterisk sends itself); hung up after ``hangup_after`` seconds when given. Returns the customer's
    channel (the originating side)."""
    dialed = _CONTROL.sub("", dialed)
    if not _DIALLABLE.match(dialed):
        raise CallRefused(f"not a number to dial: {dialed!r}")
    manager = Manager(host=settings.ami_host, port=settings.ami_port, username=settings.ami_username,
                      secret=settings.ami_secret, ping_delay=0)
    await manager.connect()
    try:
        channel_id = f"sb-demo-{secrets.token_hex(6)}"  # the customer's channel, by id, before it has a name
        ended: dict[str, str] = {}  # its Hangup event: why a refused call ended ("User busy")
        manager.register_event("Hangup", lambda _m, msg: msg.get("Uniqueid") == channel_id
                               and ended.update(cause=str(msg.get("Cause-txt") or "")))
        pending = manager.send_action({
            "Action": "Originate", "Channel": f"PJSIP/{dialed}@{LOOPBACK}", "ChannelId": channel_id,
            "Context": "sb-demo-caller", "Exten": "s", "Priority": "1", "CallerID": caller_id(number, name),
            "Async": "true", "Timeout": "60000",
        })
        try:
            # The OriginateResponse comes when the inbound side answers: at once for a queue, only when the
            # agent answers for a direct call (an agent's work number). A refusal (busy) comes at once.
            response = await asyncio.wait_for(pending, RINGING_AFTER)
        except TimeoutError:
            response = None  # ringing
        messages = response if isinstance(response, list) else [response] if response is not None else []
        for m in messages:
            if m.get("Response") == "Error" or (m.get("Event") == "OriginateResponse"
                                                and m.get("Response") != "Success"):
                await asyncio.sleep(0.2)  # the leg's Hangup event says why
                reason = ended.get("cause") or REASONS.get(str(m.get("Reason")), m.get("Message") or "failed")
                raise CallRefused(f"the call to {dialed} was not answered: {reason}")
        channel = await _channel_name(manager, channel_id)
        if hangup_after:
            await asyncio.sleep(hangup_after)
            await manager.send_action({"Action": "Hangup", "Channel": channel_id})
        return channel
    finally:
        manager.close()
