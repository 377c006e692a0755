"""The tests' own AMI sessions on plain sockets (a few lines, no library), apart from the orchestrator's.

``Ami`` sends actions and returns their answers; ``AmiWatch`` keeps every event in a thread. Both take
an ``AsteriskInstance`` or anything that has one as ``.asterisk`` (a ``Stack``).
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

Message = dict[str, str]
_action_ids = itertools.count(1)


def asterisk_of(target: Any) -> Any:
    """The ``AsteriskInstance`` of ``target`` (itself, or a stack's ``.asterisk``)."""
    return getattr(target, "asterisk", None) or target


def _login(target: Any, events: str) -> socket.socket:
    inst = asterisk_of(target)
    sock = socket.create_connection(("127.0.0.1", inst.ports.ami), timeout=5)
    sock.sendall(f"Action: Login\r\nUsername: {inst.creds.ami_username}\r\nSecret: {inst.creds.ami_secret}\r\n"
                 f"Events: {events}\r\n\r\n".encode())
    return sock


def _parse(frame: bytes) -> Message:
    msg: Message = {}
    for line in frame.decode(errors="replace").split("\r\n"):
        if ": " in line:
            key, value = line.split(": ", 1)
            msg[key] = value
    return msg


def frames(sock: socket.socket, stop: Callable[[], bool] = lambda: False) -> Iterator[Message]:
    """The messages read from ``sock`` until it closes (or ``stop()`` is true at a read timeout)."""
    buf = b""
    while not stop():
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return
        if not chunk:
            return
        buf += chunk
        while b"\r\n\r\n" in buf:
            frame, buf = buf.split(b"\r\n\r\n", 1)
            yield _parse(frame)


class AmiError(RuntimeError):
    """Asterisk refused an action."""


class Ami:
    """One AMI session for actions (no events): ``with Ami(stack) as ami: ami.action("CoreShowChannels")``."""

    def __init__(self, target: Any) -> None:
        self.sock = _login(target, "off")
        self._frames = frames(self.sock)
        login = next(self._frames)
        if login.get("Response") != "Success":
            raise AmiError(f"AMI login refused: {login}")

    def __enter__(self) -> Ami:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def action(self, name: str, **fields: str) -> list[Message]:
        """Send an action; its response, and for a list action the events up to the one that completes it."""
        action_id = f"t{next(_action_ids)}"
        lines = [f"Action: {name}", f"ActionID: {action_id}", *(f"{k}: {v}" for k, v in fields.items())]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer: list[Message] = []
        for msg in self._frames:
            if msg.get("ActionID") != action_id:
                continue
            answer.append(msg)
            if len(answer) == 1 and msg.get("EventList") != "start":
                break
            if len(answer) > 1 and msg.get("EventList") == "Complete":
                break
        if not answer or answer[0].get("Response") != "Success":
            raise AmiError(f"{name} {fields}: {answer[:1]}")
        return answer

    def getvar(self, channel: str, variable: str) -> str:
        """A channel variable or function, e.g. ``CHANNEL(pjsip,call-id)``."""
        return self.action("Getvar", Channel=channel, Variable=variable)[0].get("Value", "")

    def channels(self) -> list[Message]:
        """Every channel Asterisk has now (``CoreShowChannel`` items)."""
        return [m for m in self.action("CoreShowChannels") if m.get("Event") == "CoreShowChannel"]

    def close(self) -> None:
        """Log off."""
        try:
            self.sock.sendall(b"Action: Logoff\r\n\r\n")
        except OSError:
            pass
        self.sock.close()


def getvar(target: Any, channel: str, variable: str) -> str:
    """A channel variable or function read over a session of its own."""
    with Ami(target) as ami:
        return ami.getvar(channel, variable)


class AmiWatch:
    """A raw AMI connection in a thread that keeps every call, DTMF, user and queue (agent) event."""

    def __init__(self, target: Any) -> None:
        self.sock = _login(target, "call,dtmf,user,agent")
        self.events: list[Message] = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def __enter__(self) -> AmiWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        self.sock.settimeout(0.5)
        for msg in frames(self.sock, lambda: self._stop):
            if "Event" in msg:
                self.events.append(msg)

    def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 10) -> Message:
        """The first event (seen so far or arriving within ``timeout``) matching ``predicate``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in list(self.events):
                if predicate(e):
                    return e
            time.sleep(0.05)
        raise AssertionError("no matching AMI event; last: " + repr(self.events[-5:]))

    def close(self) -> None:
        """Stop reading and close the connection."""
        self._stop = True
        self.sock.close()
