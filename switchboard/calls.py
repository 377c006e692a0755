"""What Switchboard knows about a call, and the one function that turns it into the call's summary.

Three readers learn a call's facts, each from its own source, and all of them fold the facts with the
methods of ``CallFacts`` and end the call with ``call_summary``, so a call's Task is built the same way
whoever saw it:

- the live model (``orchestrator/model.py``) from AMI events as they happen;
- a restarted orchestrator's model from the ``SB_CALL_FACTS`` channel variable its resync lists
  (``adopt_facts``);
- the ledger reconciler (``switchboard/ledger.py``, ``worker/reconciler.py``) from the CEL user events the
  dialplan wrote (``apply_fact``).

The dialplan records each fact once, in ``[sb-fact]`` (asterisk-conf/extensions.conf): a CEL user event
``SB_FACT`` whose extra is the fact's text, and the same text appended to ``SB_CALL_FACTS`` on the call's
first channel. A fact is ``kind~value~...~time`` and ``SB_CALL_FACTS`` joins facts with ``/``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

from switchboard.numbers import display_number, normalize_number, sip_display_name

logger = logging.getLogger(__name__)

FACTS_VARIABLE = "SB_CALL_FACTS"  # manager.conf channelvars; set by [sb-fact]
FACT_EVENT = "SB_FACT"  # the CEL user event of one fact
BOOT_EVENT = "SB_BOOT"  # the CEL user event Asterisk writes once at every start ([sb-boot])
FIELD_SEPARATOR = "~"
FACT_SEPARATOR = "/"


def iso(ts: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC, or None."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


@dataclass
class CallFacts:
    """A call as its Task sees it, keyed by the Asterisk linkedid (the call id)."""

    call_id: str
    caller_number: str
    caller_name: str
    queue: str
    started_at: float
    joined_at: float  # entered the queue (again after a transfer), or was offered / placed
    direction: str = "inbound"
    agent: str = ""
    answered_at: float | None = None
    left_queue_at: float | None = None
    wait_seconds: int | None = None  # fixed when an agent answers from a queue; 0 for direct and outbound calls
    display_number: str = ""

    @classmethod
    def queued(cls, call_id: str, caller_number: str, caller_name: str, queue: str, started_at: float,
               at: float, **more: Any) -> Self:
        """A customer who joined a queue."""
        return cls(call_id, caller_number, caller_name, queue, started_at, at, **more)

    @classmethod
    def outbound(cls, call_id: str, agent: str, number: str, display: str, started_at: float, at: float,
                 **more: Any) -> Self:
        """An agent's call to a customer (``display``: the number the customer sees, '' when hidden)."""
        return cls(call_id, number, "", "", started_at, at, direction="outbound", agent=agent,
                   display_number=display, wait_seconds=0, **more)

    @classmethod
    def direct(cls, call_id: str, caller_number: str, caller_name: str, started_at: float, at: float,
               **more: Any) -> Self:
        """A call that rings an agent directly (a colleague, the agent's work number)."""
        return cls(call_id, caller_number, caller_name, "", started_at, at, wait_seconds=0, **more)

    def join_queue(self, queue: str, at: float) -> None:
        """The call entered a queue again (a transfer to a queue)."""
        self.queue, self.joined_at, self.left_queue_at = queue, at, None

    def leave_queue(self, at: float) -> None:
        """The caller left the queue (answered, or hung up while waiting)."""
        if self.left_queue_at is None:
            self.left_queue_at = at

    def connect(self, agent: str, at: float) -> None:
        """A queue member answered: the call is theirs, and the wait ends now."""
        self.agent, self.answered_at = agent, at
        self.wait_seconds = max(0, round(at - self.joined_at))

    def take(self, agent: str, at: float) -> str:
        """An agent rung directly answered (a direct call, a transfer); returns the agent who had it before."""
        before, self.agent = self.agent, agent
        if self.answered_at is None:
            self.answered_at = at
        return before

    def pick_up(self, at: float) -> bool:
        """The customer answered an agent's outbound call; False when that changed nothing."""
        if self.direction != "outbound" or self.answered_at is not None:
            return False
        self.answered_at = at
        return True


