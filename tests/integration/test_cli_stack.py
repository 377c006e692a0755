"""The CLI against the running stack: a demo call lands as a Task; a new agent is provisioned live."""

from __future__ import annotations

import time

import pytest

from tests.support.stack import cli

pytestmark = pytest.mark.integration


def test_given_a_demo_call_that_nobody_answers_then_one_not_answered_task_lands(stack):
    from worker.salesforce import connect, soql_quote

    number = "+4915112345678"
    r = cli(stack, "call", "--from", number, "--queue", "Sales", "--hangup-after", "1.5")
    assert r.returncode == 0, r.stderr
    assert "Calling Sales (+35891000003)" in r.stdout
    sf = connect(stack.settings)
    deadline = time.monotonic() + 5
    tasks: list = []
    while time.monotonic() < deadline and not tasks:
        tasks = sf.query(f"SELECT Id, CallDisposition, Service_Pool_Queue__c, CallObject FROM Task "
                         f"WHERE Phone_Number_2__c = {soql_quote(number)}")["records"]
        time.sleep(0.1)
    assert len(tasks) == 1
    assert tasks[0]["CallDisposition"] == "not answered"
    assert tasks[0]["Service_Pool_Queue__c"] == "Sales"
    from switchboard.store import Store

    history = [c for c in Store(stack.settings.database_url).call_history() if c.caller_number == number]
    assert len(history) == 1 and history[0].call_id == tasks[0]["CallObject"]


def test_given_an_unknown_queue_then_the_cli_says_so(stack):
    r = cli(stack, "call", "--from", "+358401234567", "--queue", "No Such Queue")
    assert r.returncode != 0
    assert "unknown queue 'No Such Queue'" in r.stderr


def test_given_a_new_agent_then_asterisk_knows_it_without_a_restart(stack):
    pid = stack.asterisk.process.pid
    r = cli(stack, "agent", "add", "agent9", "--name", "Nina New", "--password", "pw-agent9", "--queue", "Sales")
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        shown = stack.asterisk.cli("pjsip show endpoint agent9", check=False).stdout
        members = stack.asterisk.cli("queue show sales", check=False).stdout
        if "Unable to find" not in shown and "agent9" in shown and "Nina New" in members:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"agent9 not provisioned:\n{shown}\n{members}")
    assert stack.asterisk.process.pid == pid and stack.asterisk.process.poll() is None


def test_given_a_hostile_user_name_then_the_cli_refuses_it(stack):
    r = cli(stack, "agent", "add", "bad]name\n[x", "--name", "X", "--password", "pw")
    assert r.returncode != 0 and "user name may hold only" in r.stderr
