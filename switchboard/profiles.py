"""Agent profiles (Puzzel's user profiles): the queues an agent works under a profile and a skill level in
each, turned into Asterisk queue memberships.

Asterisk offers a queue call to the members with the lowest penalty first (docs/routing.md), so a skill
level becomes a penalty: skill 10 (the best) is penalty 0, skill 1 is penalty 9.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SKILL_MIN, SKILL_MAX = 1, 10


def check_skill(skill: int) -> int:
    """``skill`` when it is a skill level (1..10); raises ValueError otherwise."""
    if isinstance(skill, bool) or not isinstance(skill, int) or not SKILL_MIN <= skill <= SKILL_MAX:
        raise ValueError(f"a skill level is a whole number from {SKILL_MIN} to {SKILL_MAX}, not {skill!r}")
    return skill


def penalty_for(skill: int) -> int:
    """The queue member penalty of a skill level: 10 - skill (skill 10 is offered calls first)."""
    return SKILL_MAX - check_skill(skill)


@dataclass(frozen=True)
class Membership:
    """One queue membership an agent is to hold: the queue, its penalty and the agent's own on/off switch."""

    queue: str
    penalty: int
    active: bool = True


def memberships_for(skills: Mapping[str, int], current: Mapping[str, bool]) -> list[Membership]:
    """The memberships under a profile with ``skills`` (queue -> level), given the agent's ``current`` ones
    (queue -> active): exactly the profile's queues, each switch kept where the queue stays, new ones on."""
    return [Membership(queue, penalty_for(skill), current.get(queue, True)) for queue, skill in sorted(skills.items())]
