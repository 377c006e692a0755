"""Smoke test of the web phone in real Chromium: `python -m web` with Redis, and a fake SIP registrar.

The fake registrar speaks just enough SIP over WebSocket (REGISTER, INVITE, ACK, BYE) to drive the
page through ringing, answer, hang-up and decline; orchestrator events go through Redis exactly as
the orchestrator sends them (AsyncRedisManager, write_only, same channel).
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from switchboard.sip import derive_sip_password
from switchboard.store import Store, upgrade

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SECRET = "smoke-secret-key"
CHANNEL = "switchboard-smoke"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
                 "--use-fake-ui-for-media-stream", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
    pytest.mark.skipif(not (REPO / "web/static/vendor/jssip.min.js").exists(), reason="run web/build.sh first"),
]

SDP_OFFER = "\r\n".join([
    "v=0", "o=- 4242 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0", "a=mid:0", "a=rtpmap:111 opus/48000/2", "a=rtpmap:0 PCMU/8000",
    "a=ice-ufrag:smke", "a=ice-pwd:smokesmokesmokesmoke0123",
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32), "a=setup:actpass", "a=rtcp-mux", "a=sendrecv", "",
])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- a fake SIP registrar over WebSocket ---------------------------------------------------------------

@dataclass
class SipMessage:
    """A parsed SIP message: start line, headers (first value of each, lower-case names), body."""

    start: str
    headers: dict[str, str]
    body: str
    raw: str

    @classmethod
    def parse(cls, raw: str) -> SipMessage:
        head, _, body = raw.partition("\r\n\r\n")
        lines = head.split("\r\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        return cls(lines[0], headers, body, raw)

    @property
    def method(self) -> str:
        return "" if self.start.startswith("SIP/2.0") else self.start.split()[0]

    @property
    def status(self) -> int:
        return int(self.start.split()[1]) if self.start.startswith("SIP/2.0") else 0


def uri_of(name_addr: str) -> str:
    """The URI inside the first <...> of a name-addr header value."""
    match = re.search(r"<([^>]+)>", name_addr)
    assert match, name_addr
    return match.group(1)


def sip_text(start: str, headers: list[tuple[str, str]], body: str = "") -> str:
    lines = [start, *(f"{k}: {v}" for k, v in headers)]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


@dataclass
class FakeRegistrar:
    """Accepts any REGISTER, sends INVITEs on request, answers BYE, ACKs final responses."""

    port: int
    received: list[SipMessage] = field(default_factory=list)
    outbox: queue.Queue[str] = field(default_factory=queue.Queue)
    contact: str = ""
    invites: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    active: Any = None  # the connection that registered last: INVITEs go there

    def start(self) -> None:
        from websockets.sync.server import serve

        self._server = serve(self._handle, "127.0.0.1", self.port, subprotocols=["sip"])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()

    def _handle(self, conn: Any) -> None:
        while True:
            try:
                raw = conn.recv(timeout=0.02)
            except TimeoutError:
                while conn is self.active and not self.outbox.empty():
                    conn.send(self.outbox.get())
                continue
            except Exception:
                return
            msg = SipMessage.parse(raw if isinstance(raw, str) else raw.decode())
            self.received.append(msg)
            if msg.method == "REGISTER":
                self.active = conn
                self.contact = uri_of(msg.headers["contact"])
                conn.send(self._reply(msg, "200 OK", [("Contact", msg.headers["contact"]), ("Expires", "600")]))
            elif msg.method in ("BYE", "OPTIONS"):
                conn.send(self._reply(msg, "200 OK"))
            elif msg.status >= 200 and "INVITE" in msg.headers.get("cseq", ""):
                conn.send(self._ack(msg))

    @staticmethod
    def _reply(req: SipMessage, status: str, extra: list[tuple[str, str]] | None = None) -> str:
        to = req.headers["to"]
        if ";tag=" not in to:
            to += ";tag=fake" + uuid.uuid4().hex[:8]
        headers = [("Via", req.headers["via"]), ("From", req.headers["from"]), ("To", to),
                   ("Call-ID", req.headers["call-id"]), ("CSeq", req.headers["cseq"]), *(extra or [])]
        return sip_text(f"SIP/2.0 {status}", headers)

    def _ack(self, response: SipMessage) -> str:
        call_id = response.headers["call-id"]
        invite = dict(self.invites[call_id])
        if response.status < 300:  # a new transaction to the remote target
            target = uri_of(response.headers["contact"])
            via = f"SIP/2.0/WSS fake.invalid;branch=z9hG4bK{uuid.uuid4().hex}"
        else:  # same transaction as the INVITE
            target, via = invite["ruri"], invite["Via"]
        return sip_text(f"ACK {target} SIP/2.0", [
            ("Via", via), ("Max-Forwards", "70"), ("From", invite["From"]), ("To", response.headers["to"]),
            ("Call-ID", call_id), ("CSeq", "1 ACK")])

    def invite(self, number: str, name: str, switchboard_call_id: str | None) -> str:
        """Ring the registered phone; returns the SIP Call-ID."""
        call_id = uuid.uuid4().hex
        ruri = self.contact
        headers = [("Via", f"SIP/2.0/WSS fake.invalid;branch=z9hG4bK{uuid.uuid4().hex}"), ("Max-Forwards", "70"),
                   ("From", f'"{name}" <sip:{number}@127.0.0.1>;tag=c{uuid.uuid4().hex[:8]}'),
                   ("To", "<sip:agent1@127.0.0.1>"), ("Call-ID", call_id), ("CSeq", "1 INVITE"),
                   ("Contact", "<sip:asterisk@fake.invalid;transport=ws>")]
        if switchboard_call_id:
            headers.append(("X-Switchboard-Call-Id", switchboard_call_id))
        self.invites[call_id] = [*headers, ("ruri", ruri)]
        self.outbox.put(sip_text(f"INVITE {ruri} SIP/2.0", headers, SDP_OFFER))
        return call_id

    def wait_for(self, predicate: Callable[[SipMessage], bool], count: int = 1, timeout: float = 5.0) -> SipMessage:
        """The ``count``-th received message that matches."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            matches = [msg for msg in list(self.received) if predicate(msg)]
            if len(matches) >= count:
                return matches[count - 1]
            time.sleep(0.02)
        raise AssertionError(f"no such SIP message; got {[m.start for m in self.received]}")


