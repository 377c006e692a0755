"""Pick mode in the database (blocking calls): which agents work under a profile in pick mode, and the queues
they pick from (the profile's queues). docs/routing.md, "Pick mode"."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from switchboard.store import Store
from switchboard.store.models import Agent, Profile, ProfileSkill, ServiceQueue, User

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Picker:
    """An agent whose profile is in pick mode: their SIP user name, the name colleagues see, the queues they
    pick from."""

    agent: str
    name: str
    queues: frozenset[str]


def pickers(store: Store) -> dict[str, Picker]:
    """Every agent under a pick-mode profile, by SIP user name (a profile without queues gives none)."""
    query = (select(Agent.sip_username, User.display_name, ServiceQueue.name)
             .join(User, User.id == Agent.user_id)
             .join(Profile, Profile.id == Agent.profile_id)
             .outerjoin(ProfileSkill, ProfileSkill.profile_id == Profile.id)
             .outerjoin(ServiceQueue, ServiceQueue.id == ProfileSkill.queue_id)
             .where(Profile.pick_mode.is_(True)))
    queues: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    with store.session() as s:
        for agent, name, queue in s.execute(query):
            names[agent] = name or agent
            queues.setdefault(agent, set())
            if queue:
                queues[agent].add(queue)
    return {a: Picker(a, names[a], frozenset(q)) for a, q in queues.items()}


def pick_mode_agents(store: Store) -> frozenset[str]:
    """The agents under a pick-mode profile (their memberships are paused: they pick, nothing is offered)."""
    with store.session() as s:
        return frozenset(s.scalars(select(Agent.sip_username).join(Profile, Profile.id == Agent.profile_id)
                                   .where(Profile.pick_mode.is_(True))))
