"""Malformed and odd INVITEs from the trunk, on the real stack: Asterisk refuses or handles each one, the
orchestrator logs no error, nothing is left behind, and the calls that Asterisk accepted get exactly one
Task each. The INVITEs are crafted bytes on a UDP socket (SIPp cannot send a broken From header)."""

from __future__ import annotations

import re
import secrets
import socket
import time
from dataclasses import dataclass, field

import pytest

pytestmark = pytest.mark.integration

QUEUE_NUMBER = "+35891000003"  # Sales: nobody answers in these tests, the caller waits
SDP = ("v=0\r\no=carrier 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
       "a=sendrecv\r\n")


@dataclass
class RawCall:
    """One dialog of a minimal UDP user agent: enough to INVITE, ACK, answer in-dialog requests and BYE."""

    sock: socket.socket
    target: tuple[str, int]
    call_id: str = field(default_factory=lambda: secrets.token_hex(8) + "@hostile.test")
    tag: str = field(default_factory=lambda: secrets.token_hex(4))
    to_header: str = ""
    remote_target: str = ""
    responses: list[str] = field(default_factory=list)

    @property
    def local(self) -> str:
        host, port = self.sock.getsockname()
        return f"{host}:{port}"

    def via(self) -> str:
        return f"Via: SIP/2.0/UDP {self.local};branch=z9hG4bK{secrets.token_hex(6)};rport"

    def send(self, text: str) -> None:
        self.sock.sendto(text.encode("utf-8", "surrogatepass"), self.target)

    def invite(self, from_header: str, sdp: str | None, number: str = QUEUE_NUMBER) -> None:
        body = sdp or ""
        ctype = "Content-Type: application/sdp\r\n" if sdp else ""
        self.uri = f"sip:{number}@{self.target[0]}:{self.target[1]}"
        self.send(f"INVITE {self.uri} SIP/2.0\r\n{self.via()}\r\nMax-Forwards: 70\r\n{from_header}\r\n"
                  f"To: <{self.uri}>\r\nCall-ID: {self.call_id}\r\n"
                  f"CSeq: 1 INVITE\r\nContact: <sip:caller@{self.local}>\r\n{ctype}"
                  f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
        self.from_header = from_header

    def wait_final(self, timeout: float = 8) -> str:
        """The INVITE's final response status line ('' if none came): answers in-dialog requests meanwhile."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.receive(deadline - time.monotonic())
            if msg is None:
                break
            first = msg.split("\r\n", 1)[0]
            if first.startswith("SIP/2.0 ") and "INVITE" in _header(msg, "CSeq"):
                code = int(first.split()[1])
                if code >= 200:
                    self.to_header = _header(msg, "To")
                    self.remote_target = re.sub(r"^.*<|>.*$", "", _header(msg, "Contact")) or self.uri
                    return first
        return ""

    def receive(self, timeout: float) -> str | None:
        """The next message; requests are answered (200, with SDP for a re-INVITE)."""
        self.sock.settimeout(max(timeout, 0.01))
        try:
            data, _ = self.sock.recvfrom(65535)
        except TimeoutError:
            return None
        msg = data.decode("utf-8", "replace")
        first = msg.split("\r\n", 1)[0]
        if not first.startswith("SIP/2.0"):
            method = first.split()[0]
            if method != "ACK":
                body = SDP.format(port=self.sock.getsockname()[1] + 1) if method == "INVITE" else ""
                ctype = "Content-Type: application/sdp\r\n" if body else ""
                self.send("SIP/2.0 200 OK\r\n" + "".join(f"{h}: {_header(msg, h)}\r\n" for h in ("Via", "From", "To",
                          "Call-ID", "CSeq")) + f"Contact: <sip:caller@{self.local}>\r\n{ctype}"
                          f"Content-Length: {len(body)}\r\n\r\n{body}")
        else:
            self.responses.append(first)
        return msg

    def ack(self, sdp: str | None = None) -> None:
        body = sdp or ""
        ctype = "Content-Type: application/sdp\r\n" if sdp else ""
        self.send(f"ACK {self.remote_target} SIP/2.0\r\n{self.via()}\r\nMax-Forwards: 70\r\n"
                  f"{self.from_header}\r\nTo: {self.to_header}\r\nCall-ID: {self.call_id}\r\n"
                  f"CSeq: 1 ACK\r\n{ctype}Content-Length: {len(body)}\r\n\r\n{body}")

    def bye(self) -> str:
        self.send(f"BYE {self.remote_target} SIP/2.0\r\n{self.via()}\r\nMax-Forwards: 70\r\n"
                  f"{self.from_header}\r\nTo: {self.to_header}\r\nCall-ID: {self.call_id}\r\n"
                  "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            msg = self.receive(deadline - time.monotonic())
            if msg and msg.startswith("SIP/2.0") and "BYE" in _header(msg, "CSeq"):
                return msg.split("\r\n", 1)[0]
        return ""


def _header(msg: str, name: str) -> str:
    m = re.search(rf"^{name}:[ \t]*(.*)$", msg, re.M | re.I)
    return m.group(1).strip() if m else ""


@pytest.fixture
def ua(stack):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield lambda: RawCall(sock, ("127.0.0.1", stack.asterisk.ports.sip_udp))
    sock.close()


def _channels(stack) -> str:
    return stack.asterisk.cli("core show channels concise").stdout.strip()


def _tasks(stack, number: str, want: int, timeout: float = 6) -> list[dict]:
    from switchboard.salesforce import connect, soql_quote

    sf = connect(stack.settings)
    deadline = time.monotonic() + timeout
    while True:
        tasks = sf.query(f"SELECT Id, CallObject, Phone_Number_2__c, CallDisposition FROM Task "
                         f"WHERE Phone_Number_2__c = {soql_quote(number)}")["records"]
        if len(tasks) >= want or time.monotonic() > deadline:
            return tasks
        time.sleep(0.2)


def _orchestrator_errors(stack) -> list[str]:
    log = (stack.workdir / "logs" / "orchestrator.log").read_text(errors="replace")
    return [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]


@pytest.mark.parametrize("from_header", [
    'From: "Broken <sip:+358401110001@127.0.0.1;tag=x',  # unterminated quote and URI
    "From: <sip:+358401110002@127.0.0.1",  # unterminated URI
    "From: ;tag=",  # no URI at all
    'From: "x" <mailto:+358401110003>;tag=abc',  # not a SIP URI
])
def test_given_a_broken_from_header_then_asterisk_refuses_it_and_nothing_is_left(stack, ua, from_header):
    errors_before = len(_orchestrator_errors(stack))
    call = ua()
    call.invite(from_header, SDP.format(port=40000))
    status = call.wait_final(timeout=4)
    assert not status.startswith("SIP/2.0 2"), status  # never answered: refused (4xx) or dropped
    time.sleep(0.5)
    assert "trunk" not in _channels(stack)
    assert len(_orchestrator_errors(stack)) == errors_before


def test_given_a_1000_character_display_name_then_the_call_is_handled_and_recorded_with_it_whole(stack, ua):
    from switchboard.store import Store

    errors_before = len(_orchestrator_errors(stack))
    number = "+358401110010"
    call = ua()
    sent = 'Ä\\"\'<>&;' * 125  # 1,000 characters in the From header: \" is a quoted-pair for "
    call.invite(f'From: "{sent}" <sip:{number}@127.0.0.1>;tag={call.tag}', SDP.format(port=40010))
    assert call.wait_final().startswith("SIP/2.0 200")
    call.ack()
    time.sleep(1)
    assert call.bye().startswith("SIP/2.0 200")
    tasks = _tasks(stack, number, 1)
    assert [t["CallDisposition"] for t in tasks] == ["not answered"]
    record = Store(stack.settings.database_url).get_call(tasks[0]["CallObject"])
    assert record.caller_name == 'Ä"\'<>&;' * 125  # exactly what the caller meant, not AMI's or SIP's escaping
    time.sleep(0.5)
    assert "trunk" not in _channels(stack)
    assert len(_orchestrator_errors(stack)) == errors_before


def test_given_an_invite_without_sdp_then_asterisk_offers_in_its_200_and_the_call_gets_one_task(stack, ua):
    errors_before = len(_orchestrator_errors(stack))
    number = "+358401110020"
    call = ua()
    call.invite(f'From: "Late Offer" <sip:{number}@127.0.0.1>;tag={call.tag}', None)
    status = call.wait_final()
    assert status.startswith("SIP/2.0 200"), status
    call.ack(SDP.format(port=40020))  # the answer to Asterisk's offer
    time.sleep(1)
    assert call.bye().startswith("SIP/2.0 200")
    tasks = _tasks(stack, number, 1)
    assert len(tasks) == 1 and tasks[0]["CallDisposition"] == "not answered"
    time.sleep(0.5)
    assert "trunk" not in _channels(stack)
    assert len(_orchestrator_errors(stack)) == errors_before
