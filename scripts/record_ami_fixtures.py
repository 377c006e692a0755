"""Record AMI streams from the real Asterisk (the project's asterisk-conf/) into tests/fixtures/ami/.

The customer calls over the PJSIP trunk from SIPp, as a carrier's call comes (tests/support/sipp.py).
Scenarios: a queue call answered by an agent (a SIPp UAS stands in for agent1's phone and answers) and
hung up by the customer; a call abandoned while waiting (no member answers); an agent who does not
answer (their phone refuses, tests/sipp/agent_refuses.xml); a caller with a hostile name; the answers of
the resync listings (RESYNC_ACTIONS) with a caller waiting and agent2 registered.
Each line of a fixture is JSON: {"t": seconds since start, "raw": "Key: Value\\r\\n..."}.
Run from the repository: PYTHONPATH=. .venv/bin/python scripts/record_ami_fixtures.py [scenario ...]
(default: all)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import sys
import tempfile
import time
from pathlib import Path

from panoramisk import Manager

from control.asterisk import AsteriskCredentials, AsteriskInstance, AsteriskPorts, ensure_chroot
from control.net import free_port, free_port_range
from orchestrator.ami import RESYNC_ACTIONS
from tests.support.sipp import SipCustomers, SippUas, start_sipp, static_agent_conf

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ami"
CS_EN, CS_FI = "+35891000001", "+35891000002"


# agent2 registers (digest auth: a first REGISTER draws the 401) and stays registered while lists are recorded.
def _register(cseq: int, auth: bool) -> str:
    credentials = "[authentication username=agent2 password=fixture]\n" if auth else ""
    return f"""  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:agent2@[remote_ip]>;tag=[pid]reg[call_number]
To: <sip:agent2@[remote_ip]>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:agent2@[local_ip]:[local_port]>
{credentials}Max-Forwards: 70
Expires: 300
Content-Length: 0

]]></send>
"""


SIPP_REGISTER = "".join([
    '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="register">\n', _register(1, auth=False),
    '  <recv response="401" auth="true" />\n', _register(2, auth=True),
    '  <recv response="200" />\n  <pause milliseconds="30000" />\n</scenario>\n'])


def agents_conf(port: int) -> str:
    """agent1, whose phone is a SIPp on ``port`` (UDP, no WebRTC), and agent2, who registers."""
    agent2_cred = hashlib.md5(b"agent2:switchboard:fixture").hexdigest()
    return (static_agent_conf("agent1", f"sip:agent1@127.0.0.1:{port}", "Agent One")
            + f"[agent2](sb-agent-endpoint)\nauth = agent2\naors = agent2\ntransport = transport-udp\nwebrtc = no\n"
            f"allow = ulaw\n[agent2](sb-agent-auth)\nusername = agent2\nmd5_cred = {agent2_cred}\n"
            f"[agent2](sb-agent-aor)\n")


def raw(msg: dict) -> str:
    """An AMI message back in wire form."""
    return "".join(f"{k}: {v}\r\n" for k, v in msg.items() if k != "content" and not isinstance(v, list))


async def scenario(inst: AsteriskInstance, customers: SipCustomers, name: str, phone: dict | None, talk: float,
                   number: str = "+358401234567", cname: str = "Maija Virtanen") -> None:
    """Record one call into cs-en: the customer talks ``talk`` seconds, then hangs up; agent1's phone is a
    SIPp started with ``phone`` (SippUas arguments), or nothing answers at its address."""
    frames: list[dict] = []
    t0 = time.time()
    agent = SippUas(customers.workdir / f"{name}-agent1", **phone) if phone else None
    await asyncio.sleep(0.3)
    m = Manager(host="127.0.0.1", port=inst.ports.ami, username="switchboard", secret="fixture", ping_delay=0)
    m.register_event("*", lambda _m, msg: frames.append({"t": round(time.time() - t0, 3), "raw": raw(dict(msg))}))
    await m.connect()
    await asyncio.sleep(0.3)
    for action in ("CoreShowChannels", "QueueStatus"):
        for msg in await m.send_action({"Action": action}):
            frames.append({"t": round(time.time() - t0, 3), "raw": raw(dict(msg))})
    call = customers.call(CS_EN, number, cname, talk=talk)
    outcome = await asyncio.to_thread(call.wait, talk + 15)
    await asyncio.sleep(1.0)
    m.close()
    if agent:
        agent.stop()
    if not outcome.ok:
        raise RuntimeError(f"{name}: the customer's call failed: {outcome}")
    (OUT / f"{name}.jsonl").write_text("".join(json.dumps(f) + "\n" for f in frames))
    print(f"{name}: {len(frames)} frames")


async def resync_lists(inst: AsteriskInstance, customers: SipCustomers) -> None:
    """Record the resync listings' answers while a caller waits in cs-fi and agent2 is registered."""
    frames: list[dict] = []
    t0 = time.time()
    workdir = customers.workdir / "agent2-registers"
    workdir.mkdir()
    (workdir / "register.xml").write_text(SIPP_REGISTER)
    proc, _, _ = start_sipp(workdir, [f"127.0.0.1:{inst.ports.sip_udp}", "-sf", str(workdir / "register.xml"),
                                      "-m", "1"])
    m = Manager(host="127.0.0.1", port=inst.ports.ami, username="switchboard", secret="fixture", ping_delay=0)
    await m.connect()
    call = customers.call(CS_FI, "+46701234567", "Waiting Caller")
    await asyncio.sleep(2)
    for action in RESYNC_ACTIONS:
        response = await m.send_action({"Action": action})
        for msg in response if isinstance(response, list) else [response]:
            frames.append({"t": round(time.time() - t0, 3), "raw": raw(dict(msg))})
    await asyncio.to_thread(call.stop)
    await asyncio.sleep(0.5)
    m.close()
    proc.terminate()
    proc.wait()
    (OUT / "resync_lists.jsonl").write_text("".join(json.dumps(f) + "\n" for f in frames))
    print(f"resync_lists: {len(frames)} frames")


