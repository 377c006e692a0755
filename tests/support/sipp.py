"""Customers that call the way a carrier's calls come: SIP INVITEs from SIPp over the PJSIP trunk.

    customers = SipCustomers(stack, tmp_path)        # the ``customers`` fixture does this, and cleans up
    call = customers.call("+35891000001", "+358401234567", "Maija Virtanen", talk=5)  # talk=None: until hung up
    call.channel()         # its channel in Asterisk, PJSIP/trunk-0000002a (found by the SIP Call-ID)
    call.refresh("update") # Asterisk sends a re-INVITE or UPDATE; returns once the customer answered it
    call.hang_up()         # from the network side: Asterisk sends BYE, the customer answers 200
    outcome = call.wait()  # SIPp's verdict: ok, exit code, calls, the INVITE's final status, who hung up
    call.messages()        # the SIP messages as sent and received (call.invite(): the INVITE)
    customers.call(number, dtmf="12#", dtmf_after=1.0)  # RFC 2833 key presses once answered (IVR tests)
    customers.burst(200, 20, "+35891000001", talk=30).wait(60)  # one SIPp, 20 calls a second

One SIPp process per call (``-m 1``; its own free SIP, media and control ports), started from the real
binary so that the process is SIPp's own. The scenario is tests/sipp/customer.xml; a copy per call gets
what SIPp takes no keywords for (the audio file, the talk clock, key presses after the answer). The
dialled number, the caller's number and name go in as keys (``-key``), so a name may hold anything a SIP
quoted-string can (``;``, quotes, emoji, 200 characters: Asterisk's caller ID keeps 79 bytes of it, the
orchestrator reads it whole from [sb-inbound]). ``burst`` places many calls from one SIPp
process (a rate and a count; per-call numbers from an injection file) for load and fault benchmarks.
"""

from __future__ import annotations

import csv
import math
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from control.asterisk import DEFAULT_CACHE
from control.net import free_port
from tests.support.ami import Ami, AmiError, asterisk_of

SCENARIOS = Path(__file__).resolve().parents[1] / "sipp"
DTMF_PCAPS = Path("/usr/share/sip-tester")  # Debian's sip-tester: dtmf_2833_<digit>.pcap
TRUNK_CHANNEL = "PJSIP/trunk-"
TICK_MS = 200  # the talk clock's tick (customer.xml)
KEY_GAP_MS = 250  # one RFC 2833 key press in the pcaps lasts 140 ms
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KEY_PCAP = {**{d: d for d in "0123456789"}, "*": "star", "#": "pound"}
# SIPp writes one line per timeout of a receive into the error trace: the talk clock's ticks are none.
# Its lines have no line ends: a label's number runs into the next line's date.
_TICK = re.compile(r"\d{4}-\d\d-\d\d\t[\d:.]+\t[\d.]+: Call-Id: \S+, receive timeout on message [^:]+:\d+, "
                   r"jumping to label \d+?(?=\d{4}-\d\d-\d\d\t|\s|$)")


def sipp_binary() -> str:
    """The SIPp executable (Debian's sip-tester)."""
    found = shutil.which("sipp")
    if found is None:
        raise FileNotFoundError("SIPp is not installed: apt-get install sip-tester (scripts/setup.sh --test)")
    return found


def customer_audio(cache: Path = DEFAULT_CACHE / "sipp") -> Path:
    """Three seconds of a rising tone as raw 8 kHz u-law, made once with sox and cached."""
    path = cache / "tone-300-900.ulaw"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", str(tmp),
                        "synth", "3", "sine", "300-900", "vol", "0.5"], check=True, capture_output=True)
        os.replace(tmp, path)
    return path