def call_summary(call: CallFacts, ended_at: float, labels: Mapping[str, str],
                 numbers: Mapping[str, str]) -> dict[str, Any]:
    """The JSON-able summary of a finished call: what ``finish_call`` records and writes as its Task."""
    answered = call.answered_at is not None
    if call.wait_seconds is not None:
        wait = call.wait_seconds
    else:
        wait = round((call.left_queue_at or ended_at) - call.joined_at)
    return {
        "call_id": call.call_id,
        "direction": call.direction,
        "caller_number": call.caller_number,
        "caller_display": display_number(call.caller_number),
        "caller_name": call.caller_name,
        "queue": call.queue,
        "queue_label": labels.get(call.queue, call.queue),
        "dialed": numbers.get(call.queue, ""),
        "display_number": call.display_number,
        "agent": call.agent,
        "disposition": "answered" if answered else "not answered",
        "started_at": iso(call.started_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(ended_at),
        "wait_seconds": max(0, int(wait)),
        "duration_seconds": max(0, round(ended_at - call.answered_at)) if call.answered_at is not None else 0,
    }


# ---- facts as the dialplan writes them ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Fact:
    """One fact of ``[sb-fact]``: ``queue~cs-en~1796630128.803293``."""

    kind: str  # caller | queue | outbound | direct | connected | taken | answered
    values: tuple[str, ...]
    at: float

    def value(self, index: int) -> str:
        """The ``index``-th value, '' when the dialplan left it out."""
        return self.values[index] if index < len(self.values) else ""


def parse_fact(text: str) -> Fact | None:
    """One fact, or None when ``text`` is not one (logged)."""
    *fields, at = text.split(FIELD_SEPARATOR)
    try:
        when = float(at)
    except ValueError:
        logger.warning("not a call fact: %r", text[:200])
        return None
    if not fields or not fields[0]:
        logger.warning("not a call fact: %r", text[:200])
        return None
    return Fact(fields[0], tuple(fields[1:]), when)


def parse_facts(text: str) -> list[Fact]:
    """The facts of an ``SB_CALL_FACTS`` value, oldest first."""
    return [f for f in map(parse_fact, filter(None, (text or "").split(FACT_SEPARATOR))) if f is not None]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a call is from as the channel that recorded its first fact says, and when the call began;
    ``whole_name``: the name from the trunk's identity header (a ``caller`` fact), which wins."""

    call_id: str
    number: str  # as Asterisk has it; normalised when the call is made
    name: str
    started_at: float
    whole_name: str | None = None

    def shown_name(self) -> str:
        """The caller's name a call from them shows."""
        return self.name if self.whole_name is None else self.whole_name


def identity_name(value: str) -> str | None:
    """The caller's name in a ``caller`` fact: base64 (``_`` for ``/``, the padding FILTERed away) of ``|``
    and the identity header ([sb-caller-identity]); None when it is not one."""
    try:
        raw = base64.b64decode(value.replace("_", "/") + "=" * (-len(value) % 4), validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if not raw.startswith(b"|"):
        logger.warning("not an identity header in a call fact: %r", value[:200])
        return None
    return sip_display_name(raw[1:].decode("utf-8", errors="replace"))


def apply_fact(call: CallFacts | None, fact: Fact, caller: Caller, region: str) -> tuple[CallFacts | None, Caller]:
    """``call`` with ``fact`` applied (a new call for its first fact), and the caller, as the live model
    applies the AMI events that say the same: ``caller`` = SwitchboardCaller, ``queue`` = QueueCallerJoin,
    ``outbound`` = SwitchboardOutbound, ``direct`` = SwitchboardDirect, ``connected`` = AgentConnect,
    ``taken`` / ``answered`` = DialEnd ANSWER."""
    kind = fact.kind
    if kind == "caller":
        name = identity_name(fact.value(0))
        if name is None:
            return call, caller
        if call is not None and call.direction == "inbound":
            call.caller_name = name
        return call, dataclasses.replace(caller, whole_name=name)
    if call is None:
        if kind == "queue":
            call = CallFacts.queued(caller.call_id, normalize_number(caller.number, region), caller.shown_name(),
                                    fact.value(0), caller.started_at, fact.at)
        elif kind == "outbound":
            call = CallFacts.outbound(caller.call_id, fact.value(0), normalize_number(fact.value(1), region),
                                      fact.value(2), caller.started_at, fact.at)
        elif kind == "direct":
            call = CallFacts.direct(caller.call_id, normalize_number(caller.number, region), caller.shown_name(),
                                    caller.started_at, fact.at)
        return call, caller  # an answer for a call we do not know builds nothing
    if kind == "queue":
        call.join_queue(fact.value(0), fact.at)
    elif kind == "connected":
        call.connect(fact.value(0), fact.at)
    elif kind == "taken":
        call.take(fact.value(0), fact.at)
    elif kind == "answered":
        call.pick_up(fact.at)
    return call, caller


def fold_facts(facts: Iterable[Fact], caller: Caller, region: str) -> CallFacts | None:
    """The call that ``facts`` (oldest first) describe, or None when none of them starts a call."""
    call: CallFacts | None = None
    for fact in facts:
        call, caller = apply_fact(call, fact, caller, region)
    return call
