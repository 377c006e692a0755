"""The one place that reads raw AMI and ARI messages: tables from event names to event builders."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from orchestrator import events as ev
from switchboard.calls import FACTS_VARIABLE
from switchboard.numbers import caller_name_text, sip_display_name

logger = logging.getLogger(__name__)

DEVICE_STATE_MAP = {
    "NOT_INUSE": "not_inuse",
    "INUSE": "inuse",
    "BUSY": "inuse",
    "RINGING": "ringing",
    "RINGINUSE": "ringing",
    "ONHOLD": "onhold",
    "UNAVAILABLE": "unavailable",
    "INVALID": "unavailable",
    "UNKNOWN": "unknown",
}
# Which endpoints are agents is not read from names here: translate only says which PJSIP endpoint an
# interface, device or channel belongs to, and the model knows which endpoints Switchboard provisioned
# (``AgentsProvisioned``). A trunk's channel (PJSIP/trunk-00000004) is the endpoint "trunk", a customer.
# A consult transfer started from a SIP-phone agent's page (orchestrator/callcontrol.py) dials the target
# from Local/<CONSULT_EXTEN>@<CONSULT_CONTEXT> ([sb-consult]); its channel carries the customer's call id.
CONSULT_CONTEXT = "sb-consult"
CONSULT_EXTEN = "10"
CONSULT_CHANNEL = f"Local/{CONSULT_EXTEN}@{CONSULT_CONTEXT}-"
# Queue members are the server-owned legs Local/<endpoint>@sb-agent/n (state interface PJSIP/<endpoint>).
_ENDPOINT_INTERFACE = re.compile(r"^(?:PJSIP/([^/@\s]+)|Local/([^/@\s]+)@sb-agent(?:/n)?)$")
_ENDPOINT_CHANNEL = re.compile(r"^PJSIP/([^/@\s]+)-[0-9a-f]+$")


class MalformedFrame(ValueError):
    """An AMI frame that cannot be parsed or lacks a required header."""


def endpoint_of_interface(interface: str) -> str | None:
    """The PJSIP endpoint of a queue interface or device (``PJSIP/agent1``, ``Local/agent1@sb-agent/n``)."""
    m = _ENDPOINT_INTERFACE.match(interface or "")
    return (m.group(1) or m.group(2)) if m else None


def endpoint_of_channel(channel: str) -> str | None:
    """The PJSIP endpoint of a channel (``PJSIP/agent1-0000002a`` -> ``agent1``), else None."""
    m = _ENDPOINT_CHANNEL.match(channel or "")
    return m.group(1) if m else None


def parse_frame(raw: str) -> dict[str, Any]:
    """Parse one AMI frame (``Key: Value`` lines) into a dict; a repeated key (``ChanVariable``) gives a list
    of its values, as panoramisk does; raises MalformedFrame."""
    out: dict[str, Any] = {}
    for line in raw.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or " " in key.strip():
            raise MalformedFrame(f"not an AMI header line: {line[:80]!r}")
        key, value = key.strip(), value.strip()
        if key in out:
            before = out[key]
            out[key] = [*before, value] if isinstance(before, list) else [before, value]
        else:
            out[key] = value
    if not out:
        raise MalformedFrame("empty frame")
    return out


def _int(msg: Mapping[str, Any], key: str) -> int:
    try:
        return int(msg.get(key) or 0)
    except (TypeError, ValueError) as exc:
        raise MalformedFrame(f"{key} is not a number: {msg.get(key)!r}") from exc


# Elapsed times in listings (a queue entry's Wait, a channel's Duration) become start times: more than this
# (or negative) is not a time Asterisk can report, and would put the start before year 1.
MAX_ELAPSED = 10 * 365 * 86400


def _elapsed(seconds: int, what: str) -> int:
    if not 0 <= seconds <= MAX_ELAPSED:
        raise MalformedFrame(f"{what} is not a possible elapsed time: {seconds} s")
    return seconds


def _req(msg: Mapping[str, Any], key: str) -> str:
    value = msg.get(key)
    if value is None or value == "":
        raise MalformedFrame(f"{msg.get('Event')} without {key}")
    return str(value)


def _callerid(msg: Mapping[str, Any], key: str, absent: tuple[str, ...] = ("<unknown>",)) -> str:
    value = str(msg.get(key) or "")
    return "" if value in absent else value


def _name(msg: Mapping[str, Any], key: str = "CallerIDName", *, ami_escaped: bool = True,
          absent: tuple[str, ...] = ("<unknown>",)) -> str:
    return caller_name_text(_callerid(msg, key, absent), ami_escaped=ami_escaped)


def _agent(msg: Mapping[str, Any], key: str = "Interface") -> str | None:
    """The endpoint an interface names (the model decides whether it is an agent's)."""
    return endpoint_of_interface(str(msg.get(key) or ""))


Builder = Callable[[Mapping[str, Any], float], ev.Event | None]


def _member(msg: Mapping[str, Any], at: float) -> ev.Event | None:
    agent = _agent(msg, "StateInterface") or _agent(msg)
    if agent is None:
        return None
    return ev.QueueMemberUpdated(at, _req(msg, "Queue"), agent, msg.get("Paused") == "1",
                                 str(msg.get("PausedReason") or ""), msg.get("InCall") == "1",
                                 _int(msg, "CallsTaken"))


def _device(msg: Mapping[str, Any], at: float) -> ev.Event | None:
    agent = endpoint_of_interface(str(msg.get("Device") or ""))
    if agent is None:
        return None
    return ev.DeviceStateChanged(at, agent, DEVICE_STATE_MAP.get(_req(msg, "State"), "unknown"))


# Contact states (ContactStatus' ContactStatus, ContactList's Status) in which the agent is registered.
REACHABLE_CONTACT = frozenset({"Created", "Reachable", "Updated", "NonQualified"})


def _contact(msg: Mapping[str, Any], at: float) -> ev.Event | None:
    aor = str(msg.get("AOR") or "")
    status = str(msg.get("ContactStatus") or "")
    if not aor or not status:
        return None
    return ev.ContactChanged(at, aor, status in REACHABLE_CONTACT, str(msg.get("URI") or ""))


def _contact_listed(msg: Mapping[str, Any], at: float) -> ev.Event | None:
    """A PJSIPShowContacts item: ``ObjectName`` is ``<aor>;@<hash>``, ``Status`` its reachability."""
    aor = str(msg.get("ObjectName") or "").partition(";@")[0] or str(msg.get("Endpoint") or "")
    status = str(msg.get("Status") or "")
    if not aor or not status:
        return None
    return ev.ContactListed(at, aor, status in REACHABLE_CONTACT, str(msg.get("Uri") or ""))


def _agent_event(cls: type, *fields: str) -> Builder:
    def build(msg: Mapping[str, Any], at: float) -> ev.Event | None:
        agent = _agent(msg)
        if agent is None:
            return None
        values = [_int(msg, f) for f in fields]
        return cls(at, _req(msg, "Queue"), agent, _req(msg, "Linkedid"), *values)
    return build


def _agent_ringing(msg: Mapping[str, Any], at: float) -> ev.Event | None:
    agent = _agent(msg)
    if agent is None:
        return None
    return ev.AgentRinging(at, _req(msg, "Queue"), agent, _req(msg, "Linkedid"), str(msg.get("DestUniqueid") or ""))


def _agent_complete(msg: Mapping[str, Any], at: float) -> ev.Event | None:
    agent = _agent(msg)
    if agent is None:
        return None
    return ev.AgentCompleted(at, _req(msg, "Queue"), agent, _req(msg, "Linkedid"), _int(msg, "HoldTime"),
                             _int(msg, "TalkTime"), str(msg.get("Reason") or ""))


def _caller_identity(msg: Mapping[str, Any], at: float) -> ev.Event:
    """[sb-inbound]'s identity headers, URI-encoded: P-Asserted-Identity wins (the trunk trusts it), as
    Asterisk's own caller ID does."""
    asserted = unquote(str(msg.get("Asserted") or ""), errors="replace")
    header = asserted or unquote(str(msg.get("From") or ""), errors="replace")
    return ev.CallerIdentity(at, _req(msg, "Uniqueid"), _req(msg, "Linkedid"), sip_display_name(header))


def _user_event(msg: Mapping[str, Any], at: float) -> ev.Event | None:
    if msg.get("UserEvent") == "SwitchboardCaller":
        return _caller_identity(msg, at)
    if msg.get("UserEvent") == "SwitchboardRouting":
        return ev.CallRouted(at, _req(msg, "Uniqueid"), _req(msg, "Linkedid"), str(msg.get("Queue") or ""),
                             _callerid(msg, "CallerIDNum"), _name(msg))
    if msg.get("UserEvent") == "SwitchboardDirect":  # [sb-agent-direct]: the caller is the channel's caller ID
        return ev.DirectDialed(at, _req(msg, "Uniqueid"), _req(msg, "Linkedid"), _req(msg, "Agent"),
                               _callerid(msg, "CallerIDNum"), _name(msg))
    if msg.get("UserEvent") != "SwitchboardOutbound":
        return None
    return ev.OutboundDialed(at, _req(msg, "Uniqueid"), _req(msg, "Linkedid"), _req(msg, "Agent"),
                             _req(msg, "Number"), str(msg.get("Display") or ""),
                             str(msg.get("Presentation") or "").startswith("prohib"))


def _dial_end(msg: Mapping[str, Any], at: float) -> ev.Event | None:
    if msg.get("DialStatus") != "ANSWER" or not msg.get("Uniqueid"):
        return None  # not answered, or an Originate's dial (it has no calling channel)
    channel = str(msg.get("Channel") or "")
    return ev.DialAnswered(at, _req(msg, "Uniqueid"), _req(msg, "Linkedid"), channel,
                           str(msg.get("DestUniqueid") or ""), str(msg.get("DestChannel") or ""),
                           channel.startswith(CONSULT_CHANNEL))


# QueueStatus' QueueEntry says "unknown" (not "<unknown>") for no caller ID, and does not escape names.
QUEUE_ENTRY_ABSENT = ("unknown", "<unknown>")

TABLE: dict[str, Builder] = {
    "UserEvent": _user_event,
    "DialEnd": _dial_end,
    "BridgeEnter": lambda m, at: ev.BridgeChanged(at, _req(m, "Uniqueid"), _req(m, "BridgeUniqueid"), True),
    "BridgeLeave": lambda m, at: ev.BridgeChanged(at, _req(m, "Uniqueid"), _req(m, "BridgeUniqueid"), False),
    "FullyBooted": lambda m, at: ev.AsteriskBooted(at),
    "Newchannel": lambda m, at: ev.ChannelCreated(
        at, _req(m, "Uniqueid"), _req(m, "Linkedid"), _req(m, "Channel"),
        _callerid(m, "CallerIDNum"), _name(m)),
    "Hangup": lambda m, at: ev.ChannelHungUp(
        at, _req(m, "Uniqueid"), _req(m, "Linkedid"), _req(m, "Channel"), _int(m, "Cause")),
    "QueueCallerJoin": lambda m, at: ev.CallerJoinedQueue(
        at, _req(m, "Queue"), _req(m, "Uniqueid"), _req(m, "Linkedid"),
        _callerid(m, "CallerIDNum"), _name(m), _int(m, "Position")),
    "QueueCallerLeave": lambda m, at: ev.CallerLeftQueue(
        at, _req(m, "Queue"), _req(m, "Uniqueid"), _req(m, "Linkedid")),
    "QueueCallerAbandon": lambda m, at: ev.CallerAbandoned(
        at, _req(m, "Queue"), _req(m, "Uniqueid"), _req(m, "Linkedid"), _int(m, "HoldTime")),
    "AgentCalled": _agent_ringing,
    "AgentRingNoAnswer": _agent_event(ev.AgentRingNoAnswer, "RingTime"),
    "AgentConnect": _agent_event(ev.AgentConnected, "HoldTime"),
    "AgentComplete": _agent_complete,
    "DeviceStateChange": _device,
    "QueueMemberStatus": _member,
    "QueueMemberAdded": _member,
    "QueueMemberPause": _member,
    "QueueMember": _member,  # QueueStatus list item
    "QueueMemberRemoved": lambda m, at: (
        ev.QueueMemberRemoved(at, _req(m, "Queue"), a) if (a := _agent(m)) else None),
    "ContactStatus": _contact,
    "ContactList": _contact_listed,  # PJSIPShowContacts list item
    "CoreShowChannel": lambda m, at: ev.ChannelListed(
        at, _req(m, "Uniqueid"), _req(m, "Linkedid"), _req(m, "Channel"),
        _callerid(m, "CallerIDNum"), _name(m), _duration(m.get("Duration")),
        str(m.get("BridgeId") or ""), channel_variables(m).get(FACTS_VARIABLE, "")),
    "CoreShowChannelsComplete": lambda m, at: ev.ChannelsListed(at),
    "QueueEntry": lambda m, at: ev.QueueEntryListed(
        at, _req(m, "Queue"), _req(m, "Uniqueid"), _callerid(m, "CallerIDNum", QUEUE_ENTRY_ABSENT),
        _name(m, ami_escaped=False, absent=QUEUE_ENTRY_ABSENT), _int(m, "Position"), _elapsed(_int(m, "Wait"), "Wait")),
}


def channel_variables(msg: Mapping[str, Any]) -> dict[str, str]:
    """The ``ChanVariable: NAME=value`` headers of a channel's message (manager.conf channelvars): one
    header is a string, several a list (panoramisk, ``parse_frame``)."""
    raw = msg.get("ChanVariable") or []
    out: dict[str, str] = {}
    for item in [raw] if isinstance(raw, str) else raw:
        name, sep, value = str(item).partition("=")
        if sep:
            out[name] = value
    return out


def _duration(value: Any) -> int:
    """Seconds from CoreShowChannel's ``HH:MM:SS`` Duration."""
    try:
        h, m, s = (int(p) for p in str(value or "0:0:0").split(":"))
    except ValueError:
        return 0
    return _elapsed(h * 3600 + m * 60 + s, "Duration")


def translate(msg: Mapping[str, Any], at: float) -> ev.Event | None:
    """The event for one AMI message, or None when Switchboard does not use it; raises MalformedFrame."""
    name = msg.get("Event")
    builder = TABLE.get(str(name)) if name else None
    if builder is None:
        return None
    return builder(msg, at)


def _route_requested(msg: Mapping[str, Any], at: float) -> ev.Event | None:
    args = msg.get("args") or []
    if not args or args[0] != "route":
        return None
    channel = msg.get("channel") or {}
    caller = channel.get("caller") or {}
    dialled = str(args[3]) if len(args) > 3 and args[3] else str((channel.get("dialplan") or {}).get("exten") or "")
    return ev.RouteRequested(at, _req(channel, "id"), str(caller.get("number") or ""),
                             str(caller.get("name") or ""), dialled,
                             str(args[1]) if len(args) > 1 else "", str(args[2]) if len(args) > 2 else "")


# ARI's events (JSON objects keyed by "type"): the same one-table idea as AMI's.
ARI_TABLE: dict[str, Builder] = {
    "StasisStart": _route_requested,
}


def translate_ari(message: Mapping[str, Any], at: float) -> ev.Event | None:
    """The event for one ARI message, or None when Switchboard does not use it; raises MalformedFrame."""
    builder = ARI_TABLE.get(str(message.get("type") or ""))
    return builder(message, at) if builder is not None else None


def ami_event_filter() -> str:
    """The AMI session filter (a POSIX extended regex on each event's text) that lets through only the
    events ``TABLE`` translates: Asterisk does not send this session the rest (a few dozen per call)."""
    return f"^Event: ({'|'.join(sorted(TABLE))})[[:space:]]"


def translate_or_skip(msg: Mapping[str, Any], at: float) -> ev.Event | None:
    """Like ``translate``, but a malformed message is logged and skipped (None)."""
    try:
        return translate(msg, at)
    except MalformedFrame as exc:
        logger.warning("skipped malformed AMI message: %s", exc)
        return None


def translate_all(messages: Iterator[tuple[float, Mapping[str, Any]]]) -> Iterator[ev.Event]:
    """Translate a stream, logging and skipping malformed messages."""
    for at, msg in messages:
        event = translate_or_skip(msg, at)
        if event is not None:
            yield event
