"""Admin commands: statuses, queue wrap-up, workflow settings and agents' settings land in the database,
bad values are refused; against the running stack a new status reaches the page and Asterisk, and an
agent's work number reaches Asterisk's dialplan, without a restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.config import Settings, with_overrides
from switchboard.store import Store, upgrade
from tests.support.stack import cli, fresh_agent, member_line, wait_for, web_session

pytestmark = pytest.mark.integration


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'admin.db'}"
    upgrade(url)
    store = Store(url)
    store.upsert_queue("cs-en", "Customer Service EN", "+35891000001")
    store.create_user("anna", "pw", "Anna Agent", sip_username="anna", sip_password="sip-pw")
    store.create_user("ben", "pw", "Ben Agent", sip_username="ben", sip_password="sip-pw")
    store.engine.dispose()
    return url


def admin_cli(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI on a database of its own, with no Redis (so no orchestrator) to tell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(SWITCHBOARD_DATABASE_URL=db, SWITCHBOARD_STATE_DIR="/nonexistent-state",
               SWITCHBOARD_REDIS_URL="redis://127.0.0.1:1/0", SWITCHBOARD_SECRET_KEY="admin-test")
    return subprocess.run([sys.executable, "-m", "control.cli", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_statuses_and_queue_wrapup_are_stored_and_listed(db):
    assert "no orchestrator running" in ok(admin_cli(db, "admin", "status", "set", "Busy (60 min)", "--type", "busy",
                                                     "--minutes", "60"))
    ok(admin_cli(db, "admin", "status", "set", "Lunch", "--type", "offwork"))
    ok(admin_cli(db, "admin", "status", "set", "Lunch", "--type", "offwork", "--minutes", "45"))  # changed
    assert [(s.name, s.kind, s.duration_minutes) for s in Store(db).list_statuses()] == [
        ("Busy (60 min)", "busy", 60), ("Lunch", "offwork", 45)]
    listed = ok(admin_cli(db, "admin", "status", "list"))
    assert "Busy (60 min)" in listed and "45 min" in listed
    assert admin_cli(db, "admin", "status", "set", "Nap", "--type", "asleep").returncode != 0

    ok(admin_cli(db, "admin", "queue", "wrapup", "Customer Service EN", "--seconds", "30", "--code", "No Note",
                 "--code", "Manager Request", "--required"))
    q = Store(db).find_queue("cs-en")
    assert (q.wrapup_seconds, json.loads(q.wrapup_codes), q.wrapup_required) == (
        30, ["No Note", "Manager Request"], True)
    ok(admin_cli(db, "admin", "queue", "wrapup", "+35891000001", "--seconds", "10"))  # codes kept
    q = Store(db).find_queue("cs-en")
    assert (q.wrapup_seconds, json.loads(q.wrapup_codes), q.wrapup_required) == (
        10, ["No Note", "Manager Request"], True)
    refused = admin_cli(db, "admin", "queue", "wrapup", "cs-en", "--no-codes")
    assert refused.returncode != 0 and "needs codes" in refused.stderr
    ok(admin_cli(db, "admin", "queue", "wrapup", "cs-en", "--no-codes", "--optional", "--seconds", "0"))
    assert "no wrap-up time" in ok(admin_cli(db, "admin", "queue", "list"))
    assert "unknown queue" in admin_cli(db, "admin", "queue", "wrapup", "nope", "--seconds", "1").stderr


def test_a_status_is_renamed_and_deleted_without_moving_the_agents_in_it(db):
    ok(admin_cli(db, "admin", "status", "set", "Available", "--type", "available"))
    ok(admin_cli(db, "admin", "status", "set", "Training", "--type", "dnd", "--minutes", "90"))
    store = Store(db)
    training = next(s for s in store.list_statuses() if s.name == "Training")
    store.save_presence("anna", status_id=training.id, kind="dnd")
    store.add_schedule("ben", training.id, datetime(2030, 1, 1, 9, tzinfo=UTC))

    assert "is now 'Course'" in ok(admin_cli(db, "admin", "status", "rename", "Training", "Course"))
    assert store.get_presence("anna").status_id == training.id  # the agent follows the new name
    assert "Course" in ok(admin_cli(db, "admin", "status", "list"))
    clash = admin_cli(db, "admin", "status", "rename", "Course", "Available")
    assert clash.returncode != 0 and "exists already" in clash.stderr
    assert "unknown status" in admin_cli(db, "admin", "status", "rename", "Nope", "X").stderr

    out = ok(admin_cli(db, "admin", "status", "delete", "Course"))
    assert "anna keep its type" in out and "1 scheduled availability dropped" in out
    assert [s.name for s in store.list_statuses()] == ["Available"]
    anna = store.get_presence("anna")
    assert (anna.status_id, anna.kind) == (None, "dnd")  # still not reached by calls until she chooses
    assert store.list_schedules("ben") == []
    assert "unknown status" in admin_cli(db, "admin", "status", "delete", "Course").stderr


def test_workflow_settings_override_the_configuration_and_reset(db):
    ok(admin_cli(db, "admin", "workflow", "set", "--contact-columns", "Title,Email,Birthdate",
                 "--case-search-fields", "Subject", "--search-in", "all", "--outbound-other-object", "relate"))
    live = with_overrides(Settings(), Store(db).admin_settings())
    assert live.workflow_contact_columns == ("Title", "Email", "Birthdate")
    assert live.workflow_case_search_fields == ("Subject",)
    assert live.workflow_search_in == "ALL" and live.outbound_other_object == "relate"
    shown = ok(admin_cli(db, "admin", "workflow", "show"))
    assert "workflow_case_search_fields    Subject  (admin)" in shown
    assert "workflow_lead_columns          Company,Email\n" in shown  # the configured default
    bad = admin_cli(db, "admin", "workflow", "set", "--contact-columns", "Title, Name) FROM User --")
    assert bad.returncode != 0 and "not a Salesforce field name" in bad.stderr
    assert admin_cli(db, "admin", "workflow", "set").returncode != 0
    ok(admin_cli(db, "admin", "workflow", "reset", "workflow_contact_columns"))
    assert "workflow_contact_columns" not in Store(db).admin_settings()
    ok(admin_cli(db, "admin", "workflow", "reset"))
    assert Store(db).admin_settings() == {}
    assert Settings().outbound_other_object == "ignore"  # seed 2.2.4: not related unless configured


def test_agent_settings_work_number_workflow_and_outbound(db):
    out = ok(admin_cli(db, "agent", "set", "anna", "--work-number", "050 123 4567", "--workflow", "case_dialog",
                       "--outbound-other-object", "relate"))
    assert "work_number = +358501234567" in out
    anna = Store(db).authenticate("anna", "pw")
    assert (anna.work_number, anna.phone_workflow, anna.outbound_other_object) == (
        "+358501234567", "case_dialog", "relate")
    taken = admin_cli(db, "agent", "set", "ben", "--work-number", "+358501234567")
    assert taken.returncode != 0 and "already the work number of anna" in taken.stderr
    queue = admin_cli(db, "agent", "set", "ben", "--work-number", "+35891000001")
    assert queue.returncode != 0 and "number of the queue" in queue.stderr
    assert admin_cli(db, "agent", "set", "ben", "--work-number", "not a number").returncode != 0
    assert "unknown agent 'nobody'" in admin_cli(db, "agent", "set", "nobody", "--workflow", "case").stderr
    ok(admin_cli(db, "agent", "set", "anna", "--work-number", "", "--outbound-other-object", "tenant"))
    anna = Store(db).authenticate("anna", "pw")
    assert (anna.work_number, anna.outbound_other_object) == ("", "")
    added = ok(admin_cli(db, "agent", "add", "carla", "--name", "Carla", "--password", "pw", "--queue", "cs-en",
                         "--work-number", "+358 50 765 4321"))
    assert "work number +358507654321" in added
    listed = ok(admin_cli(db, "agent", "list"))
    assert "+358507654321" in listed and "cs-en" in listed


# against the running stack ------------------------------------------------------------------------
def test_a_new_timed_status_reaches_the_page_and_pauses_in_asterisk_without_a_restart(stack):
    pid = stack.asterisk.process.pid
    agent = fresh_agent(stack)
    name = f"Training {agent} (15 min)"
    r = cli(stack, "admin", "status", "set", name, "--type", "dnd", "--minutes", "15")
    assert r.returncode == 0 and "no orchestrator" not in r.stdout, r.stderr + r.stdout
    s, csrf = web_session(stack, agent)
    base = stack.settings.public_url
    status = next(x for x in s.get(f"{base}/api/presence", timeout=10).json()["statuses"] if x["name"] == name)
    assert (status["kind"], status["duration_minutes"]) == ("dnd", 15)
    chosen = time.time()
    r = s.post(f"{base}/api/presence", headers={"X-CSRF-Token": csrf}, json={"status_id": status["id"]}, timeout=10)
    assert r.status_code == 202, r.text
    wait_for(lambda: "paused:DND" in member_line(stack, agent), 5, "the new DND status did not pause the agent")
    assert "dnd" in stack.asterisk.cli(f"database get switchboard/presence {agent}").stdout
    now = s.get(f"{base}/api/presence", timeout=10).json()
    assert now["status"] == name and abs(now["until"] - (chosen + 15 * 60)) < 10
    assert stack.asterisk.process.pid == pid


def test_an_agents_work_number_reaches_the_dialplan_without_a_restart(stack):
    pid = stack.asterisk.process.pid
    agent = fresh_agent(stack)
    number = f"+35850{int(time.time() * 1000) % 10**7:07d}"
    r = cli(stack, "agent", "set", agent, "--work-number", number)
    assert r.returncode == 0, r.stderr

    def routed() -> bool:
        shown = stack.asterisk.cli(f"dialplan show {number}@from-trunk", check=False).stdout
        return f"Goto(sb-work-number,{agent},1)" in shown

    wait_for(routed, 10, f"{number} is not routed to {agent} in Asterisk's dialplan")
    assert cli(stack, "agent", "set", agent, "--work-number", "").returncode == 0
    wait_for(lambda: not routed(), 10, f"{number} is still routed after it was cleared")
    assert stack.asterisk.process.pid == pid
