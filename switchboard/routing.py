"""A routing decision (what ``route_call`` answers) and its trace (why a call went where it went).

Pure: no I/O. The orchestrator's router (``orchestrator/routing.py``) asks the plugins, turns their answer
into a ``Decision`` with ``coerce``, checks it against what exists (``check``), hands it to the dialplan
as channel variables (``channel_variables``) and stores a ``Trace`` of it.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

# What the dialplan is given (extensions.conf, [sb-route]); names are checked before they reach it.
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
SOUND = re.compile(r"^[A-Za-z0-9_/-]{1,120}$")  # a sound file name Asterisk plays (no dots, no '..')
MAX_PRIORITY = 100
MAX_AGENT_SECONDS = 120
DEFAULT_AGENT_SECONDS = 20

OUTCOMES = ("decided", "default", "timeout", "error", "rejected", "no orchestrator")


class InvalidDecision(ValueError):
    """A plugin's answer that cannot be carried out (unknown queue, bad agent name, bad value)."""


@dataclass(frozen=True)
class Decision:
    """Where an inbound call goes: every field optional, None/False/empty leaves the dialplan's choice.

    ``queue``          the service pool queue (queues.conf name) instead of the dialled number's
    ``priority``       the caller's priority in that queue (higher is answered first; 0..100)
    ``skip_ivr``       go straight to the queue, past the number's IVR (e.g. the language menu)
    ``agent``          ring this agent first (their SIP user name) for ``agent_seconds``, then ``fallback_queue``
                       (default: ``queue``, else the dialled number's queue)
    ``announcement``   a sound file the caller hears before the queue (Asterisk's sound name, no extension)
    ``reason``         one line a supervisor reads: why
    ``rules``          the rules that matched (names), ``data`` the facts they used
    """

    queue: str | None = None
    priority: int | None = None
    skip_ivr: bool = False
    agent: str | None = None
    agent_seconds: int = DEFAULT_AGENT_SECONDS
    fallback_queue: str | None = None
    announcement: str | None = None
    reason: str = ""
    rules: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """True when it changes nothing about the call's path."""
        return not (self.queue or self.priority or self.skip_ivr or self.agent or self.announcement)

    def keeps_path(self, queue: str) -> bool:
        """True when it leaves the call on the dialled number's path (``queue`` at most, nothing else)."""
        return not (self.priority or self.skip_ivr or self.agent or self.announcement
                    or (self.queue and self.queue != queue))

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (for the trace)."""
        out = dataclasses.asdict(self)
        out["rules"] = list(self.rules)
        return out


_FIELDS = {f.name for f in dataclasses.fields(Decision)}


def coerce(answer: Any) -> Decision | None:
    """A plugin's answer as a Decision: a Decision, a dict of its fields, a queue name, or None."""
    if answer is None or isinstance(answer, Decision):
        return answer
    if isinstance(answer, str):
        return Decision(queue=answer) if answer else None
    if isinstance(answer, Mapping):
        unknown = set(answer) - _FIELDS
        if unknown:
            raise InvalidDecision(f"unknown decision field(s): {', '.join(sorted(map(str, unknown)))}")
        values = dict(answer)
        if "rules" in values:
            values["rules"] = tuple(str(r) for r in values["rules"] or ())
        if "data" in values and not isinstance(values["data"], Mapping):
            raise InvalidDecision("data must be a mapping")
        return Decision(**values)
    raise InvalidDecision(f"route_call answered {type(answer).__name__}; expected a Decision, dict or queue name")


def check(decision: Decision, queues: Collection[str]) -> Decision:
    """The decision if it can be carried out (queues exist, names and numbers in range); else InvalidDecision."""
    for name in ("queue", "fallback_queue"):
        value = getattr(decision, name)
        if value and value not in queues:
            raise InvalidDecision(f"{name} {value!r} is not a queue")
    if decision.agent and not NAME.match(decision.agent):
        raise InvalidDecision(f"agent {decision.agent!r} is not a SIP user name")
    if decision.priority is not None and not (isinstance(decision.priority, int)
                                              and 0 <= decision.priority <= MAX_PRIORITY):
        raise InvalidDecision(f"priority must be an integer 0..{MAX_PRIORITY}")
    if not (isinstance(decision.agent_seconds, int) and 1 <= decision.agent_seconds <= MAX_AGENT_SECONDS):
        raise InvalidDecision(f"agent_seconds must be an integer 1..{MAX_AGENT_SECONDS}")
    if decision.announcement and not SOUND.match(decision.announcement):
        raise InvalidDecision(f"announcement {decision.announcement!r} is not a sound name")
    return decision


