"""A demo customer: an AMI Originate of a Local channel into the inbound dialplan."""

from __future__ import annotations

import asyncio
import re

from panoramisk import Manager

from switchboard.config import Settings

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
RINGING_AFTER = 3.0  # seconds without an answer to the Originate: the call is ringing, placed


def caller_id(number: str, name: str = "") -> str:
    """An AMI CallerID value; control characters (header injection) are removed, quotes escaped."""
    number = _CONTROL.sub("", number)
    name = _CONTROL.sub("", name).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{name}" <{number}>' if name else f"<{number}>"


async def place_call(settings: Settings, number: str, name: str, dialed: str, hangup_after: float = 0) -> str:
    """Originate a customer call from ``number`` to the inbound number ``dialed``; returns the channel."""
    manager = Manager(host=settings.ami_host, port=settings.ami_port, username=settings.ami_username,
                      secret=settings.ami_secret, ping_delay=0)
    await manager.connect()
    try:
        dialed = _CONTROL.sub("", dialed)
        pending = manager.send_action({
            "Action": "Originate", "Channel": f"Local/{dialed}@from-trunk", "Context": "sb-demo-caller",
            "Exten": "s", "Priority": "1", "CallerID": caller_id(number, name), "Async": "true", "Timeout": "60000",
        })
        try:
            # The OriginateResponse comes when the inbound side answers: at once for a queue, only when the
            # agent answers for a direct call (an agent's work number). A failure comes at once.
            response = await asyncio.wait_for(pending, RINGING_AFTER)
        except TimeoutError:
            response = None  # ringing
        messages = response if isinstance(response, list) else [response] if response is not None else []
        if response is not None and not any(m.get("Response") == "Success" for m in messages):
            raise RuntimeError(f"Originate failed: {messages[0].get('Message') if messages else response}")
        channel = f"Local/{dialed}@from-trunk"
        if hangup_after:
            await asyncio.sleep(hangup_after)
            pattern = "/^" + re.escape(channel).replace("/", "\\/") + "-.*;1$/"
            await manager.send_action({"Action": "Hangup", "Channel": pattern})
        return channel
    finally:
        manager.close()