def sip_quoted(name: str) -> str:
    """``name`` as the inside of a SIP quoted-string: control characters dropped, ``\\`` and ``"`` escaped."""
    return _CONTROL.sub("", name).replace("\\", "\\\\").replace('"', '\\"')


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_sipp_ports() -> tuple[int, int, int]:
    """Free UDP ports for SIPp's SIP, media (it also binds media + 2) and control sockets."""
    sip = free_port(socket.SOCK_DGRAM)
    for _ in range(50):
        media = free_port(socket.SOCK_DGRAM)
        if media != sip and abs(media - sip) > 2 and _udp_free(media + 2):
            break
    else:
        raise RuntimeError("no free media port pair for SIPp")
    control = free_port(socket.SOCK_DGRAM)
    while control in (sip, media, media + 2):
        control = free_port(socket.SOCK_DGRAM)
    return sip, media, control


def key_presses(digits: str, after: float) -> str:
    """Scenario elements that press ``digits`` (RFC 2833 pcaps) ``after`` seconds into the answered call."""
    unknown = set(digits) - set(_KEY_PCAP)
    if unknown:
        raise ValueError(f"no RFC 2833 recording for {''.join(sorted(unknown))!r}")
    parts = [f'<pause milliseconds="{int(after * 1000)}"/>']
    for d in digits:
        pcap = DTMF_PCAPS / f"dtmf_2833_{_KEY_PCAP[d]}.pcap"
        parts += ['<nop><action><exec rtp_stream="pause"/></action></nop>',
                  f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>',
                  f'<pause milliseconds="{KEY_GAP_MS}"/>',
                  '<nop><action><exec rtp_stream="resume"/></action></nop>',
                  f'<pause milliseconds="{KEY_GAP_MS}"/>']
    return "\n  ".join(parts)


def write_scenario(path: Path, *, talk: float | None, dtmf: str = "", dtmf_after: float = 1.0,
                   injected: bool = False, source: str = "customer.xml") -> Path:
    """A copy of ``source`` (customer.xml) for one run: audio, talk clock (None: until Asterisk hangs up),
    key presses; ``injected``: the number, caller and name come from an injection file's fields 0-2."""
    text = (SCENARIOS / source).read_text()
    ticks = 0 if talk is None else max(1, math.ceil(talk * 1000 / TICK_MS))
    text = (text.replace("@AUDIO@", str(customer_audio()))
            .replace("@TICK_MS@", str(0 if talk is None else TICK_MS))
            .replace("@TALK_TICKS@", str(ticks))
            .replace("<!-- @AFTER_ANSWER@ -->", key_presses(dtmf, dtmf_after) if dtmf else ""))
    if injected:
        for i, key in enumerate(("to", "caller_num", "caller_name")):
            text = text.replace(f"[{key}]", f"[field{i}]")
    path.write_text(text)
    return path


@dataclass(frozen=True)
class SipMessage:
    """One SIP message in SIPp's trace, as sent or received by the customer."""

    sent: bool
    text: str

    @property
    def first_line(self) -> str:
        """The request or status line."""
        return self.text.split("\r\n", 1)[0].split("\n", 1)[0]

    def header(self, name: str) -> str | None:
        """The first header ``name`` (case-insensitive), without its name."""
        for line in self.text.splitlines()[1:]:
            if not line.strip():
                return None
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


def read_messages(path: Path) -> list[SipMessage]:
    """The messages in a SIPp ``-trace_msg`` file, in order."""
    if not path.exists():
        return []
    out = []
    for block in re.split(r"^-{20,} .*$", path.read_text(errors="replace"), flags=re.M):
        head, _, body = block.strip("\r\n").partition("\n")
        if " message sent " in head or " message received " in head:
            out.append(SipMessage(" sent " in head, body.strip("\r\n") + "\n"))
    return out


