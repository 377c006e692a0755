"""What benchmarks watch on a running stack: AMI and Socket.IO times by call, the processes' CPU and memory,
and the Tasks that landed in the Salesforce emulator (shared by benchmarks.load and benchmarks.faults)."""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import redis

from control.stack import Stack
from switchboard.ledger import parse_line

PROCESSES = ("asterisk", "orchestrator", "web", "redis", "sfemu")  # and every worker


# -- what the benchmark watches --------------------------------------------------------------------------
@dataclass
class Watch:
    """Times seen on Asterisk's AMI and on the Socket.IO channel, by call id (Asterisk's linkedid)."""

    rang: dict[str, float] = field(default_factory=dict)  # first AgentCalled
    offered: dict[str, float] = field(default_factory=dict)  # first call_offered published
    ended: dict[str, float] = field(default_factory=dict)  # the customer's channel hung up
    number: dict[str, str] = field(default_factory=dict)  # call id -> the customer's number
    answered: set[str] = field(default_factory=set)  # AgentConnect
    abandoned: set[str] = field(default_factory=set)  # QueueCallerAbandon
    up: set[str] = field(default_factory=set)  # customers' channels up now
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_ami(self, msg: dict, at: float) -> None:
        """One AMI event."""
        name, linkedid = msg.get("Event"), str(msg.get("Linkedid") or "")
        with self.lock:
            if name == "AgentCalled":
                self.rang.setdefault(linkedid, at)
            elif name == "AgentConnect":
                self.answered.add(linkedid)
            elif name == "QueueCallerAbandon":
                self.abandoned.add(linkedid)
            elif name in ("Newchannel", "Hangup") and str(msg.get("Channel", "")).startswith("PJSIP/trunk-"):
                if name == "Newchannel":
                    self.up.add(str(msg.get("Uniqueid")))
                    self.number[linkedid] = str(msg.get("CallerIDNum") or "")
                    self.peak = max(self.peak, len(self.up))
                else:
                    self.up.discard(str(msg.get("Uniqueid")))
                    self.ended[linkedid] = at

    def on_socketio(self, event: str, data: object, at: float) -> None:
        """One message the orchestrator published for the web app."""
        if isinstance(data, list) and data:  # python-socketio publishes an emit's arguments as a list
            data = data[0]
        if event == "call_offered" and isinstance(data, dict) and data.get("call_id"):
            with self.lock:
                self.offered.setdefault(str(data["call_id"]), at)


WATCHED_EVENTS = "^Event: (AgentCalled|AgentConnect|QueueCallerAbandon|Newchannel|Hangup)[[:space:]]"


def _watch_ami(stack: Stack, watch: Watch, stop: threading.Event) -> None:
    from panoramisk import Manager

    s = stack.settings
    assert s is not None

    async def run() -> None:
        manager = Manager(host=s.ami_host, port=s.ami_port, username=s.ami_username, secret=s.ami_secret,
                          ping_delay=0)
        manager.register_event("*", lambda _m, msg: watch.on_ami(dict(msg), time.time()))
        await manager.connect()
        # only what Watch reads: the watcher shares the cores it measures
        await manager.send_action({"Action": "Filter", "Operation": "Add", "Filter": WATCHED_EVENTS})
        while not stop.is_set():
            await asyncio.sleep(0.2)
        manager.close()

    asyncio.run(run())


def _watch_socketio(stack: Stack, watch: Watch, stop: threading.Event) -> None:
    s = stack.settings
    assert s is not None
    while not stop.is_set():  # again after Redis restarted
        try:
            pubsub = redis.Redis.from_url(s.redis_url).pubsub()
            pubsub.subscribe(s.socketio_channel)
            while not stop.is_set():
                message = pubsub.get_message(timeout=0.2)
                if message and message.get("type") == "message":
                    _socketio_message(watch, message["data"])
        except redis.RedisError:
            stop.wait(0.5)


