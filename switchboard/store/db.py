"""The Store: one object wrapping the engine and the queries every process needs."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from switchboard.sip import sip_md5_cred
from switchboard.store.models import Agent, CallRecord, QueueMembership, ServiceQueue, User

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

    def set_sip_password(self, sip_username: str, password: str, realm: str = "switchboard") -> None:
        """Store the digest of an agent's new SIP password."""
        with self.session() as s, s.begin():
            agent = s.scalar(select(Agent).where(Agent.sip_username == sip_username))
            if agent is None:
                raise UnknownAgentError(sip_username)
            agent.sip_md5_cred = sip_md5_cred(sip_username, realm, password)

    # queues -------------------------------------------------------------------------------------
    def upsert_queue(self, name: str, label: str, number: str) -> ServiceQueue:
        """Create or update a service pool queue."""
        with self.session() as s, s.begin():
            q = s.scalar(select(ServiceQueue).where(ServiceQueue.name == name))
            if q is None:
                q = ServiceQueue(name=name, label=label, number=number)
                s.add(q)
            else:
                q.label, q.number = label, number
        return q

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

    # call history --------------------------------------------------------------------------------
    def record_call(self, **fields: Any) -> bool:
        """Insert a finished call once; returns False when the call id is already recorded."""
        for key in ("started_at", "answered_at", "ended_at"):
            if isinstance(fields.get(key), str):
                fields[key] = datetime.fromisoformat(fields[key])
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