@dataclass(frozen=True)
class Outcome:
    """What SIPp made of its calls."""

    returncode: int  # 0: every call succeeded; 1: at least one failed
    successful: int
    failed: int
    errors: str  # SIPp's error trace (unexpected messages, retransmission timeouts), talk-clock ticks left out
    final_status: int | None = None  # one call: the final response to its INVITE (200, 404, 486 …)
    ended_by: str | None = None  # one call: "network" (Asterisk's BYE) or "customer" (ours); None: refused
    # (a refused call is a failed one: SIPp acknowledged the final response it did not expect)

    @property
    def ok(self) -> bool:
        """Every call went through its scenario (answered, talked, hung up by one side or the other)."""
        return self.returncode == 0 and self.failed == 0 and self.successful > 0


def start_sipp(workdir: Path, args: list[str], *, max_seconds: float | None = None, port: int | None = None,
               ) -> tuple[subprocess.Popen[bytes], int, int]:
    """SIPp (the real binary: the process is SIPp's own) on free loopback ports (its SIP port ``port`` when
    given), with ``args``, its output and files in ``workdir``; the process, its SIP port and media port.
    A port taken between its choice and SIPp's bind (by a media stream of Asterisk or another SIPp) makes
    SIPp exit at once: it is started again on other ports."""
    for _attempt in range(4):
        (workdir / "errors.log").unlink(missing_ok=True)
        sip, media, control = free_sipp_ports()
        sip = port or sip
        argv = [sipp_binary(), *args, "-i", "127.0.0.1", "-p", str(sip), "-mp", str(media), "-cp", str(control),
                "-nostdin", "-trace_err", "-error_file", str(workdir / "errors.log")]
        if max_seconds:
            argv += ["-timeout", f"{int(max_seconds)}s"]
        (workdir / "command").write_text(" ".join(argv) + "\n")
        with (workdir / "sipp.log").open("wb") as out:
            process = subprocess.Popen(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        if not _bind_failed(process, workdir):
            break
    return process, sip, media


def _bind_failed(process: subprocess.Popen[bytes], workdir: Path, within: float = 0.1) -> bool:
    """SIPp exited within ``within`` seconds because a port was taken (its error file says so)."""
    deadline = time.monotonic() + within
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if process.poll() is None:
        return False
    errors = (workdir / "errors.log").read_text(errors="replace") if (workdir / "errors.log").exists() else ""
    return "errno = 98" in errors or "Address already in use" in errors


class SippRun:
    """One SIPp process placing calls into the trunk; its files live in ``workdir``."""

    def __init__(self, target: Any, workdir: Path, scenario: Path, args: list[str], *,
                 max_seconds: float = 600) -> None:
        self.asterisk = asterisk_of(target)
        self.workdir = workdir
        self.stats = workdir / "stats.csv"
        self.error_file = workdir / "errors.log"
        self.process, self.sip_port, self.media_port = start_sipp(workdir, [
            f"127.0.0.1:{self.asterisk.ports.sip_udp}", "-sf", str(scenario), "-trace_stat", "-stf", str(self.stats),
            *args], max_seconds=max_seconds)

    @property
    def pid(self) -> int:
        """SIPp's own process id."""
        return self.process.pid

    @property
    def running(self) -> bool:
        """SIPp has not exited yet."""
        return self.process.poll() is None

    def wait(self, timeout: float = 30) -> Outcome:
        """Wait until SIPp exits; its verdict."""
        try:
            returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"SIPp ({self.workdir}) still running after {timeout} s") from None
        return self.outcome(returncode)

    def outcome(self, returncode: int) -> Outcome:
        """The counts of the statistics file and the error trace."""
        successful = failed = 0
        if self.stats.exists():
            rows = list(csv.reader(self.stats.open(), delimiter=";"))
            if len(rows) > 1:
                last = dict(zip(rows[0], rows[-1], strict=False))
                successful, failed = int(last.get("SuccessfulCall(C)", 0)), int(last.get("FailedCall(C)", 0))
        errors = self.error_file.read_text(errors="replace") if self.error_file.exists() else ""
        errors = _TICK.sub("", errors).replace("The following events occurred:", "").strip()
        return Outcome(returncode, successful, failed, errors)

    def kill(self) -> None:
        """End SIPp at once (its calls are not hung up)."""
        if self.running:
            self.process.kill()
        self.process.wait(10)


