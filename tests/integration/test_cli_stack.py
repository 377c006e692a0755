"""The CLI against the running stack: a demo call (`switchboard call`) comes over the trunk as a carrier's
call does, with the caller's name and number in its From header, and lands as a Task; a new agent is
provisioned live."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.support.ami import Ami, AmiWatch
from tests.support.sipp import sip_quoted
from tests.support.stack import cli, cli_env, fresh_agent, wait_for

pytestmark = pytest.mark.integration
HOSTILE = "O'Brien & Sons (Ltd.) ~*?! \"q\" \\ 😀 <img src=x> {x}; y, z"


def tasks_from(stack, number: str, timeout: float = 5) -> list[dict]:
    """The Tasks of calls from ``number``, once one landed."""
    from switchboard.salesforce import connect, soql_quote

    sf = connect(stack.settings)
    deadline = time.monotonic() + timeout
    tasks: list = []
    while time.monotonic() < deadline and not tasks:
        tasks = sf.query(f"SELECT Id, CallDisposition, Service_Pool_Queue__c, CallObject FROM Task "
                         f"WHERE Phone_Number_2__c = {soql_quote(number)}")["records"]
        time.sleep(0.1)
    return tasks


def history_of(stack, number: str) -> list:
    from switchboard.store import Store

    store = Store(stack.settings.database_url)
    try:
        return [c for c in store.call_history(limit=1000) if c.caller_number == number]
    finally:
        store.engine.dispose()


def test_given_a_demo_call_that_nobody_answers_then_one_not_answered_task_lands(stack):
    number = "+4915112345678"
    r = cli(stack, "call", "--from", number, "--queue", "Sales", "--hangup-after", "1.5")
    assert r.returncode == 0, r.stderr
    assert "Calling Sales (+35891000003)" in r.stdout
    assert ": PJSIP/sb-loopback-" in r.stdout  # the customer's leg, which Asterisk sent over SIP
    tasks = tasks_from(stack, number)
    assert len(tasks) == 1
    assert tasks[0]["CallDisposition"] == "not answered"
    assert tasks[0]["Service_Pool_Queue__c"] == "Sales"
    history = history_of(stack, number)
    assert len(history) == 1 and history[0].call_id == tasks[0]["CallObject"]


def test_given_a_demo_call_then_it_arrives_on_the_trunk_with_the_callers_name_and_number_in_its_from(stack):
    number = "+358405550999"
    with AmiWatch(stack) as watch:
        proc = subprocess.Popen([sys.executable, "-m", "control.cli", "call", "--from", number, "--name", HOSTILE,
                                 "--queue", "Sales", "--hangup-after", "3"], env=cli_env(stack),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        joined = watch.wait_for(lambda e: e.get("Event") == "QueueCallerJoin" and e.get("CallerIDNum") == number)
        trunk = joined["Channel"]
        with Ami(stack) as ami:
            assert ami.getvar(trunk, "CHANNEL(endpoint)") == "trunk"  # identified as the carrier, by IP
            from_header = ami.getvar(trunk, "PJSIP_HEADER(read,From)")
        assert from_header.startswith(f'"{sip_quoted(HOSTILE)}" <sip:{number}@'), from_header
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        # the customer (the loopback leg) hung up after 3 s: its BYE ended the trunk's channel
        watch.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == trunk)
    assert [t["CallDisposition"] for t in tasks_from(stack, number)] == ["not answered"]
    wait_for(lambda: history_of(stack, number), 5, "no call history")
    assert [h.caller_name for h in history_of(stack, number)] == [HOSTILE]  # the name exactly as given


def test_given_an_unknown_number_then_the_demo_customer_hears_no_service(stack):
    number = "+358405550998"
    with AmiWatch(stack) as watch:
        r = cli(stack, "call", "--from", number, "--to", "+35891999999")
        assert r.returncode == 0, r.stderr  # answered: by the announcement
        trunk = watch.wait_for(lambda e: e.get("Event") == "Newchannel" and e.get("CallerIDNum") == number
                               and e.get("Channel", "").startswith("PJSIP/trunk-"))["Channel"]
        hangup = watch.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == trunk, timeout=15)
        assert hangup["Cause"] == "1"  # unallocated number, after ss-noservice


def test_given_a_dnd_agents_work_number_then_the_demo_call_is_refused_busy(stack):
    agent = fresh_agent(stack, prefix="cli")
    number = f"+35850{int(time.time() * 1000) % 10**7:07d}"
    assert cli(stack, "agent", "set", agent, "--work-number", number).returncode == 0
    wait_for(lambda: f"sb-work-number,{agent}" in stack.asterisk.cli(f"dialplan show {number}@from-trunk",
                                                                         check=False).stdout, 10, "not routed")
    stack.asterisk.cli(f"database put switchboard/presence {agent} dnd")  # as the orchestrator keeps it
    r = cli(stack, "call", "--from", "+358405550997", "--to", number)
    assert r.returncode != 0 and "busy" in r.stderr, (r.stdout, r.stderr)


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
