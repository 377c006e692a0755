"""Test helpers: run the emulator as a real process on a free port."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str,
               proc: subprocess.Popen[bytes] | None = None, log: Path | None = None,
               errors: tuple[type[Exception], ...] = (OSError, requests.RequestException)) -> None:
    """Poll ``check()`` (``errors`` count as not ready) until it returns True; fail with the process log
    if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            if check():
                return
        except errors:
            pass
        time.sleep(0.05)
    output = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not become ready within {timeout}s\n{output}")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 5) -> None:
    """Terminate a child process, killing it if it does not exit in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


@contextmanager
def running_emulator(seed: str = "demo", *, port: int | None = None, args: Sequence[str] = (),
                     timeout: float = 20) -> Iterator[str]:
    """Start ``python -m sfemu`` on a free port, wait for its health check, yield its URL, stop it."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory(prefix="sfemu-") as tmp:
        log = Path(tmp) / "sfemu.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "sfemu", "--host", "127.0.0.1", "--port", str(port), "--seed", seed, *args],
                stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=env,
            )
        try:
            with requests.Session() as http:
                http.trust_env = False
                wait_until(lambda: http.get(f"{url}/__emulator/health", timeout=1).status_code == 200,
                           timeout, "sfemu", proc, log)
            yield url
        finally:
            stop_process(proc)
