"""The whole stack as child processes: Redis, the Salesforce emulator, Asterisk, orchestrator, worker, web.

Used by ``switchboard demo`` and by the integration and end-to-end tests, so both run the same thing.
A child that dies is restarted and none outlives the process that started it (control.supervisor).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from control.asterisk import AsteriskCredentials, AsteriskInstance, AsteriskPorts, ensure_chroot
from control.net import free_port, free_port_range
from control.supervisor import Backoff, Supervisor
from switchboard.config import Settings, plugin_sections, settings_env
from switchboard.outbound import dialplan_globals
from switchboard.process import die_with_parent
from switchboard.sip import derive_sip_password
from switchboard.store import Store, upgrade

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "switchboard"
DEMO_ADMIN = ("admin", "Alex Admin")  # role admin: the admin pages (/admin/omni), no phone
ORCHESTRATOR_NICE = -10  # the orchestrator's scheduling priority in a stack run as root
DEMO_QUEUES = (
    ("cs-en", "Customer Service EN", "+35891000001"),
    ("cs-fi", "Customer Service FI", "+35891000002"),
    ("sales", "Sales", "+35891000003"),
)
DEMO_AGENTS = (
    ("agent1", "Anna Agent", ("cs-en", "cs-fi", "sales")),
    ("agent2", "Ben Agent", ("cs-en", "sales")),
    ("agent3", "Carla Agent", ("cs-fi",)),
)
DEMO_COMPANY_NUMBER = "+35891000000"
# Availability statuses (seed 1.2.2 types: available, busy, dnd, offwork) with optional minutes.
DEMO_STATUSES = (
    ("Available", "available", None),
    ("Busy", "busy", None),
    ("Busy (60 min)", "busy", 60),
    ("DND (30 min)", "dnd", 30),
    ("DND", "dnd", None),
    ("Lunch (45 min)", "offwork", 45),
    ("OffWork", "offwork", None),
)
# Agent profiles (switchboard.profiles): name, pick mode, skill level per queue (1..10). No demo agent uses one
# until they choose it (login page, phone page, `switchboard profile use`).
DEMO_PROFILES = (
    ("Finnish specialist", False, {"cs-fi": 9, "cs-en": 4}),
    ("English front line", False, {"cs-en": 8, "cs-fi": 2}),
    ("Picker", True, {"cs-en": 5, "cs-fi": 5}),
)
# Wrap-up per queue: seconds, codes, code required (seed 003 section 6).
# The demo's plugins (`switchboard demo`): smart routing on the emulator's records with the demo rules
# (plugins/salesforce_rules/demo_rules.yaml). Test stacks leave them out: their calls route by number.
DEMO_PLUGINS = {"salesforce_rules": {"rules_file": "demo"}}
DEMO_WRAPUP = {"sales": (30, ["No Note", "Manager Request", "Threat/Harassment"], True)}
# No carrier in the demo: agents' outbound calls reach a local customer that answers and talks (the tests
# have a carrier: Stack(trunk_contact=...)).
DEMO_OUTBOUND_DIAL = "Local/{number}@sb-demo-customer"
DEMO_SF_USER = ("integration@switchboard.demo", "switchboard-demo", "DEMOTOKEN123")  # sfemu/auth.py


class StackError(RuntimeError):
    """Raised when a part of the stack does not start."""


@dataclass
class Child:
    """One supervised process of the stack; a restart replaces ``process`` and its output goes on in ``log``."""

    name: str
    log: Path
    argv: list[str] = field(default_factory=list)
    log_start: int = 0  # where the current process's output begins in ``log``
    nice: int = 0  # scheduling priority (negative: before others when the CPUs are busy)
    process: subprocess.Popen[bytes] = field(init=False)


def _wait(check: Callable[[], bool], what: str, timeout: float, proc: Child | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.process.poll() is not None:
            tail = proc.log.read_text(errors="replace")[-3000:] if proc.log.exists() else ""
            raise StackError(f"{what} exited with {proc.process.returncode}:\n{tail}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise StackError(f"{what} not ready after {timeout} s")


def _http_ok(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=2) as r:
        return 200 <= r.status < 400


def _log_has(path: Path, text: str, start: int = 0) -> bool:
    if not path.exists():
        return False
    with path.open("rb") as fh:
        fh.seek(start)
        return text.encode() in fh.read()


def seed_demo(store: Store, secret_key: str) -> None:
    """Demo service pools and agents (idempotent)."""
    for name, label, number in DEMO_QUEUES:
        store.upsert_queue(name, label, number)
    existing = {a.sip_username for a in store.list_agents()}
    for sip, display, queues in DEMO_AGENTS:
        if sip not in existing:
            store.create_user(sip, DEMO_PASSWORD, display, sip_username=sip,
                              sip_password=derive_sip_password(secret_key, sip, 1))
        store.add_member(sip, queues)
    if store.find_user(DEMO_ADMIN[0]) is None:
        store.create_user(DEMO_ADMIN[0], DEMO_PASSWORD, DEMO_ADMIN[1], role="admin")
    for name, kind, minutes in DEMO_STATUSES:
        store.upsert_status(name, kind, minutes)
    for queue, (seconds, codes, required) in DEMO_WRAPUP.items():
        store.set_queue_wrapup(queue, seconds, codes, required)
    for name, pick_mode, skills in DEMO_PROFILES:
        store.save_profile(name, pick_mode=pick_mode)
        for queue, level in skills.items():
            store.set_profile_skill(name, queue, level)


class Stack:
    """Starts and stops every Switchboard process for one named run in ``workdir``."""

    def __init__(self, workdir: Path, name: str, *, demo: bool = True, web_port: int | None = None,
                 log: Callable[[str], None] = print, sf_seed: str = "demo", backoff: Backoff | None = None,
                 rtp_ports: int = 2000, trunk_contact: str = "", workers: int = 2,
                 plugins: Mapping[str, Any] | None = None, overrides: Mapping[str, Any] | None = None) -> None:
        self.workdir = Path(workdir)
        self.plugins = plugin_sections(plugins)  # the ``plugins`` setting: which plugins, configured how
        self.overrides = dict(overrides or {})  # any other settings (e.g. omni_sync), as Settings fields
        # RQ workers run one job at a time, mostly waiting on Redis, the database and Salesforce: two take
        # twice the jobs (at 20 calls a second one fell ~10 s behind). They share the flusher's and the
        # ledger reconciler's leases, so those still run one at a time.
        self.workers = max(1, workers)
        # RTP and RTCP take two ports per media stream, one stream per SIP leg: 2000 ports carry 500 legs
        # (a 200-call load run with a customer's and an agent's leg each needs 800). Too few and Asterisk
        # answers new INVITEs 488 Not Acceptable Here.
        self.rtp_ports = rtp_ports
        self.trunk_contact = trunk_contact  # a carrier behind the trunk: outbound calls go to it (tests)
        self.name = name
        self.demo = demo
        self.sf_seed = sf_seed
        self.log = log
        self.children: list[Child] = []
        self.asterisk: AsteriskInstance | None = None
        self.settings: Settings | None = None
        self._web_port = web_port
        self.backoff = backoff
        self._supervisor: Supervisor | None = None
        self._killed: dict[str, int] = {}  # restart count of a child when kill_child killed it

    # -- configuration -------------------------------------------------------------------------------
    @property
    def database_file(self) -> Path:
        """The stack's SQLite database."""
        return self.workdir / "switchboard.db"

    def _secret_key(self) -> str:
        path = self.workdir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def _configure(self) -> Settings:
        self.workdir.mkdir(parents=True, exist_ok=True)
        rtp = free_port_range(self.rtp_ports)
        ports = AsteriskPorts(http=free_port(), ami=free_port(), sip_udp=free_port(socket.SOCK_DGRAM),
                              rtp_start=rtp[0], rtp_end=rtp[1], sip_tcp=free_port())
        creds = AsteriskCredentials("switchboard", secrets.token_hex(16), "switchboard", secrets.token_hex(16))
        self.asterisk = AsteriskInstance(ensure_chroot(log=self.log), self.name, ports, creds)
        self.redis_port = free_port()
        self.sf_port = free_port()
        web_port = self._web_port or free_port()
        settings = Settings(
            database_url=f"sqlite:///{self.database_file}",
            redis_url=f"redis://127.0.0.1:{self.redis_port}/0",
            ami_host="127.0.0.1", ami_port=ports.ami, ami_username=creds.ami_username, ami_secret=creds.ami_secret,
            ari_url=f"http://127.0.0.1:{ports.http}", ari_username=creds.ari_username,
            ari_password=creds.ari_password, asterisk_generated_dir=str(self.asterisk.generated),
            sip_ws_url=f"ws://127.0.0.1:{ports.http}/ws", sip_domain="127.0.0.1",
            sip_udp_port=ports.sip_udp, sip_tcp_port=ports.sip_tcp_port,
            web_host="127.0.0.1", web_port=web_port, public_url=f"http://127.0.0.1:{web_port}",
            secret_key=self._secret_key(), recordings_dir=str(self.asterisk.base / "spool" / "monitor"),
            ledger_path=str(self.asterisk.ledger_file),
            sf_auth="password", sf_username=DEMO_SF_USER[0], sf_password=DEMO_SF_USER[1],
            sf_security_token=DEMO_SF_USER[2], sf_emulator_url=f"http://127.0.0.1:{self.sf_port}",
            company_number=DEMO_COMPANY_NUMBER if self.demo else "",
            outbound_dial=DEMO_OUTBOUND_DIAL if self.demo and not self.trunk_contact else Settings.outbound_dial,
            trunk_contact=self.trunk_contact, plugins=self.plugins,
        )
        return dataclasses.replace(settings, **self.overrides)

    def env(self) -> dict[str, str]:
        """Environment for a process that joins this stack (settings as SWITCHBOARD_* variables)."""
        assert self.settings is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
        env.update(settings_env(self.settings))
        env["PYTHONUNBUFFERED"] = "1"
        return env

    # -- processes ------------------------------------------------------------------------------------
    def _popen(self, child: Child) -> subprocess.Popen[bytes]:
        """Start ``child``'s process in its own session; it gets SIGTERM when the supervisor thread ends."""
        child.log.parent.mkdir(exist_ok=True)
        with child.log.open("ab") as fh:
            child.log_start = os.fstat(fh.fileno()).st_size
            return subprocess.Popen(child.argv, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                                    env=self.env(), cwd=str(self.workdir), start_new_session=True,
                                    preexec_fn=die_with_parent(nice=child.nice))

    def _supervise(self, child: Child, start: Callable[[], subprocess.Popen[bytes]]) -> Child:
        """Launch ``child`` on the supervisor's thread and have it restarted from now on when it dies."""
        assert self._supervisor is not None

        def launch() -> subprocess.Popen[bytes]:
            child.process = start()
            return child.process

        self._supervisor.watch(child.name, launch)
        self.children.append(child)
        return child

    def _spawn(self, name: str, argv: list[str], nice: int = 0) -> Child:
        """Start ``argv`` as the supervised child ``name``, logging to ``logs/<name>.log``."""
        child = Child(name, self.workdir / "logs" / f"{name}.log", argv, nice=nice)
        return self._supervise(child, lambda: self._popen(child))

    def _spawn_asterisk(self) -> Child:
        """Supervise the instance as it is rendered now: a restart starts it again on the same files."""
        assert self.asterisk is not None
        asterisk = self.asterisk
        child = Child("asterisk", asterisk.log_file)

        def start() -> subprocess.Popen[bytes]:
            child.log_start = asterisk.log_file.stat().st_size if asterisk.log_file.exists() else 0
            return asterisk.launch()

        return self._supervise(child, start)

    def worker_names(self) -> list[str]:
        """The RQ workers' child names: ``worker``, ``worker-2``, …"""
        return ["worker", *(f"worker-{i}" for i in range(2, self.workers + 1))]

    def child(self, name: str) -> Child:
        """The child called ``name`` (redis, sfemu, asterisk, orchestrator, worker, web)."""
        for child in self.children:
            if child.name == name:
                return child
        raise StackError(f"no child called {name!r}")

    def _ready_check(self, child: Child) -> Callable[[], bool]:
        """How to tell that ``child``'s current process has started and answers."""
        settings = self.settings
        assert settings is not None and self.asterisk is not None

        def logged(*texts: str) -> Callable[[], bool]:
            return lambda: all(_log_has(child.log, text, child.log_start) for text in texts)

        checks: dict[str, Callable[[], bool]] = {
            "redis": lambda: _redis_ping(self.redis_port),
            "sfemu": lambda: _http_ok(f"{settings.sf_emulator_url}/__emulator/health"),
            "asterisk": self.asterisk.booted,
            "orchestrator": logged("orchestrator running", "resynced from Asterisk"),
            **{name: (lambda: any(_log_has(child.log, text, child.log_start)
                                  for text in ("Listening on", "listening on", "*** Listening")))
               for name in self.worker_names()},
            "web": lambda: _http_ok(f"{settings.public_url}/login"),
        }
        return checks[child.name]

    def wait_ready(self, name: str, timeout: float = 30) -> Child:
        """Wait until the current process of ``name`` answers (after a restart: the new one)."""
        child = self.child(name)
        _wait(self._ready_check(child), name, timeout, child)
        return child

    def stop_child(self, name: str) -> None:
        """Stop one child on purpose and leave the others running; it is not restarted until start_child."""
        assert self._supervisor is not None and self.asterisk is not None
        child = self.child(name)
        self._supervisor.hold(name)
        if name == "asterisk":
            self.asterisk.stop()
        elif child.process.poll() is None:
            os.killpg(child.process.pid, signal.SIGTERM)
            child.process.wait(10)

    def start_child(self, name: str) -> Child:
        """Start a stopped child again with the arguments it first had, and supervise it again."""
        assert self._supervisor is not None
        child = self.child(name)
        if child.process.poll() is None:
            raise StackError(f"{name} is running")
        self._supervisor.resume(name)
        return child

    def kill_child(self, name: str, sig: int = signal.SIGKILL, *, hold: bool = False) -> int:
        """Send ``sig`` to a child as an outside fault would (kill -9 by default); returns the pid signalled.
        ``hold``: keep it down until ``start_child`` (a process that stays dead a while)."""
        assert self._supervisor is not None
        child = self.child(name)
        self._killed[name] = self._supervisor.restarts(name)
        if hold:
            self._supervisor.hold(name)
        os.kill(child.process.pid, sig)
        if hold:
            child.process.wait(10)
        return child.process.pid

    def restarts(self, name: str) -> int:
        """How often the supervisor restarted ``name`` after it died."""
        assert self._supervisor is not None
        return self._supervisor.restarts(name)

    def wait_restarted(self, name: str, timeout: float = 30, since: int | None = None) -> Child:
        """Wait until ``name`` was restarted more than ``since`` times (default: since the last kill_child)."""
        assert self._supervisor is not None
        if since is None:
            since = self._killed.get(name, self.restarts(name))
        if not self._supervisor.wait_restarted(name, since, timeout):
            raise StackError(f"{name} was not restarted within {timeout} s")
        return self.child(name)

    def start(self) -> Settings:
        """Start everything, wait until each part answers, then restart any part that dies."""
        t0 = time.monotonic()
        self.settings = settings = self._configure()
        self._supervisor = Supervisor(self.log, self.backoff)
        self._supervisor.start()
        redis_dir = self.workdir / "redis"
        redis_dir.mkdir(exist_ok=True)
        redis_bin = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.log("Starting Redis…")
        # Append-only: jobs queued when Redis dies are there again when it is restarted on the same --dir.
        self._spawn("redis", [redis_bin, "--port", str(self.redis_port), "--bind", "127.0.0.1",
                              "--dir", str(redis_dir), "--appendonly", "yes", "--save", "", "--daemonize", "no"])
        self.log("Starting the Salesforce emulator…")
        self._spawn("sfemu", [sys.executable, "-m", "sfemu", "--host", "127.0.0.1", "--port",
                              str(self.sf_port), "--seed", self.sf_seed, "--flows", "package"])
        new_database = not self.database_file.exists()  # a new state folder; the Asterisk instance may be old
        upgrade(settings.database_url)
        store = Store(settings.database_url)
        if self.demo:
            seed_demo(store, settings.secret_key)
        assert self.asterisk is not None
        for path in self.asterisk.forget_calls() if new_database else []:
            self.log(f"Removed {path.name}, an earlier stack's call ledger in the same Asterisk instance.")
        self.asterisk.dialplan_globals = dialplan_globals(settings)
        self.asterisk.trunk_contact = settings.trunk_contact
        self.asterisk.render()
        from orchestrator.provisioning import write_includes

        write_includes(self.asterisk.generated, store.list_agents())
        store.engine.dispose()
        self.log("Starting Asterisk…")
        self._spawn_asterisk()
        self.wait_ready("asterisk", 30)
        self.wait_ready("redis", 15)
        self.log("Starting the orchestrator, the workers and the web app…")
        # The orchestrator is every call's signalling path (routing, the phones' events) and needs little
        # CPU: it goes first when Asterisk's media threads and everything else keep both cores busy.
        self._spawn("orchestrator", [sys.executable, "-m", "orchestrator"], nice=ORCHESTRATOR_NICE)
        for name in self.worker_names():
            self._spawn(name, [sys.executable, "-m", "worker"])
        self._spawn("web", [sys.executable, "-m", "web"])
        for name in ("sfemu", "orchestrator", *self.worker_names(), "web"):
            self.wait_ready(name, 30)
        (self.workdir / "stack.json").write_text(json.dumps(
            {"pid": os.getpid(), "settings": dataclasses.asdict(settings)}, indent=2))
        (self.workdir / "stack.json").chmod(0o600)
        self._supervisor.arm()
        self.log(f"Stack up in {time.monotonic() - t0:.1f} s.")
        return settings

    def alive(self) -> list[str]:
        """Names of children that are down now: exited and awaiting a restart, or stopped on purpose."""
        return [c.name for c in self.children if c.process.poll() is not None]

    def stop(self) -> None:
        """Stop every process this stack started (web first, Redis last), then the supervisor thread."""
        if self._supervisor is not None:
            self._supervisor.arm(False)
        for child in reversed(self.children):
            if child.name == "asterisk" and self.asterisk is not None:
                self.asterisk.stop()  # "core stop now": calls end before the processes behind them go
            elif child.process.poll() is None:
                try:
                    os.killpg(child.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for child in self.children:
            try:
                child.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait(5)
        if self.asterisk is not None:
            self.asterisk.stop()
        if self._supervisor is not None:
            self._supervisor.stop()
        (self.workdir / "stack.json").unlink(missing_ok=True)
        self.children.clear()


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
