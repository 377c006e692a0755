"""The store on SQLite and on PostgreSQL, through the Alembic migrations."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from switchboard.store import Store, upgrade
from switchboard.store.db import UnknownAgentError

CALL = {
    "call_id": "1795624337.0", "direction": "inbound", "caller_number": "+358401234567", "caller_name": "Maija",
    "queue": "cs-en", "agent": "agent1", "disposition": "answered", "started_at": "2026-11-25T10:00:00+00:00",
    "answered_at": "2026-11-25T10:00:05+00:00", "ended_at": "2026-11-25T10:01:00+00:00", "wait_seconds": 5,
    "duration_seconds": 55,
}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sb.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        from sqlalchemy import create_engine

        with create_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(url)
    s = Store(url)
    yield s
    s.engine.dispose()


def test_given_a_new_agent_then_password_is_hashed_and_login_works(store):
    store.create_user("agent1", "s3cret", "Anna", sip_username="agent1", sip_password="sip-pass")
    user = store.authenticate("agent1", "s3cret")
    assert user is not None and user.agent.sip_username == "agent1"
    assert store.authenticate("agent1", "wrong") is None
    assert store.authenticate("nobody", "s3cret") is None
    with store.session() as s:
        stored = s.execute(text("SELECT password_hash FROM users")).scalar_one()
        md5 = s.execute(text("SELECT sip_md5_cred FROM agents")).scalar_one()
    assert "s3cret" not in stored and "sip-pass" not in md5 and len(md5) == 32


def test_given_queues_and_members_then_lookups_by_label_name_and_number_work(store):
    store.upsert_queue("cs-en", "Customer Service EN", "+35891000001")
    store.create_user("agent1", "pw", "Anna", sip_username="agent1", sip_password="x")
    store.add_member("agent1", ["cs-en"])
    store.add_member("agent1", ["cs-en"])  # idempotent
    assert store.find_queue("customer service en").name == "cs-en"
    assert store.find_queue("+35891000001").name == "cs-en"
    assert store.find_queue("cs-en").label == "Customer Service EN"
    assert store.find_queue("nope") is None
    agents = store.list_agents()
    assert [m.queue.name for m in agents[0].memberships] == ["cs-en"]


def test_given_an_unknown_agent_then_a_clear_error(store):
    with pytest.raises(UnknownAgentError, match="unknown agent 'ghost'"):
        store.get_agent("ghost")
    with pytest.raises(UnknownAgentError):
        store.add_member("ghost", ["cs-en"])


def test_given_the_same_call_twice_then_history_holds_it_once(store):
    assert store.record_call(**CALL) is True
    assert store.record_call(**CALL) is False
    history = store.call_history(agent="agent1")
    assert len(history) == 1 and history[0].duration_seconds == 55
    store.set_task_id(CALL["call_id"], "00T000000000001AAA")
    assert store.call_history()[0].sf_task_id == "00T000000000001AAA"


def test_given_the_migrations_at_head_then_the_schema_matches_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from switchboard.store.models import Base

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        drift = compare_metadata(context, Base.metadata)
    assert drift == [], f"models and Alembic migrations differ ({store.engine.dialect.name}): {drift}"


def test_given_a_1000_character_caller_name_and_a_long_raw_number_then_the_call_is_recorded_whole(store):
    name = 'Ä"\'<>&;😀' * 125
    assert store.record_call(call_id="hostile.1", direction="inbound", caller_number="1" * 300, caller_name=name,
                             queue="sales", agent="", disposition="not answered",
                             started_at="2026-12-07T09:00:00+00:00", ended_at="2026-12-07T09:00:05+00:00",
                             wait_seconds=5, duration_seconds=0)
    (record,) = [c for c in store.call_history() if c.call_id == "hostile.1"]
    assert record.caller_name == name  # whole, as the caller sent it
    assert record.caller_number == "1" * 80  # a raw number longer than any real one is cut, never refused
