"""Record the call ledger (CEL) and a resync listing of calls in progress from the real Asterisk.

tests/fixtures/cel/ledger.csv, the ledger of one run of the project's asterisk-conf/:
  1. a customer (SIPp over the trunk) answered by agent1 from cs-en (SIPp answers), hung up by the network;
  2. a customer who hangs up while waiting in cs-fi (no member);
  3. agent2's outbound call to +358401112233 (SIPp places it), answered by the demo customer;
  4. agent2's direct call to agent1 (agent1 answers);
  5. a customer answered by agent1 when Asterisk is killed (kill -9), then Asterisk starts again.
tests/fixtures/ami/resync_answered.jsonl: the answers of the resync listings (RESYNC_ACTIONS) while a
customer talks to agent1 (queue cs-en) and agent2's outbound call is answered, as record_ami_fixtures.py
writes them.
Run from the repository: PYTHONPATH=. .venv/bin/python scripts/record_ledger_fixtures.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from panoramisk import Manager

from control.asterisk import AsteriskCredentials, AsteriskInstance, AsteriskPorts, ensure_chroot
from control.net import free_port, free_port_range
from orchestrator.ami import RESYNC_ACTIONS
from tests.support.sipp import CustomerCall, SipCustomers

ROOT = Path(__file__).resolve().parent.parent
OUT_CEL = ROOT / "tests" / "fixtures" / "cel"
OUT_AMI = ROOT / "tests" / "fixtures" / "ami"
WORK = Path("/tmp/sb-ledger-fixtures")
CUSTOMER = "+358401234567"
# An agent placing a call: INVITE from <agent>, the answer, ACK, talk, BYE.
AGENT_UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="agent places a call">
  <send retrans="500"><![CDATA[
INVITE sip:[to]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[agent]@[local_ip]:[local_port]>;tag=[pid]agent[call_number]
To: <sip:[to]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[agent]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=agent 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:[agent]@[local_ip]:[local_port]>;tag=[pid]agent[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="@TALK_MS@"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:[agent]@[local_ip]:[local_port]>;tag=[pid]agent[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""


def agent_conf(name: str, port: int) -> str:
    """An agent whose phone is SIPp on ``port`` (UDP, no WebRTC, no auth, no connected-line updates)."""
    return (f"[{name}](sb-agent-endpoint)\naors = {name}\ntransport = transport-udp\nwebrtc = no\nallow = ulaw\n"
            f"rtp_timeout = 0\nsend_connected_line = no\ncallerid = \"{name}\" <{name}>\n"
            f"[{name}](sb-agent-aor)\ncontact = sip:{name}@127.0.0.1:{port}\n")


class Run:
    """One Asterisk instance with agent1 and agent2 answering from SIPp."""

    def __init__(self) -> None:
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir(parents=True)
        self.ports = {a: free_port(socket.SOCK_DGRAM) for a in ("agent1", "agent2")}
        self.inst = AsteriskInstance(ensure_chroot(), "ledger-fixtures", AsteriskPorts(
            free_port(), free_port(), free_port(socket.SOCK_DGRAM), *free_port_range(100)),
            AsteriskCredentials("switchboard", "fixture", "switchboard", "fixture"))
        self.inst.dialplan_globals = {"SB_OUTBOUND_PREFIX": "Local/", "SB_OUTBOUND_SUFFIX": "@sb-demo-customer"}
        self.inst.render()
        (self.inst.generated / "pjsip_agents.conf").write_text("".join(agent_conf(a, p) for a, p in self.ports.items()))
        (self.inst.generated / "queue_members.conf").write_text(
            "[cs-en](+)\nmember => Local/agent1@sb-agent/n,0,agent1,PJSIP/agent1\n")
        self.inst.render = lambda: None  # keep the fixture agents
        self.inst.ledger_file.unlink(missing_ok=True)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.customers = SipCustomers(self.inst, WORK / "customers")  # over the trunk (tests/support/sipp.py)

    def start(self) -> None:
        self.inst.start()
        time.sleep(0.5)  # the boot marker

    def answering(self, agent: str) -> None:
        self.procs.append(subprocess.Popen(["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(self.ports[agent]),
                                            "-nostdin"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def customer(self, to: str, name: str = 'Maija "M" Virtanen') -> CustomerCall:
        """A customer calls ``to`` over the trunk and talks until hung up."""
        return self.customers.call(to, CUSTOMER, name)

    def agent_calls(self, agent: str, to: str, talk_ms: int) -> subprocess.Popen[bytes]:
        path = WORK / "agent.xml"
        path.write_text(AGENT_UAC.replace("@TALK_MS@", str(talk_ms)))
        return self._sipp(path, to, ["-key", "agent", agent])

    def _sipp(self, scenario: Path, to: str, keys: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["sipp", f"127.0.0.1:{self.inst.ports.sip_udp}", "-sf", str(scenario), "-i",
                                 "127.0.0.1", "-p", str(free_port(socket.SOCK_DGRAM)), "-mp",
                                 str(free_port(socket.SOCK_DGRAM)), "-m", "1", "-nostdin", "-key", "to", to, *keys],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def hang_up_customers(self) -> None:
        self.inst.cli("channel request hangup all")

    def stop(self) -> None:
        self.customers.close()
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(5)
        self.inst.stop()


async def listings(inst: AsteriskInstance) -> list[dict]:
    """The answers of the resync's list actions, as record_ami_fixtures.py writes them."""
    frames: list[dict] = []
    t0 = time.time()
    m = Manager(host="127.0.0.1", port=inst.ports.ami, username="switchboard", secret="fixture", ping_delay=0)
    await m.connect()
    for action in RESYNC_ACTIONS:
        response = await m.send_action({"Action": action})
        for msg in response if isinstance(response, list) else [response]:
            raw = "".join(f"{k}: {v}\r\n" for k, values in dict(msg).items() if k != "content"
                          for v in (values if isinstance(values, list) else [values]))
            frames.append({"t": round(time.time() - t0, 3), "raw": raw})
    m.close()
    return frames


