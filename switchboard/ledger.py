"""The call ledger: the calls Asterisk itself recorded, read back into finished calls (pure, no I/O).

Asterisk writes every call's Channel Event Logging records into a local file (cel.conf,
cel_custom.conf: ``log/cel-custom/ledger.csv`` of the instance), one line per event, whichever of
Switchboard's processes is up. The ledger has three kinds of lines:

- ``CHAN_START`` when a channel appears: the first one of a linkedid (the call id) starts the call;
- ``USER_DEFINED`` ``SB_FACT`` from the dialplan's ``[sb-fact]``: the call's facts (queue joined, agent
  answered, ...), folded by ``switchboard.calls.apply_fact`` exactly as the live model folds AMI events,
  and ``SB_BOOT``, written once at every start of Asterisk ([sb-boot], cli.conf);
- ``LINKEDID_END`` when the call's last channel is gone: the call ended.

A call that has facts and no end when an ``SB_BOOT`` comes was cut by the restart (``core restart now``
writes the ends of the calls it cuts; a crash or kill -9 writes none): it ends at the boot marker.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass

from switchboard.calls import BOOT_EVENT, FACT_EVENT, Caller, CallFacts, apply_fact, parse_fact
from switchboard.numbers import caller_name_text

logger = logging.getLogger(__name__)

# The columns of cel_custom.conf's ``fields`` (asterisk-conf/cel_custom.conf), in order.
FIELDS = ("eventenum", "eventtime", "uniqueid", "linkedid", "channame", "num", "name", "userdeftype",
          "eventextra")


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One CEL record."""

    event: str  # CHAN_START | USER_DEFINED | LINKEDID_END (cel.conf events)
    at: float
    uniqueid: str
    linkedid: str
    channel: str
    caller_number: str
    caller_name: str  # as the caller sent it
    user_event: str = ""  # USER_DEFINED: the name given to CELGenUserEvent
    extra: str = ""  # USER_DEFINED: the extra given to CELGenUserEvent


def parse_line(text: str) -> LedgerLine | None:
    """One ledger line, or None when it is not one (logged)."""
    try:
        row = next(csv.reader([text]))
        values = dict(zip(FIELDS, row, strict=True))
        at = float(values["eventtime"])
    except (ValueError, StopIteration):
        logger.warning("skipped a ledger line that is not a CEL record: %r", text[:200])
        return None
    extra = values["eventextra"]
    if extra.startswith("{"):  # a user event's extra comes as {"extra": "..."}
        try:
            extra = str(json.loads(extra).get("extra") or "")
        except (ValueError, AttributeError):
            logger.warning("skipped a ledger line with a broken extra: %r", text[:200])
            return None
    return LedgerLine(values["eventenum"], at, values["uniqueid"], values["linkedid"], values["channame"],
                      values["num"], caller_name_text(values["name"], ami_escaped=False), values["userdeftype"],
                      extra)


@dataclass
class LedgerCall:
    """A call the ledger saw start and not yet end."""

    started_at: float
    mark: int  # where the call's first line starts (a reader keeps its place no later than this)
    call: CallFacts | None = None  # None until a fact makes it a Switchboard call
    whole_name: str | None = None  # the caller's name from the trunk's identity header (a ``caller`` fact)


@dataclass(frozen=True, slots=True)
class FinishedCall:
    """A call the ledger saw end, or that an Asterisk restart cut."""

    call: CallFacts
    ended_at: float
    mark: int  # where its first line starts
    cut: bool = False  # ended by a restart of Asterisk (boot marker), not by its own hang-up


class Ledger:
    """Folds ledger lines, in order, into finished calls; remembers the calls still open."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.open: dict[str, LedgerCall] = {}

    def feed(self, line: LedgerLine, mark: int) -> list[FinishedCall]:
        """Apply one line (``mark``: where it starts) and return the calls it finished."""
        if line.event == "CHAN_START":
            self.open.setdefault(line.linkedid, LedgerCall(line.at, mark))
        elif line.event == "USER_DEFINED" and line.user_event == FACT_EVENT:
            self._fact(line, mark)
        elif line.event == "USER_DEFINED" and line.user_event == BOOT_EVENT:
            return self._boot(line)
        elif line.event == "LINKEDID_END":
            entry = self.open.pop(line.linkedid, None)
            if entry is not None and entry.call is not None:
                return [FinishedCall(entry.call, line.at, entry.mark)]
        return []

    def _fact(self, line: LedgerLine, mark: int) -> None:
        fact = parse_fact(line.extra)
        if fact is None:
            return
        # A call whose start we did not read (we began reading after it) starts with its first fact.
        entry = self.open.setdefault(line.linkedid, LedgerCall(line.at, mark))
        caller = Caller(line.linkedid, line.caller_number, line.caller_name, entry.started_at, entry.whole_name)
        entry.call, caller = apply_fact(entry.call, fact, caller, self.region)
        entry.whole_name = caller.whole_name

    def _boot(self, line: LedgerLine) -> list[FinishedCall]:
        """Asterisk started: every call with facts still open was cut when it went down. Open entries
        without facts are dropped: old channels that never became calls, or a call that arrived in the
        instant between boot and marker (its facts, all written after the marker, start it again)."""
        cut = [FinishedCall(e.call, line.at, e.mark, cut=True) for e in self.open.values() if e.call is not None]
        self.open.clear()
        return cut

    def low_water(self) -> int | None:
        """Where the oldest open call's first line starts, or None when no call is open."""
        return min((e.mark for e in self.open.values()), default=None)

    def expire(self, now: float, max_age: float) -> list[str]:
        """Forget calls open longer than ``max_age`` seconds (their end never came); returns their ids."""
        old = [lid for lid, e in self.open.items() if now - e.started_at > max_age]
        for lid in old:
            del self.open[lid]
        return old
