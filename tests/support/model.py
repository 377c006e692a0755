"""Models in a known state for the orchestrator's unit tests."""

from __future__ import annotations

from orchestrator import events as ev
from orchestrator.model import Model


def waiting_caller(model: Model, member: str = "agent1") -> Model:
    """A caller l1 (channel u1) waiting in cs-en, and ``member`` a member of cs-en."""
    model.apply(ev.ChannelCreated(1, "u1", "l1", "PJSIP/trunk-1", "+3584000", ""))
    model.apply(ev.CallerJoinedQueue(1, "cs-en", "u1", "l1", "+3584000", "", 1))
    model.apply(ev.QueueMemberUpdated(1, "cs-en", member, False, "", False, 0))
    return model
