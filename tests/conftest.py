"""Shared fixtures: real Redis, real PostgreSQL, and the whole stack, each on free ports."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from control.net import free_port
from tests.support.paths import ARTIFACTS

IN_CI = bool(os.environ.get("CI"))


def _pg_bin() -> Path | None:
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / "initdb").exists():
            return base
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server (Debian's binaries) in a temp dir, on a free port."""
    bindir = _pg_bin()
    if bindir is None:
        if IN_CI:
            pytest.fail("PostgreSQL binaries are missing (scripts/setup.sh --test installs postgresql)")
        pytest.skip("PostgreSQL is not installed")
    tmp = Path(tempfile.mkdtemp(prefix="sb-pg-"))
    data, port = tmp / "data", free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
    subprocess.run([*as_pg, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
                   check=True, capture_output=True)
    proc = subprocess.Popen([*as_pg, str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(tmp),
                             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    import sqlalchemy

    deadline = time.monotonic() + 30
    while True:
        try:
            sqlalchemy.create_engine(url).connect().close()
            break
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free port, without persistence."""
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="sb-redis-")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def redis_conn(redis_url: str):  # noqa: ANN201
    """A client of the session's Redis, closed after the test."""
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def carrier(tmp_path_factory):
    """The carrier behind the test stack's trunk (a SIPp, tests/sipp/carrier_uas.xml): every outbound call
    (an agent dials a customer, a transfer to an external number) reaches it, is answered, hears audio."""
    from tests.support.sipp import SippUas

    uas = SippUas(tmp_path_factory.mktemp("carrier"))
    yield uas
    uas.stop()


@pytest.fixture(scope="session")
def stack(carrier):
    """The whole stack (Redis, emulator, Asterisk, orchestrator, worker, web) with demo data; outbound calls
    go over the trunk to ``carrier``."""
    from control.stack import Stack

    workdir = Path(tempfile.mkdtemp(prefix="sb-stack-"))
    s = Stack(workdir, f"test-{os.getpid()}", demo=True, log=lambda msg: None, trunk_contact=carrier.contact)
    try:
        s.start()
    except Exception:
        s.stop()
        raise
    yield s
    s.stop()
    logs = ARTIFACTS / "stack-logs"
    logs.mkdir(parents=True, exist_ok=True)
    for f in (workdir / "logs").glob("*.log"):
        shutil.copy(f, logs / f.name)
    if s.asterisk is not None and s.asterisk.log_file.exists():
        shutil.copy(s.asterisk.log_file, logs / "asterisk.log")
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def asterisk():
    """A bare Asterisk instance with the project's configuration (no orchestrator), on free ports."""
    import secrets
    import socket

    from control.asterisk import AsteriskCredentials, AsteriskInstance, AsteriskPorts, ensure_chroot
    from control.net import free_port_range

    inst = AsteriskInstance(
        ensure_chroot(), f"it-{os.getpid()}-{secrets.token_hex(3)}",
        AsteriskPorts(free_port(), free_port(), free_port(socket.SOCK_DGRAM), *free_port_range(100)),
        AsteriskCredentials("switchboard", secrets.token_hex(8), "switchboard", secrets.token_hex(8)))
    inst.start()
    yield inst
    inst.stop()
    shutil.rmtree(inst.base, ignore_errors=True)


@pytest.fixture
def customers(stack, tmp_path):
    """Customers calling over the stack's trunk from SIPp (tests/support/sipp.py); a call still up when the
    test ends (also a failed one) is hung up from the network side and its SIPp stopped."""
    from tests.support.sipp import SipCustomers

    placed = SipCustomers(stack, tmp_path / "sipp")
    yield placed
    placed.close()


@pytest.fixture
def trunk_customers(asterisk, tmp_path):
    """Customers calling over the trunk of the bare ``asterisk`` instance, cleaned up like ``customers``."""
    from tests.support.sipp import SipCustomers

    placed = SipCustomers(asterisk, tmp_path / "sipp")
    yield placed
    placed.close()


@pytest.fixture
def ami(stack):
    """Every call, DTMF, user and queue event of the stack's Asterisk from now on (tests/support/ami.py)."""
    from tests.support.ami import AmiWatch

    with AmiWatch(stack) as watch:
        yield watch
