"""Asterisk 22 from Debian's packages in a cached chroot, and per-run instances of asterisk-conf/.

One chroot (``~/.cache/switchboard/asterisk-chroot``) serves any number of instances: each has its
own folder ``/srv/switchboard/<name>`` inside the chroot with the project's ``asterisk-conf/``
copied in, a ``generated/`` folder for per-run ports, secrets, agents and queue members, and its
own run/spool/log/db folders, so the demo and a test run can live side by side.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from switchboard.outbound import render_dialplan_globals
from switchboard.process import die_with_parent

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
CONF_SOURCE = REPO / "asterisk-conf"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "switchboard"
PACKAGES = "asterisk,asterisk-modules,asterisk-core-sounds-en-gsm,asterisk-moh-opsound-gsm"
EXPECTED_MAJOR = "22"
MODULE_DIR = "/usr/lib/x86_64-linux-gnu/asterisk/modules"
LEDGER_NAME = "ledger.csv"  # asterisk-conf/cel_custom.conf: in the instance's log/cel-custom/


class AsteriskError(RuntimeError):
    """Raised when Asterisk cannot be installed, configured or started."""


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (first ``URIs:`` line), never a host in code."""
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in path.read_text().splitlines():
            if line.startswith("URIs:"):
                uri = line.split(":", 1)[1].split()[0]
                if "security" not in uri:
                    return uri
    sources = Path("/etc/apt/sources.list")
    if sources.exists():
        for line in sources.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and "security" not in parts[1]:
                return parts[1]
    raise AsteriskError("cannot find a Debian mirror in /etc/apt sources")


def chroot_dir(cache: Path = DEFAULT_CACHE) -> Path:
    """Where the cached Asterisk chroot lives."""
    return cache / "asterisk-chroot"


def asterisk_version(root: Path) -> str:
    """The version string of the Asterisk in ``root``."""
    out = subprocess.run(["chroot", str(root), "/usr/sbin/asterisk", "-V"], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def ulaw_music_on_hold(root: Path) -> int:
    """Give each music-on-hold file of the chroot a u-law copy (made with sox, once), so Asterisk streams
    hold music to G.711 callers without decoding GSM for every one of them; returns how many were made."""
    sox = shutil.which("sox")
    made = 0
    for gsm in sorted((root / "usr/share/asterisk/moh").glob("*.gsm")):
        ulaw = gsm.with_suffix(".ulaw")
        if ulaw.exists() or sox is None:
            continue
        tmp = gsm.with_suffix(".ulaw.tmp")
        if subprocess.run([sox, str(gsm), "-t", "ul", "-r", "8000", "-c", "1", str(tmp)],
                          capture_output=True).returncode == 0:
            os.replace(tmp, ulaw)
            made += 1
        else:
            tmp.unlink(missing_ok=True)
    return made


def ensure_chroot(cache: Path = DEFAULT_CACHE, *, log=print) -> Path:  # noqa: ANN001
    """Build the Asterisk chroot with debootstrap unless a cached one is there; return its path."""
    root = chroot_dir(cache)
    if (root / "usr/sbin/asterisk").exists() and (root / ".switchboard-version").exists():
        version = (root / ".switchboard-version").read_text().strip()
        if f"Asterisk {EXPECTED_MAJOR}." not in version:
            raise AsteriskError(f"cached chroot has {version}, expected Asterisk {EXPECTED_MAJOR}")
        ulaw_music_on_hold(root)
        return root
    if shutil.which("debootstrap") is None:
        raise AsteriskError("debootstrap is not installed (apt-get install debootstrap)")
    mirror = debian_mirror()
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    last_error = ""
    for suite in ("testing", "sid"):
        log(f"Installing Asterisk {EXPECTED_MAJOR} from Debian {suite} into {root} (about a minute)…")
        proc = subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", suite, str(tmp), mirror],
            capture_output=True, text=True)
        if proc.returncode == 0:
            break
        last_error = proc.stdout[-2000:] + proc.stderr[-2000:]
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        raise AsteriskError(f"debootstrap failed:\n{last_error}")
    # Root may have no DAC override in some sandboxes: the chroot's files belong to uid 101.
    for sub in ("etc/asterisk", "var/lib/asterisk", "var/spool/asterisk", "var/log/asterisk"):
        subprocess.run(["chown", "-R", "0:0", str(tmp / sub)], check=False)
    (tmp / "run/asterisk").mkdir(parents=True, exist_ok=True)
    version = asterisk_version(tmp)
    if f"Asterisk {EXPECTED_MAJOR}." not in version:
        raise AsteriskError(f"debootstrap produced {version}, expected Asterisk {EXPECTED_MAJOR}")
    (tmp / ".switchboard-version").write_text(version + "\n")
    ulaw_music_on_hold(tmp)
    shutil.rmtree(root, ignore_errors=True)  # an unfinished or foreign folder
    tmp.rename(root)
    log(f"{version} installed.")
    return root