def _socketio_message(watch: Watch, raw: bytes) -> None:
    try:
        payload = json.loads(raw)  # python-socketio's Redis manager publishes JSON (pickle in old versions)
    except ValueError:
        try:
            payload = pickle.loads(raw)  # our own stack's channel
        except Exception:
            return
    if isinstance(payload, dict) and payload.get("method") == "emit":
        watch.on_socketio(str(payload.get("event")), payload.get("data"), time.time())


# -- processes: CPU seconds and peak RSS ------------------------------------------------------------------
def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler:
    """CPU seconds and peak RSS of the stack's processes (and SIPp's) over a step."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.cpu0 = {n: self._cpu(p) for n, p in pids.items()}
        self.peak = {n: 0.0 for n in pids}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _cpu(pid: int) -> float:
        try:
            return _cpu_seconds(pid)
        except OSError:
            return 0.0

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            for name, pid in self.pids.items():
                try:
                    self.peak[name] = max(self.peak[name], _rss_mb(pid))
                except OSError:
                    pass

    def finish(self) -> dict[str, tuple[float, float]]:
        """Per process: (CPU seconds during the step, peak RSS in MB)."""
        self.stop.set()
        self.thread.join()
        return {n: (self._cpu(p) - self.cpu0[n], self.peak[n]) for n, p in self.pids.items()}


def stack_pids(stack: Stack) -> dict[str, int]:
    """The PIDs of the stack's processes, by name."""
    out = {}
    for name in (*PROCESSES[:2], *stack.worker_names(), *PROCESSES[2:]):
        try:
            out[name] = stack.child(name).process.pid
        except (KeyError, StopIteration, AttributeError):
            continue
    return out


# -- the emulator's Tasks ---------------------------------------------------------------------------------
def sf_time(value: str) -> float:
    """A Salesforce datetime (``2024-05-01T08:30:00.000+0000``) as epoch seconds."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def tasks_by_number(stack: Stack, prefix: str) -> dict[str, list[dict]]:
    """The emulator's call Tasks whose phone starts with ``prefix``, by phone."""
    from switchboard.salesforce import connect, soql_like

    sf = connect(stack.settings)
    records = sf.query_all("SELECT Id, CallObject, Phone_Number_2__c, CreatedDate, CallDisposition FROM Task "
                           f"WHERE Phone_Number_2__c LIKE {soql_like(prefix, after='%')}")["records"]
    out: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        out[str(r["Phone_Number_2__c"])].append(r)
    return out


def ledger_numbers(stack: Stack, prefix: str) -> set[str]:
    """The customers' numbers starting with ``prefix`` whose calls Asterisk took, from its own ledger (CEL
    CHAN_START of a trunk channel): the calls that must have a Task, also those an AMI watcher missed while
    Asterisk restarted."""
    assert stack.settings is not None
    path = Path(stack.settings.ledger_path)
    out: set[str] = set()
    for file in (path.with_name(path.name + ".1"), path):
        if not file.exists():
            continue
        text = file.read_text(errors="replace")
        lines = text.split("\n")[:-1]  # the last piece is empty, or a line Asterisk is still writing
        for line in filter(None, map(parse_line, lines)):
            if line.event == "CHAN_START" and line.channel.startswith("PJSIP/trunk-") \
                    and line.caller_number.startswith(prefix):
                out.add(line.caller_number)
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@contextmanager
def watching(stack: Stack, watch: Watch) -> Iterator[None]:
    """AMI and Socket.IO watchers in threads for the duration."""
    stop = threading.Event()
    threads = [threading.Thread(target=_watch_ami, args=(stack, watch, stop), daemon=True),
               threading.Thread(target=_watch_socketio, args=(stack, watch, stop), daemon=True)]
    for t in threads:
        t.start()
    time.sleep(1)
    try:
        yield
    finally:
        stop.set()
        for t in threads:
            t.join(5)
