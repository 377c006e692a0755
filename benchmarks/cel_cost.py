"""What the call ledger costs Asterisk: the same burst of queue calls with CEL off, with the ledger as
configured (cel_custom: one line appended to a file per event), and with cel_sqlite3_custom (an INSERT
per event) for comparison.

Each run starts a fresh Asterisk instance of asterisk-conf/ with AGENTS agents (SIPp answers for all of
them and hangs up after TALK seconds) in cs-en, then SIPp customers call cs-en over the trunk at RATE calls
per second. No audio flows (neither SIPp sends RTP): what is left to measure is signalling, dialplan,
queue and CEL. Reported per run: Asterisk's CPU seconds during the burst (utime + stime of its process),
CPU per call, SIPp's INVITE -> 200 response time (p50, p95), the ledger's lines and bytes per call.

Run: .venv/bin/python -m benchmarks.cel_cost [--calls 200] [--rate 20] [--talk 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from control.asterisk import AsteriskCredentials, AsteriskInstance, AsteriskPorts, ensure_chroot
from control.net import free_port, free_port_range

ROOT = Path(__file__).resolve().parent.parent
AGENTS = 150
AGENT_UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="agent answers, talks, hangs up">
  <recv request="INVITE" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="caller"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="me"/>
    </action>
  </recv>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]agent[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:agent@[local_ip]:[local_port]>
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
  <recv request="ACK"/>
  <pause milliseconds="@TALK_MS@"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: [$me];tag=[pid]agent[call_number]
To: [$caller]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""
SQLITE_CONF = """[ledger]
table = cel
columns = eventenum, eventtime, uniqueid, linkedid, channame, num, name, userdeftype, eventextra
fields = eventenum, eventtime, uniqueid, linkedid, channame, num, name, userdeftype, eventextra
"""

def agents_conf(port: int) -> str:
    """AGENTS agents whose phones are one SIPp process on ``port``."""
    return "".join(
        f"[b{n}](sb-agent-endpoint)\naors = b{n}\ntransport = transport-udp\nwebrtc = no\nallow = ulaw\n"
        f"rtp_timeout = 0\nsend_connected_line = no\n[b{n}](sb-agent-aor)\ncontact = sip:b{n}@127.0.0.1:{port}\n"
        for n in range(AGENTS))


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(mode: str, calls: int, rate: int, talk: float, work: Path) -> dict[str, float]:
    """One burst against a fresh instance; ``mode``: off | ledger | sqlite."""
    agent_port = free_port(socket.SOCK_DGRAM)
    rtp = free_port_range(2000)  # 2 RTP ports per leg, 2 legs per call
    inst = AsteriskInstance(ensure_chroot(), f"celcost-{mode}-{os.getpid()}", AsteriskPorts(
        free_port(), free_port(), free_port(socket.SOCK_DGRAM), *rtp),
        AsteriskCredentials("switchboard", "bench", "switchboard", "bench"))
    inst.render()
    (inst.generated / "pjsip_agents.conf").write_text(agents_conf(agent_port))
    (inst.generated / "queue_members.conf").write_text("[cs-en](+)\n" + "".join(
        f"member => Local/b{n}@sb-agent/n,0,b{n},PJSIP/b{n}\n" for n in range(AGENTS)))
    if mode == "off":
        (inst.etc / "cel.conf").write_text("[general]\nenable = no\n")
    elif mode == "sqlite":
        (inst.etc / "cel_custom.conf").write_text("")
        (inst.etc / "cel_sqlite3_custom.conf").write_text(SQLITE_CONF)
        modules = (inst.etc / "modules.conf").read_text().replace("load = cel_custom.so",
                                                                  "load = cel_sqlite3_custom.so")
        (inst.etc / "modules.conf").write_text(modules)
    inst.render = lambda: None  # type: ignore[method-assign]
    inst.ledger_file.unlink(missing_ok=True)
    inst.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        agent_xml = work / "agent.xml"
        agent_xml.write_text(AGENT_UAS.replace("@TALK_MS@", str(int(talk * 1000))))
        procs.append(subprocess.Popen(["sipp", "-sf", str(agent_xml), "-i", "127.0.0.1", "-p", str(agent_port),
                                       "-nostdin", "-m", str(calls), "-trace_err"], cwd=work, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        scenario = (ROOT / "tests" / "sipp" / "customer.xml").read_text()
        scenario = scenario.replace('<exec rtp_stream="@AUDIO@,-1,0"/>', "").replace("@TALK_MS@", "0")
        customer_xml = work / "customer.xml"
        customer_xml.write_text(scenario)
        time.sleep(0.5)
        assert inst.process is not None
        pid = inst.process.pid
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        customer = subprocess.Popen(
            ["sipp", f"127.0.0.1:{inst.ports.sip_udp}", "-sf", str(customer_xml), "-i", "127.0.0.1", "-p",
             str(free_port(socket.SOCK_DGRAM)), "-m", str(calls), "-r", str(rate), "-l", str(calls), "-nostdin",
             "-key", "to", "+35891000001", "-key", "caller_num", "+358401234567", "-key", "caller_name", "Bench",
             "-trace_rtt", "-rtt_freq", "1", "-trace_err"], cwd=work, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        procs.append(customer)
        time.sleep(calls / rate + talk)
        deadline = time.monotonic() + 120
        while "0 active calls" not in inst.cli("core show channels count", check=False).stdout:
            assert time.monotonic() < deadline, "calls still up after 120 s"
            time.sleep(0.2)
        cpu, took = cpu_seconds(pid) - cpu0, time.monotonic() - t0
        customer.wait(60)  # SIPp lingers ~30 s after its last call
        rtts = []
        for path in work.glob("customer_*_rtt.csv"):
            rows = [r.split(";") for r in path.read_text().splitlines()[1:]]
            rtts += [float(r[1]) for r in rows if len(r) > 1]
            path.unlink()
        for path in work.glob("*_errors.log"):
            print(path.read_text()[-2000:])
        ledger = inst.ledger_file
        if os.environ.get("CEL_COST_DEBUG") and ledger.exists():
            from collections import Counter
            kinds = Counter((r.split(",")[0], r.split(",")[4].split("/")[0]) for r in ledger.read_text().splitlines())
            print(kinds.most_common(12))
        lines = len(ledger.read_bytes().splitlines()) if mode == "ledger" and ledger.exists() else 0
        size = ledger.stat().st_size if mode == "ledger" and ledger.exists() else 0
        database = inst.base / "log" / "ledger.db"
        if mode == "sqlite" and database.exists():
            with sqlite3.connect(database) as db:
                lines = db.execute("SELECT count(*) FROM cel").fetchone()[0]
            size = database.stat().st_size
        return {"cpu_s": cpu, "cpu_ms_per_call": cpu / calls * 1000, "seconds": took, "sipp_exit": customer.returncode,
                "rtt_p50_ms": statistics.median(rtts) if rtts else float("nan"),
                "rtt_p95_ms": sorted(rtts)[int(0.95 * (len(rtts) - 1))] if rtts else float("nan"),
                "records_per_call": lines / calls, "bytes_per_call": size / calls}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(5)
        inst.stop()
        if not os.environ.get("CEL_COST_DEBUG"):
            shutil.rmtree(inst.base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run the three bursts and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rate", type=int, default=20)
    parser.add_argument("--talk", type=float, default=5.0)
    parser.add_argument("--modes", default="off,ledger,sqlite")
    args = parser.parse_args(argv)
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory(prefix=f"sb-celcost-{mode}-") as tmp:
            result = run(mode, args.calls, args.rate, args.talk, Path(tmp))
        print(mode, " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