def channel_variables(decision: Decision, dialled_queue: str) -> dict[str, str]:
    """The channel variables [sb-route] reads (only those the decision sets)."""
    out: dict[str, str] = {}
    if decision.queue and decision.queue != dialled_queue:
        out["__SB_QUEUE"] = decision.queue
    if decision.priority:
        out["SB_PRIO"] = str(decision.priority)
    if decision.skip_ivr:
        out["SB_SKIP_IVR"] = "1"
    if decision.agent:
        out["SB_AGENT"] = decision.agent
        out["SB_AGENT_SECONDS"] = str(decision.agent_seconds)
        out["SB_FALLBACK"] = decision.fallback_queue or decision.queue or dialled_queue
    if decision.announcement:
        out["SB_ANNOUNCE"] = decision.announcement
    return out


def agent_available(view: Mapping[str, Any] | None, now: float) -> bool:
    """Whether an agent's presence (``presence.status(agent)``) lets routing ring them now: a status of type
    available, no system status over it (e.g. "In a Call"), and no wrap-up going on."""
    if not view or view.get("kind") != "available" or view.get("system"):
        return False
    wrapup = view.get("wrapup")
    return not wrapup or (not wrapup.get("required") and wrapup.get("until") is not None and now >= wrapup["until"])


@dataclass
class Trace:
    """One routed call: who decided, what, on which data, how long it took, and what became of it.

    ``outcome``: decided (a plugin's decision was applied), default (nobody decided: the dialplan's path),
    timeout (the deadline passed: the dialplan's path), error (a plugin raised), rejected (a decision that
    could not be carried out)."""

    call_id: str
    at: float
    caller_number: str
    dialled: str
    queue: str
    outcome: str = "default"
    caller_name: str = ""  # as the caller sent it (untrusted text)
    plugin: str = ""
    decision: dict[str, Any] = field(default_factory=dict)
    took_ms: float = 0.0
    error: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)  # every plugin asked: name, answer, ms

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (stored; printed by ``switchboard route explain``)."""
        return dataclasses.asdict(self)


def explain(trace: Mapping[str, Any]) -> str:
    """A trace as text a supervisor reads: where the call went and why."""
    decision = trace.get("decision") or {}
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(trace.get("at") or 0)))
    lines = [f"call {trace.get('call_id')} from {trace.get('caller_number') or 'unknown'} "
             f"to {trace.get('dialled') or '?'} at {when}",
             f"dialplan queue: {trace.get('queue') or '-'}",
             f"outcome: {trace.get('outcome')}"
             + (f" by plugin {trace['plugin']}" if trace.get("plugin") and trace.get("outcome") != "error" else "")
             + ("" if trace.get("outcome") == "decided" else ": the number's own path")
             + f" in {float(trace.get('took_ms') or 0):.1f} ms"]
    if trace.get("error"):
        lines.append(f"error: {trace['error']}")
    for key, label in (("queue", "queue"), ("priority", "priority"), ("skip_ivr", "skip IVR"),
                       ("agent", "preferred agent"), ("fallback_queue", "fallback queue"),
                       ("announcement", "announcement")):
        value = decision.get(key)
        if value:
            extra = f" for {decision.get('agent_seconds')} s" if key == "agent" else ""
            lines.append(f"{label}: {value}{extra}")
    if decision.get("reason"):
        lines.append(f"reason: {decision['reason']}")
    if decision.get("rules"):
        lines.append("rules matched: " + ", ".join(decision["rules"]))
    for key, value in sorted((decision.get("data") or {}).items()):
        lines.append(f"  data {key} = {value}")
    for step in trace.get("steps") or []:
        answer = step.get("answer")
        said = step.get("error") or ("a decision" if isinstance(answer, dict) else "nothing" if answer is None
                                     else str(answer))
        lines.append(f"  asked {step.get('plugin')}: {said} ({float(step.get('ms') or 0):.1f} ms)")
    return "\n".join(lines)
