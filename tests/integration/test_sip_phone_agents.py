"""Agents on a SIP phone, on the real stack: SIPp registers agent3 as a SIP-phone agent (device ``sip``) and
plays its phone; a customer calls over the trunk. The phone rings and answers, exactly one Task lands with
the agent, queue, wait and duration; DND pauses the SIP agent too; the page's server-side hang-up and
blind transfers (to a colleague, to a queue number) end or move the call without taking it back."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
import requests

from control.stack import DEMO_PASSWORD
from switchboard.store import Store
from tests.support.sipagent import SipAgentPhones, provision
from tests.support.stack import member_line, one_task

pytestmark = pytest.mark.integration

CS_FI = "+35891000002"  # agent3 is its only member
CS_EN = "+35891000001"


@pytest.fixture(scope="module")
def sip_agents(stack):
    """agent3 and agent2 on SIP phones for this module; back on the web phone afterwards."""
    store = Store(stack.settings.database_url)
    for name in ("agent3", "agent2"):
        store.set_device(name, "sip")
    provision(stack, ["agent3", "agent2"], "sip")
    yield
    for name in ("agent3", "agent2"):
        store.set_device(name, "webrtc")
    provision(stack, ["agent3", "agent2"], "webrtc")
    store.engine.dispose()


def caller() -> str:
    return "+35840" + "".join(secrets.choice("0123456789") for _ in range(7))


def wait_for(check, what: str, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def call_of(stack, number: str, timeout: float = 10.0):
    """The finished call of the customer ``number`` in the call history."""
    store = Store(stack.settings.database_url)
    try:
        return wait_for(lambda: next((c for c in store.call_history(limit=200) if c.caller_number == number), None),
                        f"the call history of {number}", timeout)
    finally:
        store.engine.dispose()


class Page:
    """The agent's page, as HTTP: logged in, with the session's CSRF token."""

    def __init__(self, stack, username: str) -> None:
        self.base = stack.settings.public_url
        self.http = requests.Session()
        self.http.trust_env = False
        form = self.http.get(f"{self.base}/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        self.http.post(f"{self.base}/login", data={"username": username, "password": DEMO_PASSWORD,
                                                    "csrf_token": token})
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', self.http.get(f"{self.base}/phone").text).group(1)

    def current_call(self) -> dict | None:
        return self.http.get(f"{self.base}/api/calls/current").json()["call"]

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return self.http.post(f"{self.base}{path}", json=body or {}, headers={"X-CSRF-Token": self.csrf})


def test_given_a_sip_phone_agent_when_a_customer_calls_their_queue_then_the_phone_answers_and_one_task_lands(
        stack, sip_agents, customers):
    number = caller()
    with SipAgentPhones(stack, ["agent3"], answer_after=1.5, talk_time=4) as phones:
        assert Page(stack, "agent3").http.get(f"{stack.settings.public_url}/api/device").json()["registered"] is True
        customer = customers.call(CS_FI, number, "Maija Virtanen")
        try:
            wait_for(lambda: "PJSIP/agent3-" in stack.asterisk.cli("core show channels").stdout, "agent3 rung")
            # the phone sends audio: Asterisk receives its RTP
            received = wait_for(lambda: int(m.group(1)) if (m := re.search(
                r"agent3-\S+\s+[\d:]+\s+\S+\s+(\d+)", stack.asterisk.cli("pjsip show channelstats").stdout)) else 0,
                "RTP from the phone", 8)
            assert customer.wait(30).ok
        finally:
            customer.stop()
        assert phones.invites("agent3") == 1
        assert phones.received("BYE", "agent3") == 0  # the agent hung up (their BYE), Asterisk did not
    print(f"\nRTP packets from the SIP phone seen by Asterisk: {received}")
    call = call_of(stack, number)
    assert call.agent == "agent3" and call.disposition == "answered"
    task = one_task(stack, call.call_id)
    assert "Agent: agent3" in task["Description"]
    assert task["Service_Pool_Queue__c"] == "Customer Service FI"
    assert task["CallDisposition"] == "answered"
    assert task["Queue_Wait_Time_Sec__c"] >= 1  # it rang 1.5 s before the agent answered
    assert 3 <= task["CallDurationInSeconds"] <= 6  # talked 4 s
    assert task["Phone_Number_2__c"] == number


def test_given_a_sip_phone_agent_in_dnd_then_their_queue_member_is_paused_and_the_phone_does_not_ring(
        stack, sip_agents, customers):
    store = Store(stack.settings.database_url)
    statuses = {s.name: s.id for s in store.list_statuses()}
    store.engine.dispose()
    page = Page(stack, "agent3")
    with SipAgentPhones(stack, ["agent3"], answer_after=1, talk_time=2) as phones:
        assert page.post("/api/presence", {"status_id": statuses["DND"]}).status_code == 202
        wait_for(lambda: "paused" in member_line(stack, "agent3", "cs-fi"), "agent3 paused in cs-fi")
        customer = customers.call(CS_FI, caller(), "Waiting Customer")
        try:
            time.sleep(3)
            assert phones.invites("agent3") == 0  # DND: the queue does not offer the SIP phone the call
            assert page.post("/api/presence", {"status_id": statuses["Available"]}).status_code == 202
            wait_for(lambda: "paused" not in member_line(stack, "agent3", "cs-fi"), "agent3 unpaused")
            assert customer.wait(30).ok  # now it rings, the phone answers and hangs up after 2 s
        finally:
            customer.stop()
            page.post("/api/presence", {"status_id": statuses["Available"]})
        assert phones.invites("agent3") == 1


def test_given_a_call_on_a_sip_phone_when_the_agent_hangs_up_from_the_page_then_the_call_ends_and_is_not_taken_back(
        stack, sip_agents, customers):
    number = caller()
    page = Page(stack, "agent3")
    with SipAgentPhones(stack, ["agent3"], answer_after=1, talk_time=0) as phones:
        customer = customers.call(CS_FI, number, "Maija Virtanen")
        try:
            call = wait_for(page.current_call, "the answered call on the page", 15)
            assert page.post("/api/calls/not-a-call/hangup").json()["error"] == "not_on_call"
            r = page.post(f"/api/calls/{call['call_id']}/hangup")
            assert r.status_code == 200, r.text
            hung_up = time.monotonic()
            outcome = customer.wait(10)
            assert outcome.ok and outcome.ended_by == "network", outcome
            print(f"\nhang-up from the page -> customer's BYE done: {(time.monotonic() - hung_up) * 1000:.0f} ms")
        finally:
            customer.stop()
        wait_for(lambda: phones.received("BYE", "agent3") == 1, "the phone's BYE")
        time.sleep(2)
        assert phones.invites("agent3") == 1  # a real hang-up: the customer's channel did not ring agent3 again
    assert one_task(stack, call["call_id"])["CallDisposition"] == "answered"


@contextmanager
def desk_call(stack, customers, number: str):  # noqa: ANN001, ANN201
    """agent3 and agent2 on SIP phones (answering after 1 s), their pages, and a customer's call to Customer
    Service FI answered on agent3's phone: (agent3, agent2, phones, customer, call)."""
    agent3, agent2 = Page(stack, "agent3"), Page(stack, "agent2")
    with SipAgentPhones(stack, ["agent3", "agent2"], answer_after=1, talk_time=0) as phones:
        customer = customers.call(CS_FI, number, "Maija Virtanen")
        try:
            yield agent3, agent2, phones, customer, wait_for(agent3.current_call, "agent3's answered call", 15)
        finally:
            customer.stop()


