"""Test helpers: run the emulator as a real process on a free port; make a JWT signing key pair."""

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
from typing import TYPE_CHECKING, Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sfemu.auth import Credentials

if TYPE_CHECKING:
    from flask.testing import FlaskClient

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


def generate_rsa_key_pair(bits: int = 2048) -> tuple[str, str]:
    """A fresh RSA key pair as PEM strings: (PKCS#8 private key, SubjectPublicKeyInfo public key). For the JWT
    bearer flow: give the public key to the emulator (``--jwt-public-key FILE``), the private key to the client."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def bearer_headers(client: FlaskClient, credentials: Credentials | None = None) -> dict[str, str]:
    """The ``Authorization`` header of a fresh client-credentials session, through a Flask test client."""
    creds = credentials or Credentials()
    r = client.post("/services/oauth2/token", data={"grant_type": "client_credentials", "client_id": creds.client_id,
                                                    "client_secret": creds.client_secret})
    if r.status_code != 200 or r.json is None:
        raise RuntimeError(f"login failed: {r.status_code} {r.get_data(as_text=True)}")
    return {"Authorization": f"Bearer {r.json['access_token']}"}


def emulator_control(url: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    """Call ``/__emulator/<path>`` of a running emulator (ignoring proxy and CA environment variables)."""
    with requests.Session() as http:
        http.trust_env = False
        return http.request(method, f"{url}/__emulator/{path.lstrip('/')}", timeout=10, **kwargs)
