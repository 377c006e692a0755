"""Persistence: SQLAlchemy 2 engine, Alembic migrations and the store's queries."""

from switchboard.store.db import Store, upgrade
from switchboard.store.models import Agent, CallRecord, QueueMembership, ServiceQueue, User

__all__ = ["Agent", "CallRecord", "QueueMembership", "ServiceQueue", "Store", "User", "upgrade"]