def test_given_a_call_on_a_sip_phone_when_the_agent_transfers_from_the_page_then_the_colleague_or_the_queue_gets_it(
        stack, sip_agents, customers):
    number = caller()
    with desk_call(stack, customers, number) as (agent3, agent2, phones, customer, call):
        assert agent2.post(f"/api/calls/{call['call_id']}/transfer", {"target": "agent1"}).json()["error"] \
            == "not_on_call"  # not agent2's call
        # to a colleague by name: agent2's phone rings and answers, agent3's leaves the call
        r = agent3.post(f"/api/calls/{call['call_id']}/transfer", {"target": "agent2"})
        assert r.status_code == 200, r.text
        wait_for(lambda: phones.invites("agent2") == 1, "agent2's phone rung")
        wait_for(lambda: phones.received("BYE", "agent3") == 1, "agent3's phone left the call")
        moved = wait_for(agent2.current_call, "the call on agent2's page", 10)
        assert moved["call_id"] == call["call_id"]
        # to a queue number: Customer Service FI offers it to its one member, agent3, again
        r = agent2.post(f"/api/calls/{call['call_id']}/transfer", {"target": CS_FI})
        assert r.status_code == 200, r.text
        wait_for(lambda: phones.received("BYE", "agent2") == 1, "agent2's phone left the call")
        wait_for(lambda: phones.invites("agent3") == 2, "agent3's phone rung by the queue")
        back = wait_for(lambda: (c := agent3.current_call()) and c["call_id"] == call["call_id"] and c,
                        "the call back on agent3's page", 10)
        assert back["queue"] == "cs-fi"
        assert customer.running  # the customer was never dropped
        assert agent3.post(f"/api/calls/{call['call_id']}/hangup").status_code == 200
        outcome = customer.wait(10)
        assert outcome.ok and outcome.ended_by == "network", outcome
        assert phones.invites("agent2") == 1  # nobody was rung back after a transfer
    task = one_task(stack, call["call_id"])
    assert task["Phone_Number_2__c"] == number