class CustomerCall(SippRun):
    """One customer's call (its own SIPp process)."""

    def __init__(self, target: Any, workdir: Path, *, to: str, number: str, name: str, talk: float | None,
                 dtmf: str = "", dtmf_after: float = 1.0, max_seconds: float = 600) -> None:
        workdir.mkdir(parents=True)
        self.to, self.number, self.name = to, number, name
        token = f"sb{secrets.token_hex(6)}"
        self.call_id = f"{token}-1@127.0.0.1"  # -cid_str below; call number 1, SIPp's -i address
        self.message_file = workdir / "messages.log"
        self._channel: str | None = None
        scenario = write_scenario(workdir / "customer.xml", talk=talk, dtmf=dtmf, dtmf_after=dtmf_after)
        super().__init__(target, workdir, scenario, [
            "-m", "1", "-cid_str", f"{token}-%u@%s", "-key", "to", _CONTROL.sub("", to),
            "-key", "caller_num", _CONTROL.sub("", number), "-key", "caller_name", sip_quoted(name),
            "-trace_msg", "-message_file", str(self.message_file)], max_seconds=max_seconds)

    def __repr__(self) -> str:
        return f"<CustomerCall {self.number} -> {self.to} pid {self.pid}>"

    def messages(self) -> list[SipMessage]:
        """The SIP messages of the call so far."""
        return read_messages(self.message_file)

    def invite(self) -> SipMessage:
        """The INVITE as the customer sent it."""
        return next(m for m in self.messages() if m.sent and m.first_line.startswith("INVITE "))

    def channel(self, timeout: float = 10) -> str:
        """The call's channel in Asterisk (``PJSIP/trunk-…``), found by its SIP Call-ID."""
        if self._channel is not None:
            return self._channel
        deadline = time.monotonic() + timeout
        seen: dict[str, str] = {}
        with Ami(self.asterisk) as ami:
            while True:
                for ch in ami.channels():
                    name = ch.get("Channel", "")
                    if name.startswith(TRUNK_CHANNEL) and name not in seen:
                        try:
                            seen[name] = ami.getvar(name, "CHANNEL(pjsip,call-id)")
                        except AmiError:  # gone meanwhile
                            continue
                        if seen[name] == self.call_id:
                            self._channel = name
                            return name
                if time.monotonic() > deadline or not self.running:
                    ended = "" if self.running else " (the call ended before its channel was looked up)"
                    raise AssertionError(f"no trunk channel in Asterisk for {self!r} ({self.call_id}){ended}")
                time.sleep(0.1)

    def hang_up(self, cause: int = 16) -> None:
        """Asterisk hangs the customer up (AMI Hangup of the channel): it sends BYE, the customer answers."""
        with Ami(self.asterisk) as ami:
            ami.action("Hangup", Channel=self.channel(), Cause=str(cause))

    def answered(self, method: str) -> int:
        """How many in-dialog ``method`` requests (INVITE, UPDATE, BYE) the customer has answered 200."""
        return sum(1 for m in self.messages() if m.sent and m.first_line == "SIP/2.0 200 OK"
                   and (m.header("CSeq") or "").split()[-1:] == [method])

    def refresh(self, method: str = "invite", timeout: float = 5) -> None:
        """Asterisk sends the customer an in-dialog re-INVITE (``invite``) or ``update`` (a session refresh,
        PJSIP_SEND_SESSION_REFRESH); returns once the customer answered it 200, as a carrier does."""
        before = self.answered(method.upper())
        with Ami(self.asterisk) as ami:
            ami.action("Setvar", Channel=self.channel(), Variable="PJSIP_SEND_SESSION_REFRESH()", Value=method)
        deadline = time.monotonic() + timeout
        while self.answered(method.upper()) == before:
            assert time.monotonic() < deadline, f"the customer did not answer Asterisk's {method.upper()}"
            time.sleep(0.05)

    def outcome(self, returncode: int) -> Outcome:
        """SIPp's counts, and from the message trace the INVITE's final status and who sent the BYE."""
        base = super().outcome(returncode)
        final, ended_by = None, None
        for m in self.messages():
            line = m.first_line
            if final is None and not m.sent and line.startswith("SIP/2.0 ") and "INVITE" in (m.header("CSeq") or ""):
                code = int(line.split()[1])
                final = code if code >= 200 else None
            if line.startswith("BYE ") and ended_by is None:
                ended_by = "customer" if m.sent else "network"
        return Outcome(base.returncode, base.successful, base.failed, base.errors, final, ended_by)

    def stop(self, grace: float = 3) -> None:
        """End the call if it still runs: hung up from the network side, SIPp killed if it lingers."""
        if not self.running:
            return
        try:
            self.hang_up()
        except (AssertionError, AmiError, OSError):
            pass  # not in Asterisk (any more)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()


