"""Database tables: users, agents, service pool queues, call history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of every Switchboard table."""


class User(Base):
    """A person who logs in to the web app (agent or supervisor)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20), default="agent")
    # Seed section 2: case | case_dialog | contact_account | contact_lead (chosen per user by an admin)
    phone_workflow: Mapped[str] = mapped_column(String(30), default="contact_account", server_default="contact_account")
    # The agent's personal work number, offered as a display number for outbound calls.
    work_number: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # An outbound call dialled from a record other than a Contact or Lead: "relate" | "ignore", or ""
    # for the tenant's setting (Settings.outbound_other_object; seed section 2.2.4).
    outbound_other_object: Mapped[str] = mapped_column(String(10), default="", server_default="")
    agent: Mapped[Agent | None] = relationship(back_populates="user", uselist=False)


class Agent(Base):
    """A user's telephony identity: the PJSIP endpoint their phone (web phone or SIP phone) registers as."""

    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    sip_username: Mapped[str] = mapped_column(String(80), unique=True)
    # MD5 digest of "username:realm:password" (pjsip auth_type = md5): the password itself is never stored.
    sip_md5_cred: Mapped[str] = mapped_column(String(64))
    sip_generation: Mapped[int] = mapped_column(Integer, default=1)
    # switchboard.sip.DEVICES: "webrtc" (the web phone) or "sip" (a desk phone, softphone or SIPp over
    # UDP/TCP): which pjsip.conf template the endpoint is rendered from, and what the page does.
    device: Mapped[str] = mapped_column(String(10), default="webrtc", server_default="webrtc")
    # The agent's Salesforce user (005…): whose Omni-Channel presence is theirs (switchboard/omni.py).
    sf_user_id: Mapped[str] = mapped_column(String(18), default="", server_default="")
    # The profile the agent works under now (skill levels per queue, pick mode); None: their memberships.
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"), nullable=True)
    user: Mapped[User] = relationship(back_populates="agent")
    memberships: Mapped[list[QueueMembership]] = relationship(
        back_populates="agent", cascade="all, delete-orphan"
    )


class ServiceQueue(Base):
    """A service pool: an Asterisk queue with the label agents see and its inbound number."""

    __tablename__ = "queues"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)  # the queues.conf section
    label: Mapped[str] = mapped_column(String(200), unique=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    # After an answered call the agent is in wrap-up this long (0: none); codes to pick, JSON list.
    wrapup_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    wrapup_codes: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    wrapup_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The service level threshold: callers should be answered within this many seconds. A waiting
    # caller's SLA score is their wait over it (switchboard/sla.py): the highest score is served first.
    sla_seconds: Mapped[int] = mapped_column(Integer, default=20, server_default="20")
    memberships: Mapped[list[QueueMembership]] = relationship(
        back_populates="queue", cascade="all, delete-orphan"
    )


class QueueMembership(Base):
    """An agent's membership of a service pool."""

    __tablename__ = "queue_memberships"
    __table_args__ = (UniqueConstraint("agent_id", "queue_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    penalty: Mapped[int] = mapped_column(Integer, default=0)
    # The agent's own per-queue switch ("managing availability in service pool queues").
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    agent: Mapped[Agent] = relationship(back_populates="memberships")
    queue: Mapped[ServiceQueue] = relationship(back_populates="memberships")


class Profile(Base):
    """A user profile (Puzzel): the queues an agent works under it, a skill level in each, and whether
    its agents pick calls themselves (pick mode) instead of being offered them."""

    __tablename__ = "profiles"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    pick_mode: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    skills: Mapped[list[ProfileSkill]] = relationship(back_populates="profile", cascade="all, delete-orphan")


class ProfileSkill(Base):
    """A profile's skill level in one queue (1 lowest .. 10 highest)."""

    __tablename__ = "profile_skills"
    __table_args__ = (UniqueConstraint("profile_id", "queue_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    skill: Mapped[int] = mapped_column(Integer)
    profile: Mapped[Profile] = relationship(back_populates="skills")
    queue: Mapped[ServiceQueue] = relationship()


class RoutingTrace(Base):
    """Why a routed call went where it went (switchboard.routing.Trace, JSON in ``trace``)."""

    __tablename__ = "routing_traces"
    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    caller_number: Mapped[str] = mapped_column(String(80), default="")
    outcome: Mapped[str] = mapped_column(String(20))
    plugin: Mapped[str] = mapped_column(String(100), default="")
    trace: Mapped[str] = mapped_column(Text)


class CallRecord(Base):
    """One finished call, keyed by the Asterisk linkedid."""

    __tablename__ = "call_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(20))
    caller_number: Mapped[str] = mapped_column(String(80), default="")
    caller_name: Mapped[str] = mapped_column(Text, default="")  # whole, as the caller sent it
    queue: Mapped[str] = mapped_column(String(80), default="")
    agent: Mapped[str] = mapped_column(String(80), default="")
    disposition: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    wait_seconds: Mapped[int] = mapped_column(Integer, default=0)
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    sf_task_id: Mapped[str] = mapped_column(String(18), default="")
    wrapup_code: Mapped[str] = mapped_column(String(100), default="", server_default="")


class AdminSetting(Base):
    """A tenant setting an admin changed at run time (``switchboard admin``): a JSON value by name."""

    __tablename__ = "admin_settings"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class PresenceStatus(Base):
    """An admin-defined availability status of one of the four types, optionally with a duration."""

    __tablename__ = "presence_statuses"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # available | busy | dnd | offwork
    duration_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)


class OmniStatusMapping(Base):
    """One row of the admin's Omni-Channel mapping table (seed 1.3): an Omni presence status and its type
    beside a Switchboard status (or a system status: "In a Call", "Wrap Up") and its type."""

    __tablename__ = "omni_status_map"
    id: Mapped[int] = mapped_column(primary_key=True)
    omni_developer_name: Mapped[str] = mapped_column(String(80), unique=True)
    omni_status_id: Mapped[str] = mapped_column(String(18), default="")  # 0N5…, for the Omni toolkit
    omni_label: Mapped[str] = mapped_column(String(200), default="")
    omni_kind: Mapped[str] = mapped_column(String(10), default="online")  # online | busy | offline
    status: Mapped[str] = mapped_column(String(100))  # a Switchboard status name, or a system status
    # both | to_omni (only written to Omni) | from_omni (only read from Omni)
    direction: Mapped[str] = mapped_column(String(10), default="both")


class AgentPresenceState(Base):
    """An agent's chosen availability now: the status, since when, until when, and pool calls on/off."""

    __tablename__ = "agent_presence"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    status_id: Mapped[int | None] = mapped_column(ForeignKey("presence_statuses.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20), default="available")
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    receive_pool_calls: Mapped[bool] = mapped_column(Boolean, default=True)
    # Wrap-up after an answered queue call: which call, its queue, and when it ends (None: until a code).
    wrapup_call_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    wrapup_queue: Mapped[str] = mapped_column(String(80), default="", server_default="")
    wrapup_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The untimed status before a timed one (or a schedule with an end), which comes back when it ends;
    # no foreign key: an admin may delete that status (the first untimed Available comes back then).
    previous_status_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    previous_kind: Mapped[str] = mapped_column(String(20), default="", server_default="")


class ScheduledPresence(Base):
    """An upcoming availability an agent scheduled."""

    __tablename__ = "scheduled_presence"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("presence_statuses.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