def main() -> None:
    """Record the scenarios named on the command line (default: all)."""
    OUT.mkdir(parents=True, exist_ok=True)
    agent_port = free_port(socket.SOCK_DGRAM)
    inst = AsteriskInstance(ensure_chroot(), "fixtures", AsteriskPorts(
        free_port(), free_port(), free_port(socket.SOCK_DGRAM), *free_port_range(100)),
        AsteriskCredentials("switchboard", "fixture", "switchboard", "fixture"))
    inst.render()
    (inst.generated / "pjsip_agents.conf").write_text(agents_conf(agent_port))
    (inst.generated / "queue_members.conf").write_text(
        "[cs-en](+)\nmember => Local/agent1@sb-agent/n,0,Agent One,PJSIP/agent1\n")
    inst.render = lambda: None  # keep the fixture agent
    inst.start()
    customers = SipCustomers(inst, Path(tempfile.mkdtemp(prefix="sb-fixtures-")))
    answers = {"builtin": "uas", "port": agent_port}
    refuses = {"scenario": "agent_refuses.xml", "port": agent_port}
    scenarios = {
        "answered_call": lambda: scenario(inst, customers, "answered_call", answers, 4),
        "abandoned_call": lambda: scenario(inst, customers, "abandoned_call", None, 3),
        "agent_refused": lambda: scenario(inst, customers, "agent_refused", refuses, 3),
        "hostile_callerid": lambda: scenario(inst, customers, "hostile_callerid", answers, 3,
                                             number="+358401234567",
                                             cname="Evil\" <script>alert(1)</script> {x} [y] ~*?"),
        "resync_lists": lambda: resync_lists(inst, customers),
    }
    try:
        for name in sys.argv[1:] or scenarios:
            asyncio.run(scenarios[name]())
    finally:
        customers.close()
        inst.stop()


if __name__ == "__main__":
    sys.exit(main())
