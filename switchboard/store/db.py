"""The Store: one object wrapping the engine and the queries every process needs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, delete, event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from switchboard.profiles import check_skill, memberships_for
from switchboard.sip import DEVICES, derive_sip_password, sip_md5_cred
from switchboard.store.models import (
    AdminSetting,
    Agent,
    AgentPresenceState,
    CallRecord,
    OmniStatusMapping,
    PresenceStatus,
    Profile,
    ProfileSkill,
    QueueMembership,
    RoutingTrace,
    ScheduledPresence,
    ServiceQueue,
    User,
)

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


class UnknownAgentError(LookupError):
    """Raised when an agent name is not in the store."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown agent {name!r}")
        self.name = name


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on and a busy timeout."""
    if url.startswith("sqlite"):
        # Several processes write (worker jobs, the flusher, the web app): WAL, a busy timeout, and
        # BEGIN IMMEDIATE so a transaction that reads then writes waits for the lock instead of failing.
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False,
                                                  "isolation_level": None})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` with Alembic."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, revision)


def fit_columns(table: type, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with strings cut to their ``String(n)`` columns' lengths."""
    out = dict(fields)
    for column in table.__table__.columns:  # type: ignore[attr-defined]
        length = getattr(column.type, "length", None)
        if length and isinstance(out.get(column.name), str):
            out[column.name] = out[column.name][:length]
    return out