class SipCustomers:
    """Places customers' calls over the trunk of one Asterisk (a ``Stack`` or an ``AsteriskInstance``)."""

    def __init__(self, target: Any, workdir: Path) -> None:
        self.target = target
        self.workdir = Path(workdir)
        self.runs: list[SippRun] = []

    def call(self, to: str, number: str = "+358401234567", name: str = "", *, talk: float | None = None,
             dtmf: str = "", dtmf_after: float = 1.0, max_seconds: float = 600) -> CustomerCall:
        """A customer calls ``to`` (a queue's number, an agent's work number, any number) from ``number``
        with caller name ``name``, sends audio once answered, and hangs up after ``talk`` seconds (None:
        talks until Asterisk hangs up); ``dtmf``: keys pressed ``dtmf_after`` seconds after the answer."""
        call = CustomerCall(self.target, self.workdir / f"call-{len(self.runs) + 1}", to=to, number=number,
                            name=name, talk=talk, dtmf=dtmf, dtmf_after=dtmf_after, max_seconds=max_seconds)
        self.runs.append(call)
        return call

    def burst(self, n: int, rate: float, to: str, talk: float | None, *, numbers: list[str] | None = None,
              names: list[str] | None = None, max_seconds: float = 600) -> SippRun:
        """``n`` customers call ``to`` at ``rate`` calls a second from one SIPp process, each talking ``talk``
        seconds (None: until Asterisk hangs up); numbers default to +358409000001…, names to "Load Caller
        <i>" (no ``;`` in bulk names)."""
        workdir = self.workdir / f"burst-{len(self.runs) + 1}"
        workdir.mkdir(parents=True)
        numbers = numbers or [f"+358409{i:06d}" for i in range(1, n + 1)]
        names = names or [f"Load Caller {i}" for i in range(1, n + 1)]
        if len(numbers) < n or len(names) < n:
            raise ValueError("a number and a name for each call")
        rows = []
        for number, name in zip(numbers[:n], names[:n], strict=True):
            if ";" in number + name or _CONTROL.search(number + name):
                raise ValueError(f"an injection file cannot hold {number!r} / {name!r}")
            rows.append(f"{_CONTROL.sub('', to)};{number};{sip_quoted(name)}\n")
        injection = workdir / "calls.csv"
        injection.write_text("SEQUENTIAL\n" + "".join(rows))
        scenario = write_scenario(workdir / "customer.xml", talk=talk, injected=True)
        # A call whose far end vanished (Asterisk restarted between a re-INVITE's 200 and its ACK) would wait
        # forever: any wait longer than the call itself plus a minute aborts that call (it counts as failed).
        patience = ["-recv_timeout", str(int(((talk or 0) + 60) * 1000))]
        run = SippRun(self.target, workdir, scenario, ["-m", str(n), "-r", str(rate), "-l", str(n),
                                                       "-inf", str(injection), *patience], max_seconds=max_seconds)
        self.runs.append(run)
        return run

    def running(self) -> list[CustomerCall]:
        """The single calls whose SIPp still runs."""
        return [r for r in self.runs if isinstance(r, CustomerCall) and r.running]

    def hang_up_all(self) -> None:
        """Every call of ours still up ends from the network side (Asterisk's BYE)."""
        for call in self.running():
            call.stop()

    def close(self) -> None:
        """Stop everything still running (a fixture's teardown: also after a failed test)."""
        self.hang_up_all()
        for run in self.runs:
            run.kill()