_SIP_URI = re.compile(r"^sips?:[A-Za-z0-9.+_~!*'()%&=$-]*@?[A-Za-z0-9.:\[\]-]+(;[A-Za-z0-9=._-]+)*$")


def render_trunk_contact(contact: str) -> str:
    """The trunk AOR's ``contact`` line for generated/pjsip_trunk_contact.conf (none when empty)."""
    if not contact:
        return "; no contact: the trunk takes the carrier's calls only (setting trunk_contact)\n"
    if not _SIP_URI.match(contact):
        raise AsteriskError(f"trunk_contact is not a SIP URI: {contact!r}")
    return f"contact = {contact}\n"


@dataclass(frozen=True)
class AsteriskPorts:
    """The ports one instance listens on (all on 127.0.0.1)."""

    http: int
    ami: int
    sip_udp: int
    rtp_start: int
    rtp_end: int
    sip_tcp: int = 0  # SIP phones' TCP transport; 0: the SIP UDP port's number (SIP's own convention)

    @property
    def sip_tcp_port(self) -> int:
        """The port of transport-tcp."""
        return self.sip_tcp or self.sip_udp


@dataclass(frozen=True)
class AsteriskCredentials:
    """The AMI and ARI users the orchestrator logs in with."""

    ami_username: str
    ami_secret: str
    ari_username: str
    ari_password: str