class Store:
    """Queries over the Switchboard database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        """A new ORM session."""
        return self.sessions()

    # users and agents -------------------------------------------------------------------------
    def create_user(
        self, username: str, password: str, display_name: str, *, role: str = "agent",
        sip_username: str | None = None, sip_password: str | None = None, sip_realm: str = "switchboard",
    ) -> User:
        """Create a user, and an agent endpoint when ``sip_username`` is given."""
        with self.session() as s, s.begin():
            user = User(username=username, display_name=display_name,
                        password_hash=generate_password_hash(password), role=role)
            s.add(user)
            if sip_username:
                if not sip_password:
                    raise ValueError("an agent needs a SIP password")
                user.agent = Agent(sip_username=sip_username,
                                   sip_md5_cred=sip_md5_cred(sip_username, sip_realm, sip_password))
        return user

    def authenticate(self, username: str, password: str) -> User | None:
        """The user whose password matches, else None."""
        with self.session() as s:
            user = s.scalar(select(User).where(User.username == username).options(selectinload(User.agent)))
            if user and check_password_hash(user.password_hash, password):
                return user
        return None

    def find_user(self, username: str) -> User | None:
        """The user called ``username``, or None."""
        with self.session() as s:
            return s.scalar(select(User).where(User.username == username))

    def get_user(self, user_id: int) -> User | None:
        """The user with this id, agent loaded."""
        with self.session() as s:
            return s.scalar(select(User).where(User.id == user_id).options(selectinload(User.agent)))

    def get_agent(self, sip_username: str) -> Agent:
        """The agent with this SIP user name; raises UnknownAgentError."""
        with self.session() as s:
            agent = s.scalar(select(Agent).where(Agent.sip_username == sip_username)
                             .options(selectinload(Agent.user)))
        if agent is None:
            raise UnknownAgentError(sip_username)
        return agent

    def list_agents(self) -> list[Agent]:
        """Every agent with user and queue memberships loaded."""
        with self.session() as s:
            return list(s.scalars(select(Agent).order_by(Agent.sip_username).options(
                selectinload(Agent.user), selectinload(Agent.memberships).selectinload(QueueMembership.queue))))

    def update_user(self, username: str, **fields: Any) -> User:
        """Change fields of a user (phone_workflow, work_number, ...); raises LookupError for an unknown user."""
        with self.session() as s, s.begin():
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise LookupError(f"unknown user {username!r}")
            for key, value in fields.items():
                setattr(user, key, value)
        return user

    def user_with_work_number(self, number: str) -> User | None:
        """The user whose work number is ``number``, if any."""
        with self.session() as s:
            return s.scalar(select(User).where(User.work_number == number))

    def set_device(self, sip_username: str, device: str) -> None:
        """Choose an agent's device (switchboard.sip.DEVICES); raises UnknownAgentError or ValueError."""
        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}; use one of {', '.join(DEVICES)}")
        with self.session() as s, s.begin():
            agent = s.scalar(select(Agent).where(Agent.sip_username == sip_username))
            if agent is None:
                raise UnknownAgentError(sip_username)
            agent.device = device

    def set_sf_user(self, sip_username: str, sf_user_id: str) -> None:
        """Link an agent to their Salesforce user (an 18- or 15-character id, or '' to unlink)."""
        with self.session() as s, s.begin():
            agent = s.scalar(select(Agent).where(Agent.sip_username == sip_username))
            if agent is None:
                raise UnknownAgentError(sip_username)
            agent.sf_user_id = sf_user_id

    def linked_agents(self) -> dict[str, str]:
        """Agent (SIP user name) -> Salesforce user id, for every agent linked to one."""
        with self.session() as s:
            return dict(s.execute(select(Agent.sip_username, Agent.sf_user_id).where(Agent.sf_user_id != "")).all())

    def list_omni_mappings(self) -> list[OmniStatusMapping]:
        """The admin's Omni-Channel status mapping table, in the order the rows were made."""
        with self.session() as s:
            return list(s.scalars(select(OmniStatusMapping).order_by(OmniStatusMapping.id)))

    def upsert_omni_mapping(self, omni_developer_name: str, **values: Any) -> OmniStatusMapping:
        """Create or update the mapping row of one Omni status (by its DeveloperName)."""
        return self._upsert(OmniStatusMapping, {"omni_developer_name": omni_developer_name}, values)

    def delete_omni_mapping(self, omni_developer_name: str) -> bool:
        """Remove the mapping row of one Omni status; False when there was none."""
        with self.session() as s, s.begin():
            row = s.scalar(select(OmniStatusMapping).where(
                OmniStatusMapping.omni_developer_name == omni_developer_name))
            if row is None:
                return False
            s.delete(row)
        return True

    def rotate_sip_password(self, sip_username: str, secret_key: str, realm: str = "switchboard") -> int:
        """Give an agent a new SIP password (the next key generation, its digest stored); returns the generation."""
        with self.session() as s, s.begin():
            agent = s.scalar(select(Agent).where(Agent.sip_username == sip_username))
            if agent is None:
                raise UnknownAgentError(sip_username)
            agent.sip_generation += 1
            password = derive_sip_password(secret_key, sip_username, agent.sip_generation)
            agent.sip_md5_cred = sip_md5_cred(sip_username, realm, password)
            return agent.sip_generation

    def set_sip_password(self, sip_username: str, password: str, realm: str = "switchboard") -> None:
        """Store the digest of an agent's new SIP password."""
        with self.session() as s, s.begin():
            agent = s.scalar(select(Agent).where(Agent.sip_username == sip_username))
            if agent is None:
                raise UnknownAgentError(sip_username)
            agent.sip_md5_cred = sip_md5_cred(sip_username, realm, password)

    # queues -------------------------------------------------------------------------------------
    def _upsert(self, model: type[Any], key: dict[str, Any], values: dict[str, Any]) -> Any:
        """Create the row with ``key`` or update its ``values``; returns the row."""
        with self.session() as s, s.begin():
            row = s.scalar(select(model).filter_by(**key))
            if row is None:
                row = model(**key, **values)
                s.add(row)
            else:
                for field, value in values.items():
                    setattr(row, field, value)
        return row

    def upsert_queue(self, name: str, label: str, number: str) -> ServiceQueue:
        """Create or update a service pool queue."""
        return self._upsert(ServiceQueue, {"name": name}, {"label": label, "number": number})

    def list_queues(self) -> list[ServiceQueue]:
        """Every service pool queue."""
        with self.session() as s:
            return list(s.scalars(select(ServiceQueue).order_by(ServiceQueue.name)))

    def find_queue(self, key: str) -> ServiceQueue | None:
        """A queue by its Asterisk name, label (case-insensitive) or number."""
        for q in self.list_queues():
            if key in (q.name, q.number) or key.casefold() == q.label.casefold():
                return q
        return None

    def add_member(self, sip_username: str, queue_names: Iterable[str], penalty: int = 0) -> None:
        """Make an agent a member of queues (idempotent)."""
        with self.session() as s, s.begin():
            agent = s.scalar(select(Agent).where(Agent.sip_username == sip_username))
            if agent is None:
                raise UnknownAgentError(sip_username)
            for name in queue_names:
                q = s.scalar(select(ServiceQueue).where(ServiceQueue.name == name))
                if q is None:
                    raise LookupError(f"unknown queue {name!r}")
                exists = s.scalar(select(QueueMembership).where(
                    QueueMembership.agent_id == agent.id, QueueMembership.queue_id == q.id))
                if exists is None:
                    s.add(QueueMembership(agent_id=agent.id, queue_id=q.id, penalty=penalty))

    # profiles: skill levels per queue (switchboard.profiles) --------------------------------------------
    def list_profiles(self) -> list[Profile]:
        """Every profile with its skills (and their queues), by name."""
        with self.session() as s:
            return list(s.scalars(select(Profile).order_by(Profile.name).options(
                selectinload(Profile.skills).selectinload(ProfileSkill.queue))))

    def profile_of(self, sip_username: str) -> Profile | None:
        """The profile the agent works under now (skills loaded), or None; raises UnknownAgentError."""
        agent = self.get_agent(sip_username)
        if agent.profile_id is None:
            return None
        with self.session() as s:
            return s.scalar(select(Profile).where(Profile.id == agent.profile_id).options(
                selectinload(Profile.skills).selectinload(ProfileSkill.queue)))

    def save_profile(self, name: str, *, pick_mode: bool | None = None) -> Profile:
        """Create the profile ``name`` or change its pick mode (None: leave it; a new profile has it off)."""
        return self._upsert(Profile, {"name": name}, {} if pick_mode is None else {"pick_mode": pick_mode})

    def delete_profile(self, name: str) -> list[str]:
        """Delete a profile; the agents under it keep the memberships they have, without a profile. Returns
        those agents; raises LookupError when there is no such profile."""
        with self.session() as s, s.begin():
            profile = self._profile_named(s, name)
            agents = list(s.scalars(select(Agent.sip_username).where(Agent.profile_id == profile.id)
                                    .order_by(Agent.sip_username)))
            s.execute(update(Agent).where(Agent.profile_id == profile.id).values(profile_id=None))
            s.delete(profile)
            return agents

    def set_profile_skill(self, name: str, queue: str, skill: int | None) -> list[str]:
        """Set the profile's skill level (1..10) in ``queue`` (None: take the queue out of the profile); the
        agents under it get their memberships made again, in the same transaction. Returns those agents."""
        if skill is not None:
            check_skill(skill)
        with self.session() as s, s.begin():
            profile = self._profile_named(s, name)
            q = s.scalar(select(ServiceQueue).where(ServiceQueue.name == queue))
            if q is None:
                raise LookupError(f"unknown queue {queue!r}")
            row = next((k for k in profile.skills if k.queue_id == q.id), None)
            if skill is None:
                if row is not None:
                    profile.skills.remove(row)
            elif row is None:
                profile.skills.append(ProfileSkill(queue_id=q.id, skill=skill))
            else:
                row.skill = skill
            s.flush()
            s.expire(profile, ["skills"])
            agents = list(s.scalars(select(Agent).where(Agent.profile_id == profile.id).order_by(Agent.sip_username)))
            for agent in agents:
                self._follow_profile(s, agent, profile)
            return [a.sip_username for a in agents]

    def use_profile(self, sip_username: str, profile: str | None) -> None:
        """Make ``profile`` the agent's, in one transaction: their memberships become exactly its queues, each
        with penalty 10 - skill, keeping the agent's own on/off switch of a queue that stays. None: no
        profile, memberships as they are. Raises UnknownAgentError, or LookupError for an unknown profile."""
        with self.session() as s, s.begin():
            agent = s.scalar(select(Agent).where(Agent.sip_username == sip_username))
            if agent is None:
                raise UnknownAgentError(sip_username)
            if profile is None:
                agent.profile_id = None
                return
            self._follow_profile(s, agent, self._profile_named(s, profile))

    @staticmethod
    def _profile_named(s: Session, name: str) -> Profile:
        """The profile called ``name`` (skills loaded); LookupError when there is none."""
        row = s.scalar(select(Profile).where(Profile.name == name).options(selectinload(Profile.skills)))
        if row is None:
            raise LookupError(f"unknown profile {name!r}")
        return row

    @staticmethod
    def _follow_profile(s: Session, agent: Agent, profile: Profile) -> None:
        """Inside a transaction: the agent works under ``profile``, their memberships made to match it."""
        current = {m.queue.name: m for m in s.scalars(select(QueueMembership).where(
            QueueMembership.agent_id == agent.id).options(selectinload(QueueMembership.queue)))}
        names = dict(s.execute(select(ServiceQueue.id, ServiceQueue.name).where(
            ServiceQueue.id.in_([k.queue_id for k in profile.skills]))).all())
        wanted = memberships_for({names[k.queue_id]: k.skill for k in profile.skills},
                                 {name: m.active for name, m in current.items()})
        keep = {m.queue for m in wanted}
        for name, row in current.items():
            if name not in keep:
                s.delete(row)
        ids = {name: queue_id for queue_id, name in names.items()}
        for m in wanted:
            row = current.get(m.queue)
            if row is None:
                s.add(QueueMembership(agent_id=agent.id, queue_id=ids[m.queue], penalty=m.penalty, active=m.active))
            else:
                row.penalty = m.penalty
        agent.profile_id = profile.id

    # admin settings -----------------------------------------------------------------------------
    def admin_settings(self) -> dict[str, Any]:
        """The tenant settings an admin changed at run time, by name."""
        with self.session() as s:
            return {row.name: json.loads(row.value) for row in s.scalars(select(AdminSetting))}

    def set_admin_setting(self, name: str, value: Any) -> None:
        """Store an admin setting (JSON-able value); ``None`` forgets it (back to the configured value)."""
        with self.session() as s, s.begin():
            row = s.get(AdminSetting, name)
            if value is None:
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(AdminSetting(name=name, value=json.dumps(value)))
            else:
                row.value = json.dumps(value)

    # routing traces ------------------------------------------------------------------------------
    def save_trace(self, trace: dict[str, Any]) -> None:
        """Store (or replace) a routed call's decision trace (``switchboard.routing.Trace.as_dict()``)."""
        values = fit_columns(RoutingTrace, {
            "at": datetime.fromtimestamp(float(trace["at"]), UTC),
            "caller_number": trace.get("caller_number") or "", "outcome": trace.get("outcome") or "default",
            "plugin": trace.get("plugin") or "", "trace": json.dumps(trace, default=str)})
        self._upsert(RoutingTrace, {"call_id": trace["call_id"]}, values)

    def get_trace(self, call_id: str) -> dict[str, Any] | None:
        """A routed call's decision trace, or None."""
        with self.session() as s:
            row = s.get(RoutingTrace, call_id)
            return json.loads(row.trace) if row is not None else None

    def recent_traces(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest decision traces."""
        with self.session() as s:
            rows = s.scalars(select(RoutingTrace).order_by(RoutingTrace.at.desc()).limit(limit))
            return [json.loads(r.trace) for r in rows]

    # call history --------------------------------------------------------------------------------
    def record_call(self, **fields: Any) -> bool:
        """Insert a finished call once; returns False when the call id is already recorded."""
        for key in ("started_at", "answered_at", "ended_at"):
            if isinstance(fields.get(key), str):
                fields[key] = datetime.fromisoformat(fields[key])
        fields = fit_columns(CallRecord, fields)  # odd caller text must never fail the insert (PostgreSQL)
        try:
            with self.session() as s, s.begin():
                s.add(CallRecord(**fields))
        except IntegrityError:
            return False
        return True

    def call_history(self, agent: str | None = None, limit: int = 50) -> list[CallRecord]:
        """The newest calls, optionally only one agent's."""
        with self.session() as s:
            q = select(CallRecord).order_by(CallRecord.ended_at.desc()).limit(limit)
            if agent:
                q = q.where(CallRecord.agent == agent)
            return list(s.scalars(q))

    def get_call(self, call_id: str) -> CallRecord | None:
        """One finished call by its id."""
        with self.session() as s:
            return s.scalar(select(CallRecord).where(CallRecord.call_id == call_id))

    def recorded_call_ids(self, call_ids: Iterable[str]) -> set[str]:
        """Which of ``call_ids`` are in the call history already."""
        ids = list(dict.fromkeys(call_ids))
        if not ids:
            return set()
        with self.session() as s:
            return set(s.scalars(select(CallRecord.call_id).where(CallRecord.call_id.in_(ids))))

    def set_task_id(self, call_id: str, task_id: str) -> None:
        """Remember the Salesforce record written for a call."""
        self.set_task_ids({call_id: task_id})

    def set_task_ids(self, ids: dict[str, str]) -> None:
        """Remember the Salesforce records written for calls, in one transaction."""
        if not ids:
            return
        with self.session() as s, s.begin():
            for call_id, task_id in ids.items():
                s.execute(update(CallRecord).where(CallRecord.call_id == call_id).values(sf_task_id=task_id))

    # presence and wrap-up ------------------------------------------------------------------------
    def upsert_status(self, name: str, kind: str, duration_minutes: int | None = None) -> PresenceStatus:
        """Create or update an admin-defined availability status (idempotent by name)."""
        return self._upsert(PresenceStatus, {"name": name}, {"kind": kind, "duration_minutes": duration_minutes})

    @staticmethod
    def _status_named(s: Session, name: str) -> PresenceStatus:
        """The status called ``name``; LookupError when there is none."""
        row = s.scalar(select(PresenceStatus).where(PresenceStatus.name == name))
        if row is None:
            raise LookupError(f"unknown status {name!r}")
        return row

    def rename_status(self, name: str, new_name: str) -> None:
        """Rename a status; agents in it and schedules of it follow (they refer to its id)."""
        with self.session() as s, s.begin():
            row = self._status_named(s, name)
            if new_name != name and s.scalar(select(PresenceStatus).where(PresenceStatus.name == new_name)):
                raise ValueError(f"a status {new_name!r} exists already")
            row.name = new_name

    def delete_status(self, name: str) -> tuple[list[str], int]:
        """Delete a status: agents in it keep its type (and end time) under the type's plain name; schedules
        of it are dropped. Returns (usernames that were in it, schedules dropped)."""
        with self.session() as s, s.begin():
            row = self._status_named(s, name)
            users = list(s.scalars(select(Agent.sip_username).join(
                AgentPresenceState, AgentPresenceState.agent_id == Agent.id).where(
                AgentPresenceState.status_id == row.id).order_by(Agent.sip_username)))
            s.execute(update(AgentPresenceState).where(AgentPresenceState.status_id == row.id).values(status_id=None))
            dropped = s.execute(delete(ScheduledPresence).where(ScheduledPresence.status_id == row.id)).rowcount
            s.delete(row)
            return users, dropped or 0

    def list_statuses(self) -> list[PresenceStatus]:
        """Every availability status, in the order an admin created them."""
        with self.session() as s:
            return list(s.scalars(select(PresenceStatus).order_by(PresenceStatus.id)))

    def set_queue_wrapup(self, name: str, seconds: int, codes: list[str], required: bool) -> None:
        """Set a queue's wrap-up time, codes and whether a code is required."""
        with self.session() as s, s.begin():
            q = s.scalar(select(ServiceQueue).where(ServiceQueue.name == name))
            if q is None:
                raise LookupError(f"unknown queue {name!r}")
            q.wrapup_seconds, q.wrapup_codes, q.wrapup_required = seconds, json.dumps(codes), required

    def set_queue_sla(self, name: str, seconds: int) -> None:
        """Set a queue's SLA threshold (seconds, at least 1)."""
        if seconds < 1:
            raise ValueError("the SLA threshold is at least 1 second")
        with self.session() as s, s.begin():
            q = s.scalar(select(ServiceQueue).where(ServiceQueue.name == name))
            if q is None:
                raise LookupError(f"unknown queue {name!r}")
            q.sla_seconds = seconds

    def list_presence(self) -> dict[int, AgentPresenceState]:
        """Every stored agent presence, by agent id."""
        with self.session() as s:
            return {p.agent_id: p for p in s.scalars(select(AgentPresenceState))}

    def get_presence(self, sip_username: str) -> AgentPresenceState | None:
        """One agent's stored presence, or None when they never set one."""
        agent = self.get_agent(sip_username)
        with self.session() as s:
            return s.get(AgentPresenceState, agent.id)

    def save_presence(self, sip_username: str, **fields: Any) -> None:
        """Create or update an agent's presence row with ``fields``."""
        agent = self.get_agent(sip_username)
        with self.session() as s, s.begin():
            row = s.get(AgentPresenceState, agent.id)
            if row is None:
                row = AgentPresenceState(agent_id=agent.id, since=datetime.now(UTC))
                s.add(row)
            for key, value in fields.items():
                setattr(row, key, value)

    def set_membership_active(self, sip_username: str, queue: str, active: bool) -> bool:
        """Switch an agent's own membership of ``queue`` on or off; False when not a member."""
        agent = self.get_agent(sip_username)
        with self.session() as s, s.begin():
            mem = s.scalar(select(QueueMembership).join(ServiceQueue).where(
                QueueMembership.agent_id == agent.id, ServiceQueue.name == queue))
            if mem is None:
                return False
            mem.active = active
        return True

    def list_schedules(self, sip_username: str | None = None) -> list[ScheduledPresence]:
        """Upcoming availabilities of one agent (or everyone's), soonest first."""
        with self.session() as s:
            q = select(ScheduledPresence).order_by(ScheduledPresence.starts_at)
            if sip_username is not None:
                q = q.where(ScheduledPresence.agent_id == self.get_agent(sip_username).id)
            return list(s.scalars(q))

    def add_schedule(self, sip_username: str, status_id: int, starts_at: datetime,
                     ends_at: datetime | None = None) -> int:
        """Schedule an upcoming availability; returns its id."""
        agent = self.get_agent(sip_username)
        with self.session() as s, s.begin():
            if s.get(PresenceStatus, status_id) is None:
                raise LookupError(f"unknown status {status_id}")
            row = ScheduledPresence(agent_id=agent.id, status_id=status_id, starts_at=starts_at, ends_at=ends_at)
            s.add(row)
            s.flush()
            return row.id

    def delete_schedules(self, sip_username: str, ids: Iterable[int]) -> int:
        """Remove an agent's own scheduled availabilities; returns how many were removed."""
        agent = self.get_agent(sip_username)
        ids = list(ids)
        if not ids:
            return 0
        with self.session() as s, s.begin():
            rows = list(s.scalars(select(ScheduledPresence).where(
                ScheduledPresence.agent_id == agent.id, ScheduledPresence.id.in_(ids))))
            for row in rows:
                s.delete(row)
            return len(rows)

    def set_wrapup_code(self, call_id: str, code: str) -> bool:
        """Store the wrap-up code of a recorded call; False when the call is not recorded yet."""
        with self.session() as s, s.begin():
            result = s.execute(update(CallRecord).where(CallRecord.call_id == call_id).values(wrapup_code=code))
            return bool(result.rowcount)