def consult_state(page: Page, call_id: str) -> str:
    return page.http.get(f"{page.base}/api/calls/{call_id}/consult").json()["state"]


def test_given_a_sip_phone_call_when_the_agent_consults_a_colleague_from_the_page_then_cancel_returns_complete_joins(
        stack, sip_agents, customers):
    number = caller()
    with desk_call(stack, customers, number) as (agent3, agent2, phones, customer, call):
        call_id = call["call_id"]
        assert agent3.post(f"/api/calls/{call_id}/consult/complete").json()["error"] == "not_consulting"
        assert agent2.post(f"/api/calls/{call_id}/consult", {"target": "agent1"}).json()["error"] \
            == "not_on_call"  # not agent2's call
        assert agent3.post(f"/api/calls/{call_id}/consult", {"target": "nobody"}).status_code == 404
        # consult agent2 and cancel: agent2's phone rings, answers, is hung up; agent3 is back with the customer
        r = agent3.post(f"/api/calls/{call_id}/consult", {"target": "agent2"})
        assert r.status_code == 200 and r.json()["state"] == "dialing", r.text
        wait_for(lambda: phones.invites("agent2") == 1, "agent2's phone rung for the consultation")
        wait_for(lambda: consult_state(agent3, call_id) == "in_call", "agent2 answered the consultation")
        assert agent3.post(f"/api/calls/{call_id}/transfer", {"target": CS_FI}).json()["error"] == "consulting"
        assert agent3.post(f"/api/calls/{call_id}/consult/cancel").status_code == 200
        wait_for(lambda: phones.received("BYE", "agent2") == 1, "agent2's consultation hung up")
        wait_for(lambda: consult_state(agent3, call_id) == "", "the consultation over")
        assert phones.received("BYE", "agent3") == 0 and customer.running
        assert agent3.current_call()["call_id"] == call_id
        # consult agent2 again and complete: the customer talks to agent2, agent3 leaves the call
        assert agent3.post(f"/api/calls/{call_id}/consult", {"target": "agent2"}).status_code == 200
        wait_for(lambda: phones.invites("agent2") == 2, "agent2's phone rung again")
        wait_for(lambda: consult_state(agent3, call_id) == "in_call", "agent2 answered again")
        assert agent3.post(f"/api/calls/{call_id}/consult/complete").status_code == 200
        wait_for(lambda: phones.received("BYE", "agent3") == 1, "agent3's phone left the call")
        moved = wait_for(agent2.current_call, "the call on agent2's page", 10)
        assert moved["call_id"] == call_id
        time.sleep(2)
        assert customer.running and phones.received("BYE", "agent2") == 1  # nobody dropped, nobody rung back
        assert agent3.current_call() is None
        assert agent2.post(f"/api/calls/{call_id}/hangup").status_code == 200
        outcome = customer.wait(10)
        assert outcome.ok and outcome.ended_by == "network", outcome
        assert phones.invites("agent3") == 1
    task = one_task(stack, call_id)
    assert task["Phone_Number_2__c"] == number
    assert "Agent: agent2" in task["Description"], task["Description"]


