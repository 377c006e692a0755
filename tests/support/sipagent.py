"""SIP-phone agents played by SIPp: any number of agents registered as SIP-phone agents (device ``sip``),
their phones all answered by one SIPp process (tests/sipp/agent_uas.xml).

    from tests.support.sipagent import SipAgentPhones, make_sip_agents

    names = [f"load{i:02}" for i in range(50)]
    make_sip_agents(stack, names, queues=["cs-en"])      # in the database, device sip, provisioned in Asterisk
    with SipAgentPhones(stack, names, answer_after=1.0, talk_time=30.0) as phones:
        ...                                              # every agent registered and reachable (qualified)
        phones.invites()                                 # calls rung so far (any agent; ``trace=True``)
    # leaving the block unregisters every agent and stops the UAS

``stack`` is a running ``control.stack.Stack`` (the ``stack`` fixture). One REGISTER scenario
(tests/sipp/agent_register.xml) registers every agent, reading ``user;password`` lines from an injection
file (the passwords derived from the stack's secret key and each agent's key generation, as the web app
and Asterisk derive them), each with its contact at the UAS process's port; Asterisk's qualify then
finds them reachable. The UAS answers whichever agent an INVITE is for (the Request-URI's user differs),
``answer_after`` seconds after it rang, and hangs up after ``talk_time`` (0: waits for Asterisk's BYE).
Registrations last an hour: a longer run calls ``phones.register()`` again. ``trace=False`` keeps no
message log (for long load runs; ``invites()`` and ``received()`` then count nothing).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

from control.net import free_port
from switchboard.sip import SIP, derive_sip_password
from tests.support.sipp import customer_audio

SCENARIOS = Path(__file__).resolve().parent.parent / "sipp"
SIPP = shutil.which("sipp") or "/usr/bin/sipp"
REGISTER_EXPIRES = 3600  # seconds; a longer run re-registers (register() again)


class SipAgentError(RuntimeError):
    """SIPp or Asterisk did not do what the SIP-phone agents needed."""


def make_sip_agents(stack, names: Iterable[str], queues: Sequence[str] = ("cs-en",), *,  # noqa: ANN001
                    password: str = "switchboard", timeout: float = 15.0) -> None:
    """Agents ``names`` in the stack's database with the SIP-phone device and ``queues`` (created when
    missing), provisioned into Asterisk: returns once Asterisk has every endpoint from the SIP template."""
    from switchboard.store import Store

    settings = stack.settings
    store = Store(settings.database_url)
    try:
        existing = {a.sip_username for a in store.list_agents()}
        for name in names:
            if name not in existing:
                store.create_user(name, password, name.title(), sip_username=name,
                                  sip_password=derive_sip_password(settings.secret_key, name, 1))
            store.set_device(name, SIP)
            store.add_member(name, list(queues))
    finally:
        store.engine.dispose()
    provision(stack, names, SIP, timeout)


def provision(stack, names: Iterable[str], device: str, timeout: float = 15.0) -> None:  # noqa: ANN001
    """Ask the orchestrator to provision again; wait until Asterisk has each endpoint of ``names`` as ``device``."""
    import redis

    from switchboard.commands import encode
    from switchboard.contracts import COMMAND_CHANNEL, PROVISION

    redis.Redis.from_url(stack.settings.redis_url).publish(COMMAND_CHANNEL, encode(PROVISION))
    want_webrtc = "yes" if device != SIP else "no"
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending:
        out = stack.asterisk.cli(f"pjsip show endpoint {pending[0]}", check=False).stdout
        if re.search(rf"^\s*webrtc\s*:\s*{want_webrtc}\s*$", out, re.MULTILINE):
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            raise SipAgentError(f"Asterisk has no {device} endpoint {pending[0]} after {timeout} s")
        time.sleep(0.1)


class SipAgentPhones:
    """The phones of SIP-phone agents: one SIPp UAS for all of them, and their registrations."""

    def __init__(self, stack, agents: Sequence[str], *, answer_after: float = 1.0, talk_time: float = 0.0,  # noqa: ANN001
                 transport: str = "udp", workdir: Path | None = None, trace: bool = True,
                 scenario: str = "agent_uas.xml") -> None:
        """``answer_after``: seconds a phone rings before it answers; ``talk_time``: seconds before the agent
        hangs up (0: until Asterisk does); ``trace``: keep SIPp's message log (``messages()``); ``scenario``:
        what the phones do, from tests/sipp/ (``agent_declines.xml``: ring ``answer_after`` s, then decline)."""
        if transport not in ("udp", "tcp"):
            raise ValueError("transport is udp or tcp")
        self.stack = stack
        self.agents = list(agents)
        self.answer_after = answer_after
        self.talk_time = talk_time
        self.transport = transport
        self.trace = trace
        self.scenario = scenario
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="sb-sipagents-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port(socket_kind(transport))
        self.media_port = _free_media_port()
        self.uas: subprocess.Popen[bytes] | None = None

    # -- lifecycle -----------------------------------------------------------------------------------
    def __enter__(self) -> SipAgentPhones:
        try:
            self.start()
        except BaseException:
            self.stop()  # a UAS that started, registrations made, the files
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self, timeout: float = 20.0) -> None:
        """Start the phones' UAS, register every agent, and wait until Asterisk reaches each of them."""
        audio = customer_audio()
        scenario = (SCENARIOS / self.scenario).read_text()
        scenario = (scenario.replace("@ANSWER_MS@", str(max(1, round(self.answer_after * 1000))))
                    .replace("@TALK_MS@", str(round(self.talk_time * 1000))).replace("@AUDIO@", str(audio)))
        (self.dir / self.scenario).write_text(scenario)
        argv = [SIPP, "-sf", str(self.dir / self.scenario), "-i", "127.0.0.1", "-p", str(self.port),
                "-t", _sipp_transport(self.transport), "-mp", str(self.media_port), "-nostdin",
                "-trace_err", "-error_file", str(self.dir / "uas_errors.log")]
        if self.trace:
            argv += ["-trace_msg", "-message_file", str(self.dir / "uas_messages.log")]
        log = (self.dir / "uas.out").open("ab")
        self.uas = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=str(self.dir), start_new_session=True)
        time.sleep(0.2)
        if self.uas.poll() is not None:
            raise SipAgentError(f"SIPp UAS exited with {self.uas.returncode}: {self._tail('uas.out')}")
        self.register()
        self.wait_reachable(timeout=timeout)

    def register(self, expires: int = REGISTER_EXPIRES, *, rate: int = 50, timeout: float = 30.0) -> None:
        """REGISTER every agent (digest auth) with its contact at the UAS, ``rate`` per second; ``expires=0``
        unregisters. Raises SipAgentError when any registration failed (SIPp's errors in the message)."""
        settings = self.stack.settings
        generations = _generations(self.stack)
        lines = ["SEQUENTIAL"] + [f"{a};{derive_sip_password(settings.secret_key, a, generations.get(a, 1))}"
                                  for a in self.agents]
        users = self.dir / "users.csv"
        users.write_text("\n".join(lines) + "\n")
        users.chmod(0o600)
        port = self.stack.asterisk.ports.sip_udp if self.transport == "udp" else self.stack.asterisk.ports.sip_tcp_port
        argv = [SIPP, f"127.0.0.1:{port}", "-sf", str(SCENARIOS / "agent_register.xml"), "-inf", str(users),
                "-key", "uas_port", str(self.port), "-key", "expires", str(expires), "-i", "127.0.0.1",
                "-p", str(free_port(socket_kind(self.transport))), "-t", _sipp_transport(self.transport),
                "-m", str(len(self.agents)), "-r", str(rate), "-l", str(max(1, rate // 2)), "-nostdin",
                "-timeout", f"{timeout:g}s",
                "-trace_err", "-error_file", str(self.dir / "register_errors.log")]
        with (self.dir / "register.out").open("ab") as log:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                  cwd=str(self.dir), timeout=timeout + 30)
        if proc.returncode != 0:
            raise SipAgentError(f"REGISTER of {len(self.agents)} agents failed (SIPp exit {proc.returncode}): "
                                f"{self._tail('register_errors.log')}")

    def reachable(self) -> set[str]:
        """The agents whose contact Asterisk has qualified (``Avail`` in ``pjsip show contacts``)."""
        out = self.stack.asterisk.cli("pjsip show contacts", check=False).stdout
        return {m.group(1) for m in re.finditer(r"^\s*Contact:\s+([^/\s]+)/\S+\s+\S+\s+Avail\b", out, re.MULTILINE)}

    def wait_reachable(self, agents: Iterable[str] | None = None, timeout: float = 20.0) -> None:
        """Wait until Asterisk reaches each agent's phone (registered and answering its qualify)."""
        want = set(agents or self.agents)
        deadline = time.monotonic() + timeout
        while not want <= self.reachable():
            if time.monotonic() > deadline:
                raise SipAgentError(f"not reachable after {timeout} s: {sorted(want - self.reachable())[:10]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Unregister the agents and stop the UAS."""
        try:
            if self.uas is not None and self.uas.poll() is None:
                self.register(expires=0, timeout=5)
        except (SipAgentError, subprocess.TimeoutExpired):
            pass  # the stack may be gone already
        finally:
            if self.uas is not None and self.uas.poll() is None:
                self.uas.send_signal(signal.SIGTERM)  # by its own pid: SIPp runs in the foreground of this job
                try:
                    self.uas.wait(5)
                except subprocess.TimeoutExpired:
                    self.uas.kill()
                    self.uas.wait(5)
            if self._own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)

    # -- what the phones saw -----------------------------------------------------------------------------
    def messages(self) -> str:
        """SIPp's message log of the UAS so far (``trace=True``)."""
        path = self.dir / "uas_messages.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def received(self, method: str, agent: str | None = None, *, in_dialog: bool | None = None) -> int:
        """How many ``method`` requests (INVITE, BYE, CANCEL...) the phones received; for ``agent`` only (the
        Request-URI's user: in-dialog requests come to the contact the phone answered with, which names
        the agent too); ``in_dialog`` True/False: only those with/without a To tag."""
        user = re.escape(agent) if agent else r"[^@\s]+"
        start = re.compile(rf"^\s*{method} sip:{user}@")
        count = 0
        for block in re.split(r"received \[\d+\] bytes :", self.messages())[1:]:
            if not start.match(block):
                continue
            to = re.search(r"^\s*To:.*$", block, re.MULTILINE)
            if in_dialog is None or (bool(to) and ";tag=" in to.group(0)) == in_dialog:
                count += 1
        return count

    def invites(self, agent: str | None = None) -> int:
        """Calls rung on the phones (initial INVITEs, not re-INVITEs), for one ``agent`` or all."""
        return self.received("INVITE", agent, in_dialog=False)

    def _tail(self, name: str) -> str:
        path = self.dir / name
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


def socket_kind(transport: str) -> int:
    """The socket type of a SIP transport."""
    import socket

    return socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM


def _sipp_transport(transport: str) -> str:
    return "u1" if transport == "udp" else "t1"


def _free_media_port() -> int:
    """An even UDP port with the next three free too (SIPp's audio and video ports)."""
    from control.net import free_port_range

    return free_port_range(4)[0]


def _generations(stack) -> dict[str, int]:  # noqa: ANN001
    """Each agent's SIP key generation (a rotated password is the next one)."""
    from switchboard.store import Store

    store = Store(stack.settings.database_url)
    try:
        return {a.sip_username: a.sip_generation for a in store.list_agents()}
    finally:
        store.engine.dispose()