# --- processes ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    import redis

    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    client.close()
    proc.terminate()
    proc.wait(5)


@pytest.fixture(scope="module")
def sip_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def web_url(tmp_path_factory: pytest.TempPathFactory, redis_url: str, sip_port: int) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("smoke")
    db = f"sqlite:///{tmp / 'smoke.db'}"
    upgrade(db)
    store = Store(db)
    store.create_user("alice", "alice-pw", "Alice Agent", sip_username="agent1",
                      sip_password=derive_sip_password(SECRET, "agent1", 1))
    store.engine.dispose()
    env = {**os.environ, "SWITCHBOARD_DATABASE_URL": db, "SWITCHBOARD_SECRET_KEY": SECRET,
           "SWITCHBOARD_REDIS_URL": redis_url, "SWITCHBOARD_SOCKETIO_CHANNEL": CHANNEL,
           "SWITCHBOARD_WEB_PORT": "0", "SWITCHBOARD_SIP_WS_URL": f"ws://127.0.0.1:{sip_port}/ws",
           "SWITCHBOARD_SIP_DOMAIN": "127.0.0.1"}
    env.pop("SWITCHBOARD_CONFIG", None)
    log = (tmp / "web.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "web"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=log, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.match(r"web listening on (http://\S+)", line)
    assert match, f"web did not start: {line!r} {(tmp / 'web.log').read_text()}"
    yield match.group(1)
    proc.terminate()
    proc.wait(5)
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class PhonePage:
    page: Any
    page_errors: list[str]
    console_errors: list[str]


@pytest.fixture
def phone(browser: Any, web_url: str) -> Iterator[PhonePage]:
    context = browser.new_context(viewport={"width": 400, "height": 640})
    page = context.new_page()
    result = PhonePage(page, [], [])
    page.on("pageerror", lambda exc: result.page_errors.append(str(exc)))
    page.on("console", lambda m: m.type == "error" and result.console_errors.append(m.text))
    page.goto(web_url + "/phone")
    assert "/login" in page.url
    page.fill("#username", "alice")
    page.fill("#password", "alice-pw")
    page.click("#login-submit")
    page.wait_for_url(web_url + "/phone")
    yield result
    context.close()


def emit(redis_url: str, event: str, data: dict[str, Any], agent: str = "agent1") -> None:
    """Emit like the orchestrator: AsyncRedisManager, write_only, the configured channel."""
    import socketio

    async def _emit() -> None:
        manager = socketio.AsyncRedisManager(redis_url, channel=CHANNEL, write_only=True)
        await manager.emit(event, data, namespace="/phone", room=f"agent:{agent}")

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        pool.submit(asyncio.run, _emit()).result()


def screenshot(page: Any, name: str) -> None:
    """Save a screenshot when SWITCHBOARD_SMOKE_SCREENSHOT_DIR is set."""
    if folder := os.environ.get("SWITCHBOARD_SMOKE_SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(folder) / name), full_page=True)


# --- tests ---------------------------------------------------------------------------------------------

def test_given_no_phone_server_then_page_shows_not_registered_and_live_events(
        phone: PhonePage, redis_url: str, sip_port: int) -> None:
    page = phone.page
    expect = sync_api.expect
    expect(page.locator("#reg-status")).to_have_text("Not registered", timeout=5000)
    expect(page.locator("#link-status")).to_have_attribute("data-state", "connected", timeout=5000)
    expect(page.locator("#incoming")).to_be_hidden()
    state = {"agent": "agent1", "device_state": "not_inuse", "paused": False, "queues": ["cs-en"]}
    for _ in range(20):  # the web process subscribes to Redis when its first client connects
        emit(redis_url, "agent_state", state)
        if page.locator("#agent-state").is_visible():
            break
        page.wait_for_timeout(200)
    expect(page.locator("#agent-state")).to_have_text("Available · Queues: cs-en")
    screenshot(page, "phone-not-registered.png")
    assert phone.page_errors == []
    unexpected = [m for m in phone.console_errors if f"ws://127.0.0.1:{sip_port}/ws" not in m]
    assert unexpected == []


def test_given_a_queue_call_then_the_page_rings_answers_and_hangs_up(
        phone: PhonePage, redis_url: str, sip_port: int) -> None:
    page, expect = phone.page, sync_api.expect
    registrar = FakeRegistrar(sip_port)
    registrar.start()
    try:
        page.reload()  # register now rather than after JsSIP's reconnect back-off
        expect(page.locator("#reg-status")).to_have_text("Registered", timeout=5000)
        expect(page.locator("#link-status")).to_have_attribute("data-state", "connected", timeout=5000)

        # 1. The socket offer arrives first, then the INVITE with the same call id.
        hostile = '<img src=x onerror="window.pwned=1">Acme Oy'
        offer = {"call_id": "1700000000.11", "caller_number": "+358401234567", "caller_name": hostile,
                 "queue": "cs-en", "queue_label": "Customer Service EN", "direction": "inbound",
                 "offered_at": time.time()}
        emit(redis_url, "call_offered", offer)
        page.wait_for_function("() => window.switchboardPhone.core.offerIds.includes('1700000000.11')",
                               timeout=5000)
        registrar.invite("0401234567", "Ignored Name", "1700000000.11")
        expect(page.locator("#incoming")).to_be_visible(timeout=5000)
        expect(page.locator("#call-state")).to_have_text("Ringing")
        expect(page.locator("#caller-number")).to_have_text("+358401234567")
        expect(page.locator("#caller-name")).to_have_text(hostile)
        expect(page.locator("#queue-name")).to_have_text("Customer Service EN")
        assert page.evaluate("window.switchboardPhone.timings.offered_at_ms") > 0
        assert page.evaluate("window.pwned") is None
        screenshot(page, "phone-ringing.png")

        page.click("#answer")
        expect(page.locator("#call-state")).to_have_text("In call", timeout=5000)
        expect(page.locator("#incoming")).to_be_hidden()
        registrar.wait_for(lambda m: m.status == 200 and "INVITE" in m.headers.get("cseq", ""))
        expect(page.locator("#call-timer")).to_have_text("00:01", timeout=3000)
        screenshot(page, "phone-in-call.png")
        assert isinstance(page.evaluate("window.switchboardPhone.stats()"), int)
        page.click("#hangup")
        expect(page.locator("#call-state")).to_have_text("Call ended")
        registrar.wait_for(lambda m: m.method == "BYE")

        # 2. The INVITE arrives first ("Direct" from the SIP identity), then the socket offer fills it in.
        registrar.invite("0409876543", "SIP Name", "1700000000.22")
        expect(page.locator("#queue-name")).to_have_text("Direct", timeout=5000)
        expect(page.locator("#caller-number")).to_have_text("0409876543")
        expect(page.locator("#caller-name")).to_have_text("SIP Name")
        emit(redis_url, "call_offered", {**offer, "call_id": "1700000000.22", "caller_number": "+358409876543",
                                         "caller_name": "Beta Ltd", "queue": "sales-fi", "queue_label": "Sales FI"})
        expect(page.locator("#queue-name")).to_have_text("Sales FI", timeout=5000)
        expect(page.locator("#caller-number")).to_have_text("+358409876543")
        expect(page.locator("#caller-name")).to_have_text("Beta Ltd")
        page.click("#decline")
        registrar.wait_for(lambda m: m.status == 486)
        expect(page.locator("#call-state")).to_have_text("Call ended")
        expect(page.locator("#incoming")).to_be_hidden()
        screenshot(page, "phone-call-ended.png")

        # 3. The queue rings this agent again for the same call: the held offer still applies.
        registrar.invite("0409876543", "SIP Name", "1700000000.22")
        expect(page.locator("#call-state")).to_have_text("Ringing", timeout=5000)
        expect(page.locator("#queue-name")).to_have_text("Sales FI")
        page.click("#decline")
        registrar.wait_for(lambda m: m.status == 486, count=2)
        emit(redis_url, "call_ended", {"call_id": "1700000000.22", "disposition": "not answered",
                                       "duration_seconds": 0})
        page.wait_for_function("() => !window.switchboardPhone.core.offerIds.includes('1700000000.22')",
                               timeout=5000)
    finally:
        registrar.stop()
    assert phone.page_errors == []
    unexpected = [m for m in phone.console_errors if f"ws://127.0.0.1:{sip_port}/ws" not in m]
    assert unexpected == []
