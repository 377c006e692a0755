"""Which channel takes an agent's call back when the agent's browser leg dies (page reload, lost network).

Pure bookkeeping, no I/O. The orchestrator marks that channel (``SB_RECONNECT=<agent>``) and hangs the
dead browser leg up; the dialplan then runs ``[sb-reconnect]`` on it: the other party hears music on
hold while the agent's next registration is rung, and the call goes on.

- A queue call: the customer's own channel, the one that waits in the queue (``Queue(…,c)`` continues
  in the dialplan when the agent's side hangs up), however many server legs and blind transfers lie
  between it and the agent. So the customer's channel itself plays the music.
- Any other call (an outbound call, a direct or colleague's call, a consultation): the channel bridged
  with the agent's browser. It either dialled the browser (``Dial(…,g)`` continues) or was dialled by
  it (``Dial(…,F(sb-reconnect^s^1))`` sends the called party there when the browser's leg ends).
"""

from __future__ import annotations

from collections.abc import Container


class Bridges:
    """Which bridge each channel is in (AMI BridgeEnter/BridgeLeave; CoreShowChannel's BridgeId on a resync)."""

    def __init__(self) -> None:
        self._bridge_of: dict[str, str] = {}  # uniqueid -> bridge id

    def enter(self, uniqueid: str, bridge: str) -> None:
        """A channel entered a bridge."""
        if bridge:
            self._bridge_of[uniqueid] = bridge

    def leave(self, uniqueid: str, bridge: str) -> None:
        """A channel left a bridge (a late BridgeLeave of an earlier bridge changes nothing)."""
        if self._bridge_of.get(uniqueid) == bridge:
            del self._bridge_of[uniqueid]

    def forget(self, uniqueid: str) -> None:
        """A channel is gone."""
        self._bridge_of.pop(uniqueid, None)

    def bridge_of(self, uniqueid: str) -> str:
        """The bridge ``uniqueid`` is in, or ''."""
        return self._bridge_of.get(uniqueid, "")

    def members(self, bridge: str) -> list[str]:
        """The channels in ``bridge``."""
        return sorted(u for u, b in self._bridge_of.items() if b == bridge)

    def peer(self, uniqueid: str) -> str:
        """The one other channel in ``uniqueid``'s bridge, or '' (not bridged, or a conference)."""
        bridge = self._bridge_of.get(uniqueid)
        if not bridge:
            return ""
        others = [u for u, b in self._bridge_of.items() if b == bridge and u != uniqueid]
        return others[0] if len(others) == 1 else ""


def keeper(browser: str, queue_caller: str, alive: Container[str], bridges: Bridges) -> str:
    """The channel that takes back the call of the dead ``browser`` leg, or '' when it is in no call.

    ``queue_caller`` is the call's customer channel in a queue ('' for calls that never queued).
    """
    peer = bridges.peer(browser)
    if not peer:
        return ""  # ringing, or not a two-party call: nothing to take back
    if queue_caller and queue_caller != browser and queue_caller in alive:
        return queue_caller
    return peer