class AsteriskInstance:
    """One running Asterisk with the project's configuration, in the shared chroot."""

    def __init__(self, root: Path, name: str, ports: AsteriskPorts, creds: AsteriskCredentials) -> None:
        self.root = root
        self.name = name
        self.ports = ports
        self.creds = creds
        self.inner = Path("/srv/switchboard") / name  # path as Asterisk sees it
        self.base = root / self.inner.relative_to("/")  # the same folder from the host
        self.process: subprocess.Popen[bytes] | None = None
        # Per-instance dialplan globals (outbound route, company number, display-number key), written
        # to generated/extensions_globals.conf; see switchboard.outbound.dialplan_globals.
        self.dialplan_globals: dict[str, str] = {}
        # Where the trunk sends outbound calls (the setting trunk_contact): generated/pjsip_trunk_contact.conf.
        self.trunk_contact = ""

    @property
    def etc(self) -> Path:
        """The instance's configuration folder, seen from the host."""
        return self.base / "etc"

    @property
    def generated(self) -> Path:
        """Where per-run includes (ports, secrets, agents, queue members) are written."""
        return self.etc / "generated"

    @property
    def ledger_file(self) -> Path:
        """The call ledger Asterisk writes (CEL, cel_custom.conf), seen from the host."""
        return self.base / "log" / "cel-custom" / LEDGER_NAME

    def forget_calls(self) -> list[Path]:
        """Remove the instance's call ledger (and its rotated file), before a start with a new database: its
        calls belong to a database that is gone, and the reconciler would record them in the new one."""
        removed = sorted(self.ledger_file.parent.glob(f"{LEDGER_NAME}*")) if self.ledger_file.parent.exists() else []
        for path in removed:
            path.unlink()
        return removed

    @property
    def log_file(self) -> Path:
        """Asterisk's console output for this instance."""
        return self.base / "console.log"

    def render(self) -> None:
        """Copy asterisk-conf/ into the instance and write its per-run includes."""
        if self.etc.exists():
            keep = (self.generated / "pjsip_agents.conf", self.generated / "queue_members.conf",
                    self.generated / "extensions_work_numbers.conf")
            saved = {p.name: p.read_text() for p in keep if p.exists()}
            shutil.rmtree(self.etc)
        else:
            saved = {}
        shutil.copytree(CONF_SOURCE, self.etc)
        for sub in ("run", "spool", "spool/monitor", "log", "log/cel-custom", "lib", "keys"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        self.generated.mkdir(exist_ok=True)
        dirs = {
            "astetcdir": self.inner / "etc", "astmoddir": MODULE_DIR, "astvarlibdir": "/var/lib/asterisk",
            "astdbdir": self.inner / "lib", "astkeydir": self.inner, "astdatadir": "/usr/share/asterisk",
            "astagidir": "/usr/share/asterisk/agi-bin", "astspooldir": self.inner / "spool",
            "astrundir": self.inner / "run", "astlogdir": self.inner / "log", "astsbindir": "/usr/sbin",
        }
        with (self.etc / "asterisk.conf").open("a") as fh:
            fh.write("\n[directories]\n")
            fh.writelines(f"{k} => {v}\n" for k, v in dirs.items())
        p, c = self.ports, self.creds
        files = {
            "http.conf": f"bindport = {p.http}\n",
            "manager_general.conf": f"port = {p.ami}\n",
            "manager_users.conf": (
                f"[{c.ami_username}]\nsecret = {c.ami_secret}\ndeny = 0.0.0.0/0.0.0.0\n"
                "permit = 127.0.0.1/255.255.255.255\nread = system,call,agent,user,dtmf,reporting\n"
                "write = system,call,agent,user,command,originate,reporting\n"
                "eventfilter = !Event: TestEvent\neventfilter = !Event: Newexten\n"
                "eventfilter = !Event: VarSet\neventfilter = !Event: RTCPSent\n"
                "eventfilter = !Event: RTCPReceived\n"),
            "ari_users.conf": f"[{c.ari_username}]\ntype = user\nread_only = no\npassword = {c.ari_password}\n",
            "rtp.conf": f"rtpstart = {p.rtp_start}\nrtpend = {p.rtp_end}\n",
            "pjsip_transport_udp.conf": f"bind = 127.0.0.1:{p.sip_udp}\n",
            "pjsip_transport_tcp.conf": f"bind = 127.0.0.1:{p.sip_tcp_port}\n",
            "pjsip_trunk_contact.conf": render_trunk_contact(self.trunk_contact),
            # `switchboard call` sends its customer to this instance's own SIP port (the [sb-loopback] AOR)
            "pjsip_loopback_contact.conf": f"contact = sip:127.0.0.1:{p.sip_udp}\n",
            "pjsip_agents.conf": saved.get("pjsip_agents.conf", "; no agents yet\n"),
            "queue_members.conf": saved.get("queue_members.conf", "; no members yet\n"),
            "extensions_work_numbers.conf": saved.get("extensions_work_numbers.conf", "; no work numbers yet\n"),
            "extensions_globals.conf": render_dialplan_globals(self.dialplan_globals),
        }
        for fname, text in files.items():
            (self.generated / fname).write_text(text)
        os.chmod(self.generated / "manager_users.conf", 0o600)
        os.chmod(self.generated / "ari_users.conf", 0o600)
        os.chmod(self.generated / "extensions_globals.conf", 0o600)
        hosts = self.root / "etc/hosts"
        hostname = os.uname().nodename
        if hostname not in hosts.read_text() if hosts.exists() else True:
            with hosts.open("a") as fh:
                fh.write(f"127.0.0.1 localhost {hostname}\n")

    def start(self, timeout: float = 30) -> None:
        """Render the configuration, start Asterisk in the foreground of a child process, wait until booted."""
        self.render()
        self.launch()
        self.wait_booted(timeout)

    def launch(self) -> subprocess.Popen[bytes]:
        """Start Asterisk on the configuration already rendered (a restart keeps the generated includes).

        The child gets SIGTERM when the thread that launched it ends (see control.supervisor).
        """
        (self.root / "run/asterisk").mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                ["chroot", str(self.root), "/usr/sbin/asterisk", "-f", "-C", str(self.inner / "etc/asterisk.conf")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=die_with_parent())
        return self.process

    def booted(self) -> bool:
        """Whether this instance answers on its control socket and has fully booted."""
        try:
            return self.cli("core waitfullybooted", timeout=5, check=False).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def wait_booted(self, timeout: float = 30) -> None:
        """Wait until the launched Asterisk has fully booted."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AsteriskError(f"Asterisk exited with {self.process.returncode}; see {self.log_file}")
            if self.booted():
                return
            time.sleep(0.1)
        raise AsteriskError(f"Asterisk did not boot in {timeout} s; see {self.log_file}")

    def cli(self, command: str, *, timeout: float = 10, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run an Asterisk CLI command against this instance."""
        proc = subprocess.run(
            ["chroot", str(self.root), "/usr/sbin/asterisk", "-C", str(self.inner / "etc/asterisk.conf"),
             "-rx", command], capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AsteriskError(f"asterisk -rx {command!r} failed: {proc.stderr or proc.stdout}")
        return proc

    def stop(self, timeout: float = 10) -> None:
        """Stop Asterisk (gracefully, then by signal)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.cli("core stop now", timeout=5, check=False)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