def burst(target: Any, n: int, rate: float, to: str, talk_ms: int, *, workdir: Path | None = None,
          timeout: float | None = None) -> Outcome:
    """``n`` customers call ``to`` at ``rate`` a second, each hangs up after ``talk_ms``; SIPp's verdict."""
    import tempfile

    base = Path(workdir or tempfile.mkdtemp(prefix="sb-sipp-burst-"))
    customers = SipCustomers(target, base)
    try:
        run = customers.burst(n, rate, to, talk_ms / 1000)
        return run.wait(timeout or n / rate + talk_ms / 1000 + 30)
    finally:
        customers.close()


class SippUas:
    """A SIPp that answers the calls Asterisk sends it, until stopped: the carrier of the trunk's outbound
    calls (tests/sipp/carrier_uas.xml: answers, sends audio, answers re-INVITE, UPDATE and BYE), or a
    stand-in for an agent's SIP phone (``static_agent_conf``): ``builtin="uas"`` answers, the scenario
    agent_refuses.xml refuses."""

    def __init__(self, workdir: Path, *, builtin: str = "", scenario: str = "carrier_uas.xml",
                 port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.message_file = self.workdir / "messages.log"
        if builtin:
            how = ["-sn", builtin]
        else:
            how = ["-sf", str(write_scenario(self.workdir / scenario, talk=None, source=scenario))]
        self.process, self.port, self.media_port = start_sipp(
            self.workdir, [*how, "-trace_msg", "-message_file", str(self.message_file)], port=port)

    @property
    def contact(self) -> str:
        """Its SIP URI, for an AOR's ``contact``."""
        return f"sip:127.0.0.1:{self.port}"

    def invites(self) -> list[SipMessage]:
        """The calls it was sent (the first INVITE of each dialog), oldest first."""
        return [m for m in read_messages(self.message_file) if not m.sent and m.first_line.startswith("INVITE ")
                and ";tag=" not in (m.header("To") or "")]

    def invite_to(self, number: str, timeout: float = 10) -> SipMessage:
        """The newest call to ``number`` (the request URI's user), waiting for it up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.invites() if m.first_line.split()[1].startswith(f"sip:{number}@")]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no INVITE for {number} reached {self.contact}")
            time.sleep(0.1)

    def stop(self) -> None:
        """End it (calls still up are not hung up)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def static_agent_conf(agent: str, contact: str, name: str = "") -> str:
    """pjsip.conf lines for a stand-in of ``agent``'s phone: a plain SIP endpoint (UDP, no WebRTC, no RTP
    timeout) whose contact is fixed (e.g. a ``SippUas(builtin="uas")``), on the agents' templates."""
    callerid = f'callerid = "{sip_quoted(name or agent)}" <{agent}>\n'
    return (f"[{agent}](sb-agent-endpoint)\nauth = {agent}\naors = {agent}\ntransport = transport-udp\n"
            f"webrtc = no\nallow = ulaw\nrtp_timeout = 0\nrtp_timeout_hold = 0\n{callerid}"
            f"[{agent}](sb-agent-auth)\nusername = {agent}\nmd5_cred = {'0' * 32}\n"
            f"[{agent}](sb-agent-aor)\ncontact = {contact}\n")
