"""Whatever process dies comes back: the stack restarts a killed part, and no part outlives `switchboard demo`.

The in-process tests run a Stack of their own (they kill its parts); the others run `switchboard demo`
as a user does, in a terminal that is closed, or kill it outright.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import termios
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from control.stack import Stack

pytestmark = pytest.mark.integration


def wait_for(check: Callable[[], bool], timeout: float, what: str | Callable[[], str]) -> float:
    """Poll ``check`` until it holds; returns the seconds it took. ``what`` (or what it returns when the
    time is up) is the failure's message."""
    t0 = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - t0
        except OSError:
            pass
        if time.monotonic() - t0 > timeout:
            pytest.fail(f"{what() if callable(what) else what} (after {timeout} s)")
        time.sleep(0.05)


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 (no proxy: everything is on loopback)."""
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=2) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError):
        return False


def log_count(stack: Stack, name: str, text: str) -> int:
    return stack.child(name).log.read_text(errors="replace").count(text)


# -- a Stack of our own, whose parts we kill -------------------------------------------------------------
@pytest.fixture(scope="module")
def shown() -> list[str]:
    """What the stack told its user (switchboard demo prints these lines)."""
    return []


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory, shown: list[str]) -> Iterator[Stack]:
    stack = Stack(tmp_path_factory.mktemp("supervised"), f"sup-{os.getpid()}", demo=True, log=shown.append)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        if stack.asterisk is not None:
            shutil.rmtree(stack.asterisk.base, ignore_errors=True)


def test_given_the_orchestrator_is_killed_then_it_comes_back_and_resyncs_from_asterisk(supervised, shown):
    resyncs = log_count(supervised, "orchestrator", "resynced from Asterisk")
    before = supervised.restarts("orchestrator")
    pid = supervised.kill_child("orchestrator")
    back = supervised.wait_restarted("orchestrator", timeout=10)
    assert back.process.pid != pid and back.process.poll() is None
    took = wait_for(lambda: log_count(supervised, "orchestrator", "resynced from Asterisk") > resyncs, 20,
                    "the restarted orchestrator did not resync from Asterisk")
    assert supervised.restarts("orchestrator") == before + 1
    assert f"orchestrator exited with -9; restarting in 0.5 s (restart {before + 1})" in shown
    print(f"\norchestrator: kill -9 -> resynced again in {took:.1f} s")


def test_given_the_web_app_is_killed_then_the_login_page_answers_again(supervised, shown):
    login = f"{supervised.settings.public_url}/login"
    assert answers(login)
    supervised.kill_child("web")
    took = wait_for(lambda: supervised.restarts("web") > 0 and answers(login), 15,
                    "the web app did not answer again")
    assert any(line.startswith("web exited with -9; restarting in") for line in shown)
    print(f"\nweb: kill -9 -> /login answers again in {took:.1f} s")


def test_given_the_worker_is_killed_then_it_listens_on_its_queue_again(supervised):
    listening = log_count(supervised, "worker", "Listening on")
    before = supervised.restarts("worker")
    supervised.kill_child("worker")
    supervised.wait_restarted("worker", timeout=10)
    wait_for(lambda: log_count(supervised, "worker", "Listening on") > listening, 20,
             "the restarted worker does not listen")
    assert supervised.restarts("worker") == before + 1


def test_given_the_emulator_is_killed_then_it_answers_again(supervised):
    health = f"{supervised.settings.sf_emulator_url}/__emulator/health"
    supervised.kill_child("sfemu")
    supervised.wait_restarted("sfemu", timeout=10)
    wait_for(lambda: answers(health), 20, "the Salesforce emulator did not answer again")


def test_given_a_child_stopped_on_purpose_then_it_stays_down_until_started(supervised):
    before = supervised.restarts("worker")
    supervised.stop_child("worker")
    time.sleep(2.0)  # four times the first restart delay
    assert "worker" in supervised.alive() and supervised.restarts("worker") == before
    supervised.start_child("worker")
    supervised.wait_ready("worker", 20)
    assert supervised.alive() == [] and supervised.restarts("worker") == before


def test_given_asterisk_is_killed_then_it_comes_back_with_the_agents_and_the_orchestrator_resyncs(supervised):
    resyncs = log_count(supervised, "orchestrator", "resynced from Asterisk")
    supervised.kill_child("asterisk")
    supervised.wait_restarted("asterisk", timeout=10)
    supervised.wait_ready("asterisk", 30)
    assert supervised.asterisk.process is supervised.child("asterisk").process
    shown_endpoint = supervised.asterisk.cli("pjsip show endpoint agent1", check=False).stdout
    assert "Anna Agent" in shown_endpoint  # the orchestrator's generated includes were kept
    assert "agent1" in supervised.asterisk.cli("queue show cs-en", check=False).stdout
    wait_for(lambda: log_count(supervised, "orchestrator", "resynced from Asterisk") > resyncs, 30,
             "the orchestrator did not resync from the restarted Asterisk")


def test_given_redis_is_killed_then_it_comes_back_with_the_jobs_that_were_queued(supervised):
    import rq

    client = redis.Redis.from_url(supervised.settings.redis_url)
    queue = rq.Queue(f"sb-test-supervision-{os.getpid()}", connection=client)  # no worker takes from it
    job = queue.enqueue("os.getcwd")
    aof = supervised.workdir / "redis"
    wait_for(lambda: any(job.id.encode() in f.read_bytes() for f in aof.rglob("*.aof")), 5,
             "the job never reached the append-only file")
    supervised.kill_child("redis")
    supervised.wait_restarted("redis", timeout=10)
    supervised.wait_ready("redis", 15)
    assert queue.job_ids == [job.id]
    queue.delete(delete_jobs=True)
    for name in ("orchestrator", "worker", "web"):  # whoever lost Redis is back too
        wait_for(lambda n=name: n not in supervised.alive(), 30, f"{name} is not running")
    wait_for(lambda: answers(f"{supervised.settings.public_url}/login"), 20, "web does not answer")


# -- `switchboard demo` as a user runs it --------------------------------------------------------------
def _take_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the pty becomes our controlling terminal: its hangup is our SIGHUP


class Demo:
    """`switchboard demo` in a session of its own, its output read as its terminal (or pipe) shows it."""

    def __init__(self, state_dir: Path, *, terminal: bool) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
        argv = [sys.executable, "-m", "control.cli", "--state-dir", str(state_dir), "demo", "--web-port", "0"]
        self.state_dir = state_dir
        self.output = ""
        self.settings: dict = {}
        if terminal:
            self.fd, slave = pty.openpty()
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                         start_new_session=True, preexec_fn=_take_terminal)
            os.close(slave)
        else:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, env=env)
            self.fd = self.proc.stdout.fileno()

    def wait_for(self, text: str, timeout: float) -> None:
        """Read the output until ``text`` shows."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and not select.select([self.fd], [], [], 0)[0]:
                pytest.fail(f"no {text!r} in the output of switchboard demo:\n{self.output}")
            if select.select([self.fd], [], [], min(left, 0.5))[0]:
                try:
                    self.output += os.read(self.fd, 65536).decode(errors="replace")
                except OSError:  # the pty's other side is gone
                    pytest.fail(f"switchboard demo exited before {text!r}:\n{self.output}")

    def wait_up(self) -> None:
        """Wait until the stack is up and read its settings (ports, Asterisk instance) from stack.json."""
        self.wait_for("Press Ctrl-C to stop.", 120)
        assert "Stack up in" in self.output
        self.settings = json.loads((self.state_dir / "stack.json").read_text())["settings"]

    def children(self) -> dict[int, str]:
        """The demo's child processes now: pid -> command line."""
        pids = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        return {int(pid): Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() for pid in pids}

    def child(self, module: str) -> int:
        """The pid of the child that runs ``python -m module``."""
        return next(pid for pid, cmd in self.children().items() if f" -m {module}" in cmd)

    def ports(self) -> dict[str, int]:
        """The TCP ports the running stack listens on."""
        settings = self.settings
        urls = {"web": settings["public_url"], "redis": settings["redis_url"], "sfemu": settings["sf_emulator_url"],
                "asterisk http": settings["ari_url"]}
        return {**{name: urlsplit(url).port for name, url in urls.items()}, "asterisk ami": settings["ami_port"]}

    def close(self) -> None:
        """Whatever is left: kill the runner, close our end, remove the instance from the shared chroot."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        try:
            os.close(self.fd)
        except OSError:
            pass
        if self.settings:
            shutil.rmtree(Path(self.settings["asterisk_generated_dir"]).parent.parent, ignore_errors=True)


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for PID 1 counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:``port`` any more: a new server could bind it."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def assert_all_gone(children: dict[int, str], ports: dict[str, int], timeout: float) -> float:
    """Every child has exited and every port is free within ``timeout``; returns the seconds it took."""
    took = wait_for(lambda: all(gone(pid) for pid in children), timeout,
                    lambda: "still running: " + ", ".join(f"{pid} {cmd}" for pid, cmd in children.items()
                                                          if not gone(pid)))
    wait_for(lambda: all(free(port) for port in ports.values()), 5,
             lambda: "ports still taken: " + ", ".join(f"{n} {p}" for n, p in ports.items() if not free(p)))
    return took


def test_given_the_terminal_of_switchboard_demo_closes_then_every_process_stops(tmp_path):
    demo = Demo(tmp_path, terminal=True)
    try:
        demo.wait_up()
        ports = demo.ports()
        assert not any(free(port) for port in ports.values())
        # a part that dies is restarted, and the terminal says so
        os.kill(demo.child("orchestrator"), signal.SIGKILL)
        demo.wait_for("orchestrator exited with -9; restarting in 0.5 s (restart 1)", 10)
        demo.wait_for("orchestrator restarted (pid", 10)
        children = demo.children()
        assert len(children) == 7, children  # redis, emulator, asterisk, orchestrator, two workers, web
        os.close(demo.fd)  # the terminal window closes: the kernel hangs up the pty and sends SIGHUP
        demo.proc.wait(60)
        assert demo.proc.returncode == 0  # it stopped everything in order, not killed by the hangup
        took = assert_all_gone(children, ports, 10)
        print(f"\nterminal closed -> every process gone in {took:.1f} s after the runner")
    finally:
        demo.close()


def test_given_switchboard_demo_is_killed_then_its_processes_die_with_it(tmp_path):
    demo = Demo(tmp_path, terminal=False)
    try:
        demo.wait_up()
        children, ports = demo.children(), demo.ports()
        assert len(children) == 7, children
        assert any("/usr/sbin/asterisk" in cmd for cmd in children.values())
        demo.proc.kill()  # kill -9: no handler runs, only the kernel's parent-death signal
        demo.proc.wait(10)
        took = assert_all_gone(children, ports, 15)
        print(f"\nrunner killed -> every process gone in {took:.1f} s")
    finally:
        demo.close()