def main() -> None:
    """Record both fixtures."""
    run = Run()
    try:
        run.start()
        run.answering("agent1")
        run.answering("agent2")
        run.customer("+35891000001")  # 1. answered by agent1
        time.sleep(3)
        run.hang_up_customers()
        time.sleep(1)
        run.customer("+35891000002", "Waiting Caller")
        time.sleep(3)  # 2. waits in cs-fi, nobody there
        run.hang_up_customers()
        time.sleep(1)
        run.agent_calls("agent2", "+358401112233", 3000).wait(20)  # 3. outbound, the demo customer answers
        time.sleep(1)
        run.agent_calls("agent2", "agent1", 2000).wait(20)  # 4. a direct call to agent1
        time.sleep(1)
        run.customer("+35891000001")  # the listing: a queue call and an outbound call in progress
        run.agent_calls("agent2", "+358401112233", 4000)
        time.sleep(2.5)
        frames = asyncio.run(listings(run.inst))
        (OUT_AMI / "resync_answered.jsonl").write_text("".join(json.dumps(f) + "\n" for f in frames))
        time.sleep(3)
        run.hang_up_customers()
        time.sleep(1)
        run.customer("+35891000001")  # 5. cut by kill -9
        time.sleep(3)
        assert run.inst.process is not None
        run.inst.process.send_signal(signal.SIGKILL)
        run.inst.process.wait(5)
        run.inst.start()
        time.sleep(1)
        OUT_CEL.mkdir(parents=True, exist_ok=True)
        shutil.copy(run.inst.ledger_file, OUT_CEL / "ledger.csv")
        print((OUT_CEL / "ledger.csv").read_text())
    finally:
        run.stop()


if __name__ == "__main__":
    sys.exit(main())