def test_given_a_sip_phone_consultation_when_the_agent_hangs_up_from_the_page_then_the_transfer_completes(
        stack, sip_agents, customers):
    number = caller()
    with desk_call(stack, customers, number) as (agent3, agent2, phones, customer, call):
        call_id = call["call_id"]
        r = agent3.post(f"/api/calls/{call_id}/consult", {"target": CS_FI})
        assert r.status_code == 400 and r.json()["error"] == "bad_target"  # a queue: transfer to it directly
        assert agent3.post(f"/api/calls/{call_id}/consult", {"target": "agent2"}).status_code == 200
        wait_for(lambda: consult_state(agent3, call_id) == "in_call", "agent2 answered the consultation")
        assert agent3.post(f"/api/calls/{call_id}/hangup").status_code == 200  # as a phone hanging up then
        wait_for(lambda: phones.received("BYE", "agent3") == 1, "agent3's phone left the call")
        moved = wait_for(agent2.current_call, "the call on agent2's page", 10)
        assert moved["call_id"] == call_id
        time.sleep(2)
        assert customer.running and phones.received("BYE", "agent2") == 0  # the customer talks to agent2
        assert phones.invites("agent3") == phones.invites("agent2") == 1  # nobody rung back
        assert agent2.post(f"/api/calls/{call_id}/hangup").status_code == 200
        outcome = customer.wait(10)
        assert outcome.ok and outcome.ended_by == "network", outcome
    assert "Agent: agent2" in one_task(stack, call_id)["Description"]


def test_given_fifty_sip_phone_agents_then_one_sipp_process_registers_and_answers_them_all(stack, customers):
    """What a load test brings: 50 SIP-phone agents, one REGISTER run, one UAS; concurrent queue calls are
    each answered by one of them."""
    from tests.support.sipagent import make_sip_agents

    names = [f"bulk{i:02}" for i in range(50)]
    started = time.monotonic()
    make_sip_agents(stack, names, queues=["sales"])
    provisioned = time.monotonic()
    numbers = [caller() for _ in range(10)]
    with SipAgentPhones(stack, names, answer_after=0.5, talk_time=3, trace=True) as phones:
        ready = time.monotonic()
        calls = [customers.call("+35891000003", n, f"Bulk Customer {i}") for i, n in enumerate(numbers)]
        try:
            assert [c.wait(40).ok for c in calls] == [True] * len(calls)
        finally:
            customers.hang_up_all()
        assert phones.invites() == len(numbers)
    print(f"\n50 SIP-phone agents: provisioned in {provisioned - started:.1f} s, registered and reachable in "
          f"{ready - provisioned:.1f} s")
    answered_by = {call_of(stack, n).agent for n in numbers}
    assert answered_by <= set(names) and len(answered_by) == len(numbers)  # rrmemory: a different phone each


def cli(stack, *args: str) -> str:
    """The switchboard CLI against this stack (its settings from the state dir); its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env["SWITCHBOARD_STATE_DIR"] = str(stack.workdir)
    r = subprocess.run([sys.executable, "-m", "control.cli", *args], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_given_the_cli_then_an_agent_gets_a_sip_phone_its_account_and_a_new_password_that_registers(stack):
    from switchboard.sip import derive_sip_password, sip_md5_cred

    name = f"deskcli{int(time.time()) % 10000}"
    added = cli(stack, "agent", "add", name, "--name", "Desk Cli", "--password", DEMO_PASSWORD,
                "--queue", "Customer Service FI", "--device", "sip")
    ports = stack.asterisk.ports
    first = derive_sip_password(stack.settings.secret_key, name, 1)
    assert f"SIP user name:    {name}" in added and f"Password:         {first}" in added
    assert f"{ports.sip_udp} (UDP), {ports.sip_tcp_port} (TCP)" in added and "Auth realm:       switchboard" in added
    assert re.search(rf"^{name}\s+Desk Cli\s+sip\s", cli(stack, "agent", "list"), re.MULTILINE)
    provision(stack, [name], "sip")
    with SipAgentPhones(stack, [name], transport="tcp"):  # over TCP: the phone's contact says so
        pass
    rotated = cli(stack, "agent", "set", name, "--rotate")
    second = derive_sip_password(stack.settings.secret_key, name, 2)
    assert "sip_generation = 2" in rotated and f"Password:         {second}" in rotated and first not in rotated
    assert f"Password:         {second}" in cli(stack, "agent", "phone", name)
    digest = sip_md5_cred(name, "switchboard", second)  # the orchestrator re-renders the auth, reloads res_pjsip
    wait_for(lambda: digest in stack.asterisk.cli(f"pjsip show auth {name}").stdout, "the new digest in Asterisk")
    with SipAgentPhones(stack, [name]):  # registers with the new password (the helper reads the generation)
        pass
    assert "device = webrtc" in cli(stack, "agent", "set", name, "--device", "webrtc")
    provision(stack, [name], "webrtc")
