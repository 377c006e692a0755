"""The live model of calls, queue entries and agents: ``Model.apply(event) -> list[Change]``, no I/O."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator import events as ev
from orchestrator.legs import Bridges, keeper
from orchestrator.translate import endpoint_of_channel
from switchboard.calls import Caller, CallFacts, call_summary, fold_facts, parse_facts
from switchboard.numbers import display_number, normalize_number

logger = logging.getLogger(__name__)


# ---- changes: what the dispatcher acts on --------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Change:
    """Base of every change the model reports."""


@dataclass(frozen=True, slots=True)
class CallOffered(Change):
    """An agent's phone rings for a queue call."""

    agent: str
    call: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallPlaced(Change):
    """An agent placed an outbound call to a customer."""

    agent: str
    call: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallAnswered(Change):
    """An agent answered a queue call."""

    agent: str
    call_id: str
    answered_at: float
    call: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OfferWithdrawn(Change):
    """An agent's phone stopped ringing for a call they did not answer."""

    agent: str
    call_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallEnded(Change):
    """A customer call is over; ``summary`` is the JSON-able call activity."""

    summary: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AgentLegLost(Change):
    """An agent's browser went away mid-call: ``leg_channel`` (see orchestrator/legs.py) takes the call
    back and rings the agent's next registration; ``agent_channel`` is the dead browser leg."""

    agent: str
    call_id: str
    leg_channel: str
    agent_channel: str


@dataclass(frozen=True, slots=True)
class AgentLeftCall(Change):
    """An agent is no longer on a call: it was transferred to someone else, or (the caller's side of a
    colleague's call) it ended."""

    agent: str
    call_id: str


@dataclass(frozen=True, slots=True)
class CallAdopted(Change):
    """A restarted orchestrator found ``agent`` on this call (a resync): keep it as the agent's current call
    (``call`` as the agent sees it), without telling anyone it was answered again."""

    agent: str
    call: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AgentChanged(Change):
    """An agent's presence as Asterisk sees it changed."""

    agent: str
    view: dict[str, Any]


# ---- state -----------------------------------------------------------------------------------------
@dataclass
class Call(CallFacts):
    """A customer call, keyed by the Asterisk linkedid: its facts (switchboard.calls) and what the live
    model follows besides (who is rung, which channels take it back)."""

    ringing: set[str] = field(default_factory=set)
    dialer_uniqueid: str = ""
    queue_caller: str = ""  # uniqueid of the customer's channel in the queue (takes the call back on a reload)
    direct: set[str] = field(default_factory=set)  # agents rung directly (a direct call, a transfer)
    caller_agent: str = ""  # the agent who placed a direct call to a colleague
    caller_answered_at: float | None = None
    consultee: str = ""  # the agent a consult transfer from a SIP phone's page talks to, not yet joined
    consultee_uniqueid: str = ""
    # Pick mode (orchestrator/picking.py): the channel waiting in Queue() now ('' when none), and how many
    # times the call entered a queue (a claim on it ends when it enters one again)
    waiting_channel: str = ""
    queue_joins: int = 0


@dataclass(frozen=True, slots=True)
class AgentLeg:
    """An agent's own channel in a call (``Model.agent_leg``): what call control from the page acts on."""

    channel: str
    uniqueid: str
    bridged: bool  # answered and talking (in a bridge), not ringing
    peer: str  # the channel name bridged with it ('' when none, or more than one)


@dataclass
class Membership:
    """An agent's membership of one queue."""

    paused: bool = False
    paused_reason: str = ""
    in_call: bool = False
    calls_taken: int = 0


@dataclass
class AgentPresence:
    """What Asterisk says about one agent."""

    name: str
    device_state: str = "unknown"
    registered: bool | None = None
    queues: dict[str, Membership] = field(default_factory=dict)
    contacts: set[str] = field(default_factory=set)  # reachable registrations (URIs): a second tab is one more

    def view(self) -> dict[str, Any]:
        """A JSON-able view for the web phone and the board."""
        return {
            "agent": self.name,
            "device_state": self.device_state,
            "registered": self.registered,
            "paused": bool(self.queues) and all(m.paused for m in self.queues.values()),
            "queues": sorted(self.queues),
            "paused_queues": sorted(q for q, m in self.queues.items() if m.paused),
        }


@dataclass
class ResyncWindow:
    """What a running resync has reported so far, and what happened live meanwhile."""

    channels: set[str] = field(default_factory=set)  # uniqueids listed or created live
    gone: set[str] = field(default_factory=set)  # uniqueids hung up live: a later listing of them is stale
    members: set[tuple[str, str]] = field(default_factory=set)  # (agent, queue)
    devices: set[str] = field(default_factory=set)  # agents whose device state was reported
    contacts: set[str] = field(default_factory=set)  # agents whose registration was reported
    contact_uris: set[tuple[str, str]] = field(default_factory=set)  # (agent, contact) reported or created live
    facts: dict[str, list[ev.ChannelListed]] = field(default_factory=dict)  # linkedid -> its listed channels with facts


# Events about one endpoint (``agent``): the model acts on them only for provisioned agents.
AGENT_EVENTS = (ev.DeviceStateChanged, ev.QueueMemberUpdated, ev.QueueMemberRemoved, ev.ContactChanged,
                ev.ContactListed, ev.AgentRinging, ev.AgentRingNoAnswer, ev.AgentConnected, ev.AgentCompleted,
                ev.OutboundDialed, ev.DirectDialed)


def _uniqueid_order(uniqueid: str) -> tuple[int, int, str]:
    """Asterisk uniqueids (``<epoch>.<counter>``: ``1764000000.42``) in creation order."""
    epoch, _, counter = uniqueid.partition(".")
    try:
        return int(epoch), int(counter or 0), uniqueid
    except ValueError:
        return 0, 0, uniqueid


class Model:
    """Calls, queue entries and agents, changed only by ``apply``."""

    def __init__(self, queue_labels: Mapping[str, str] | None = None,
                 queue_numbers: Mapping[str, str] | None = None, agents: Iterable[str] = (),
                 region: str = "FI") -> None:
        self.queue_labels = dict(queue_labels or {})
        self.region = region  # for numbers without a country code (switchboard.numbers)
        self.queue_numbers = dict(queue_numbers or {})
        # The endpoints provisioned for agents (AgentsProvisioned): any other endpoint (a trunk, a phone
        # we do not manage) is a customer or another party, whatever its channel looks like.
        self.provisioned: frozenset[str] = frozenset(agents)
        # Agents on a SIP phone (AgentsProvisioned.sip_phones): a registration that ends does not end their
        # calls (a desk phone re-registers, or its registration expires, while the call's media goes on).
        self.sip_phones: frozenset[str] = frozenset()
        self.calls: dict[str, Call] = {}
        self.channels: dict[str, str] = {}  # uniqueid -> linkedid
        self.channel_names: dict[str, str] = {}  # uniqueid -> channel name
        self.first_seen: dict[str, float] = {}  # linkedid -> time its first channel appeared
        # linkedid -> the caller's whole name from the trunk's identity header (Asterisk's caller ID keeps 79
        # bytes of it): the name a call from the trunk shows
        self.caller_names: dict[str, str] = {}
        self.agents: dict[str, AgentPresence] = {}
        self.bridges = Bridges()
        self._resync: ResyncWindow | None = None  # set between ResyncStarted and ResyncCompleted

    # -- public -------------------------------------------------------------------------------------
    def apply(self, event: ev.Event) -> list[Change]:
        """Apply one event and return what changed."""
        handler = getattr(self, "_on_" + type(event).__name__, None)
        if handler is None:
            return []
        if isinstance(event, AGENT_EVENTS) and not self.is_agent(event.agent):
            return []  # an endpoint that is no agent of ours (the trunk, an unmanaged phone)
        return handler(event)

    def call_view(self, call: Call) -> dict[str, Any]:
        """A JSON-able view of a live call."""
        return {
            "call_id": call.call_id,
            "caller_number": call.caller_number,
            "caller_display": display_number(call.caller_number),
            "caller_name": call.caller_name,
            "queue": call.queue,
            "queue_label": self.queue_labels.get(call.queue, call.queue),
            "direction": call.direction,
            "display_number": call.display_number,
            "offered_at": call.joined_at,
            "agent": call.agent,
            "answered_at": call.answered_at,
        }

    def caller_view(self, call: Call) -> dict[str, Any]:
        """The colleague's call as the agent who placed it sees it (an outbound call to the callee)."""
        callee = call.agent or next(iter(sorted(call.direct)), "")
        return {**self.call_view(call), "caller_number": callee, "caller_display": callee, "caller_name": "",
                "direction": "outbound",
                "agent": call.caller_agent, "answered_at": call.caller_answered_at}

    def _number(self, raw: str) -> str:
        return normalize_number(raw, self.region)

    def is_agent(self, endpoint: str | None) -> bool:
        """Whether ``endpoint`` is one Switchboard provisioned for an agent."""
        return bool(endpoint) and endpoint in self.provisioned

    def agent_of_channel(self, channel: str) -> str | None:
        """The agent whose endpoint ``channel`` belongs to (``PJSIP/agent1-0000002a``), else None."""
        endpoint = endpoint_of_channel(channel)
        return endpoint if self.is_agent(endpoint) else None

    def agent_leg(self, agent: str, call_id: str) -> AgentLeg | None:
        """``agent``'s own channel in the call ``call_id`` (the one in a bridge, else the newest), or None
        when the agent has none: the check that an agent is on the call they act on."""
        mine = sorted((u for u, lid in self.channels.items() if lid == call_id
                       and endpoint_of_channel(self.channel_names.get(u, "")) == agent and self.is_agent(agent)),
                      key=lambda u: (bool(self.bridges.bridge_of(u)), _uniqueid_order(u)))
        if not mine:
            return None
        uniqueid = mine[-1]
        peer = self.bridges.peer(uniqueid)
        return AgentLeg(self.channel_names[uniqueid], uniqueid, bool(self.bridges.bridge_of(uniqueid)),
                        self.channel_names.get(peer, ""))

    def legs_named(self, call_id: str, prefix: str) -> list[tuple[str, bool]]:
        """The channels of call ``call_id`` whose name starts with ``prefix``: (name, in a bridge), oldest first."""
        return [(self.channel_names.get(u, ""), bool(self.bridges.bridge_of(u)))
                for u in sorted((u for u, lid in self.channels.items() if lid == call_id
                                 and self.channel_names.get(u, "").startswith(prefix)), key=_uniqueid_order)]

    def agent(self, name: str) -> AgentPresence:
        """The presence record of an agent, created on first mention."""
        presence = self.agents.get(name)
        if presence is None:
            presence = self.agents[name] = AgentPresence(name)
        return presence

    def _on_AgentsProvisioned(self, e: ev.AgentsProvisioned) -> list[Change]:
        self.provisioned = frozenset(e.agents)
        self.sip_phones = frozenset(e.sip_phones)
        for name in set(self.agents) - self.provisioned:
            del self.agents[name]  # deleted from the database: no longer an agent
        changes: list[Change] = []
        for name, queues in e.memberships:
            presence = self.agents.get(name)
            if presence is None or not set(presence.queues) - queues:
                continue
            before = presence.view()
            for queue in set(presence.queues) - queues:
                del presence.queues[queue]
            changes += self._changed(presence, before)
        return changes

    # -- channels -----------------------------------------------------------------------------------
    def _on_ChannelCreated(self, e: ev.ChannelCreated) -> list[Change]:
        if self._resync is not None:  # created after the listing: not vanished
            self._resync.channels.add(e.uniqueid)
        self.channels[e.uniqueid] = e.linkedid
        self.channel_names[e.uniqueid] = e.channel
        self.first_seen.setdefault(e.linkedid, e.at)
        return []

    def _on_CallerIdentity(self, e: ev.CallerIdentity) -> list[Change]:
        if not e.caller_name:  # none in the header, or [sb-inbound] could not read it: Asterisk's caller ID stands
            return []
        self.caller_names[e.linkedid] = e.caller_name
        call = self.calls.get(e.linkedid)
        if call is not None and call.direction == "inbound" and not call.caller_agent:
            call.caller_name = e.caller_name
        return []

    def _name(self, linkedid: str, asterisk_name: str) -> str:
        """The caller's name: whole from the trunk's header when we have it, else Asterisk's caller ID."""
        return self.caller_names.get(linkedid, asterisk_name)

    def _on_ChannelListed(self, e: ev.ChannelListed) -> list[Change]:
        if self._resync is not None:
            if e.uniqueid in self._resync.gone:
                return []
            self._resync.channels.add(e.uniqueid)
        if e.uniqueid not in self.channels:
            self.channels[e.uniqueid] = e.linkedid
            self.channel_names[e.uniqueid] = e.channel
            if e.linkedid not in self.calls:  # a call that began while we were away began with its oldest channel
                self.first_seen[e.linkedid] = min(self.first_seen.get(e.linkedid, e.at), e.at - e.seconds)
        self.bridges.enter(e.uniqueid, e.bridge)
        if self._resync is not None and e.facts and e.linkedid not in self.calls:
            self._resync.facts.setdefault(e.linkedid, []).append(e)
        return []

    def _on_ChannelsListed(self, e: ev.ChannelsListed) -> list[Change]:
        """The channel listing is complete: adopt the calls in progress that we do not hold (we restarted),
        from the facts the dialplan left on their channels (switchboard.calls)."""
        if self._resync is None:
            return []
        changes: list[Change] = []
        for linkedid, listed in sorted(self._resync.facts.items()):
            if linkedid not in self.calls and any(c.uniqueid in self.channels for c in listed):
                changes += self._adopt(linkedid, listed)
        self._resync.facts.clear()
        return changes

    def _adopt(self, linkedid: str, listed: list[ev.ChannelListed]) -> list[Change]:
        # The call's first channel (uniqueid = linkedid) holds every fact and the caller's ID; when it is
        # gone (an agent's outbound call whose browser leg was lost), the channel that recorded the most.
        source = next((c for c in listed if c.uniqueid == linkedid), None) or max(listed, key=lambda c: len(c.facts))
        started = self.first_seen.get(linkedid, source.at - source.seconds)
        facts = fold_facts(parse_facts(source.facts), Caller(linkedid, source.caller_number, source.caller_name,
                                                             started), self.region)
        if facts is None:
            return []
        call = Call(**vars(facts))
        if call.direction == "outbound":
            call.dialer_uniqueid = source.uniqueid
        elif call.queue:
            call.queue_caller = source.uniqueid
        else:  # a direct call: from a colleague when its first channel is an agent's
            caller = self.agent_of_channel(source.channel) if source.uniqueid == linkedid else None
            if caller and caller != call.agent:
                call.caller_agent, call.caller_answered_at = caller, call.answered_at
        self.calls[linkedid] = call
        logger.info("adopted call %s in progress (%s, queue %r, agent %r)", linkedid, call.direction, call.queue,
                    call.agent)
        changes: list[Change] = []
        if call.agent and call.answered_at is not None:
            changes.append(CallAdopted(call.agent, self.call_view(call)))
        if call.caller_agent and call.caller_answered_at is not None:
            changes.append(CallAdopted(call.caller_agent, self.caller_view(call)))
        return changes

    def _on_BridgeChanged(self, e: ev.BridgeChanged) -> list[Change]:
        if not e.entered:
            self.bridges.leave(e.uniqueid, e.bridge)
            return []
        self.bridges.enter(e.uniqueid, e.bridge)
        # A call answered after the agent's browser went away (an outbound call the customer picks up
        # while the agent is offline): take it back at once rather than leave the customer in silence.
        changes: list[Change] = []
        for uniqueid in self.bridges.members(e.bridge):
            agent = self.agent_of_channel(self.channel_names.get(uniqueid, ""))
            if agent and agent in self.agents and self.agents[agent].registered is False:
                changes += self._leg_lost(agent, uniqueid)
        return changes

    def _on_ChannelHungUp(self, e: ev.ChannelHungUp) -> list[Change]:
        if self._resync is not None:
            self._resync.gone.add(e.uniqueid)
        linkedid = self.channels.pop(e.uniqueid, e.linkedid)
        name = self.channel_names.pop(e.uniqueid, None) or ""
        self.bridges.forget(e.uniqueid)
        changes = self._consultation_over(self.calls.get(linkedid), e.uniqueid, name, e.at)
        if any(lid == linkedid for lid in self.channels.values()):
            return changes
        self.first_seen.pop(linkedid, None)
        self.caller_names.pop(linkedid, None)
        call = self.calls.pop(linkedid, None)
        if call is None:
            return changes
        return changes + self._end(call, e.at)

    def _consultation_over(self, call: Call | None, uniqueid: str, name: str, at: float) -> list[Change]:
        """A channel of a call under consultation ended: the consulted agent's (cancelled, or they hung up:
        they leave the call) or the consulting agent's (the transfer completed: the call is the other's)."""
        if call is None or not call.consultee:
            return []
        consultee = call.consultee
        if uniqueid == call.consultee_uniqueid:
            call.consultee = call.consultee_uniqueid = ""
            return [AgentLeftCall(consultee, call.call_id)]
        if self.agent_of_channel(name) != call.agent or call.consultee_uniqueid not in self.channels:
            return []
        call.consultee = call.consultee_uniqueid = ""
        before = call.take(consultee, at)
        return [AgentLeftCall(before, call.call_id)]

    def _end(self, call: Call, at: float) -> list[Change]:
        changes: list[Change] = [OfferWithdrawn(a, call.call_id, "caller hung up") for a in sorted(call.ringing)]
        changes.append(CallEnded(call_summary(call, at, self.queue_labels, self.queue_numbers)))
        if call.caller_agent and call.caller_answered_at is not None and call.caller_agent != call.agent:
            changes.append(AgentLeftCall(call.caller_agent, call.call_id))
        return changes

    # -- queue calls ---------------------------------------------------------------------------------
    def _on_CallRouted(self, e: ev.CallRouted) -> list[Change]:
        if e.linkedid not in self.calls:  # a new call (a transfer to a queue number routes a call we have)
            self.calls[e.linkedid] = Call.queued(e.linkedid, self._number(e.caller_number),
                                                 self._name(e.linkedid, e.caller_name), e.queue,
                                                 self.first_seen.get(e.linkedid, e.at), e.at, queue_caller=e.uniqueid)
        return []

    def _on_CallerJoinedQueue(self, e: ev.CallerJoinedQueue) -> list[Change]:
        call = self.calls.get(e.linkedid)
        changes: list[Change] = []
        if call is None:
            call = self.calls[e.linkedid] = Call.queued(
                e.linkedid, self._number(e.caller_number), self._name(e.linkedid, e.caller_name), e.queue,
                self.first_seen.get(e.linkedid, e.at), e.at, queue_caller=e.uniqueid)
        elif call.answered_at is None and call.left_queue_at is not None and call.queue == e.queue:
            call.left_queue_at = None  # back from a pick its agent did not answer ([sb-pick]): the wait goes on
        else:  # moved to another queue (or reached the first after a preferred agent: [sb-preferred])
            call.join_queue(e.queue, e.at)
        if call.answered_at is None:  # an agent rung directly (a pick, a preferred agent) did not answer
            changes = self._direct_over(call, "no answer")
        call.waiting_channel = e.uniqueid
        call.queue_joins += 1
        return changes

    def _direct_over(self, call: Call, reason: str) -> list[Change]:
        """The agents rung directly for ``call`` are rung no more."""
        over = sorted(call.direct & call.ringing)
        call.ringing -= call.direct
        call.direct.clear()
        return [OfferWithdrawn(a, call.call_id, reason) for a in over]

    def _on_QueueEntryListed(self, e: ev.QueueEntryListed) -> list[Change]:
        if self._resync is not None and e.uniqueid in self._resync.gone:
            return []
        linkedid = self.channels.get(e.uniqueid, e.uniqueid)
        if linkedid not in self.calls:
            joined = e.at - e.wait
            self.calls[linkedid] = Call.queued(linkedid, self._number(e.caller_number),
                                               self._name(linkedid, e.caller_name), e.queue,
                                               self.first_seen.get(linkedid, joined), joined, queue_caller=e.uniqueid)
        call = self.calls[linkedid]
        if not call.waiting_channel:
            call.waiting_channel, call.queue_joins = e.uniqueid, max(call.queue_joins, 1)
        return []

    def _on_CallerLeftQueue(self, e: ev.CallerLeftQueue) -> list[Change]:
        call = self.calls.get(e.linkedid)
        if call is not None:
            call.leave_queue(e.at)
            call.waiting_channel = ""
        return []

    def _on_AgentRinging(self, e: ev.AgentRinging) -> list[Change]:
        call = self.calls.get(e.linkedid)
        if call is None or e.agent in call.ringing:
            return []
        call.ringing.add(e.agent)
        return [CallOffered(e.agent, {**self.call_view(call), "rang_at": e.at})]

    def _on_AgentRingNoAnswer(self, e: ev.AgentRingNoAnswer) -> list[Change]:
        call = self.calls.get(e.linkedid)
        if call is None or e.agent not in call.ringing:
            return []
        call.ringing.discard(e.agent)
        return [OfferWithdrawn(e.agent, call.call_id, "no answer")]

    def _on_AgentConnected(self, e: ev.AgentConnected) -> list[Change]:
        call = self.calls.get(e.linkedid)
        if call is None:
            return []
        others = sorted(call.ringing - {e.agent})
        call.ringing.clear()
        call.connect(e.agent, e.at)
        changes: list[Change] = [OfferWithdrawn(a, call.call_id, "answered elsewhere") for a in others]
        changes.append(CallAnswered(e.agent, call.call_id, e.at, self.call_view(call)))
        return changes

    # -- agents' outbound calls -------------------------------------------------------------------------
    def _on_OutboundDialed(self, e: ev.OutboundDialed) -> list[Change]:
        if e.linkedid in self.calls:
            return []
        call = Call.outbound(e.linkedid, e.agent, self._number(e.number), "" if e.hidden else e.display,
                             self.first_seen.get(e.linkedid, e.at), e.at, dialer_uniqueid=e.uniqueid)
        self.calls[e.linkedid] = call
        return [CallPlaced(e.agent, self.call_view(call))]

    def _on_DialAnswered(self, e: ev.DialAnswered) -> list[Change]:
        call = self.calls.get(e.linkedid)
        if call is None:
            return []
        changes: list[Change] = []
        if e.uniqueid == call.dialer_uniqueid and call.pick_up(e.at):
            changes.append(CallAnswered(call.agent, call.call_id, e.at, self.call_view(call)))
        callee = self.agent_of_channel(e.dest_channel)
        if callee and callee in call.direct and e.consultation and call.agent and callee != call.agent:
            # a consultation: the call stays with its agent until the transfer completes (their leg ends)
            call.consultee, call.consultee_uniqueid = callee, e.dest_uniqueid
            changes.append(self._answered_directly(call, callee, e.at))
        elif callee and callee in call.direct:
            changes += self._taken_directly(call, callee, e.at)
        caller_answered = self.agent_of_channel(e.channel) == call.caller_agent
        if call.caller_agent and call.caller_answered_at is None and caller_answered:
            call.caller_answered_at = e.at
            changes.append(CallAnswered(call.caller_agent, call.call_id, e.at, self.caller_view(call)))
        return changes

    # -- direct calls: a colleague, a work number, a transfer to an agent ---------------------------------
    def _on_DirectDialed(self, e: ev.DirectDialed) -> list[Change]:
        changes: list[Change] = []
        call = self.calls.get(e.linkedid)
        if call is None:  # a new direct call (a transfer rings an agent for a call we already have)
            caller = self.agent_of_channel(self.channel_names.get(e.uniqueid, "")) or ""
            call = Call.direct(e.linkedid, self._number(e.caller_number), self._name(e.linkedid, e.caller_name),
                               self.first_seen.get(e.linkedid, e.at), e.at,
                               caller_agent=caller if caller != e.agent else "")
            self.calls[e.linkedid] = call
            call.direct.add(e.agent)
            if call.caller_agent:
                changes.append(CallPlaced(call.caller_agent, self.caller_view(call)))
        if e.agent in call.direct and e.agent in call.ringing:
            return changes
        call.direct.add(e.agent)
        call.ringing.add(e.agent)
        changes.append(CallOffered(e.agent, {**self.call_view(call), "rang_at": e.at}))
        return changes

    def _taken_directly(self, call: Call, agent: str, at: float) -> list[Change]:
        """``agent`` answered a direct call or took a transferred one: the call is theirs now."""
        before = call.take(agent, at)
        left: list[Change] = [AgentLeftCall(before, call.call_id)] if before and before != agent else []
        return [*left, self._answered_directly(call, agent, at)]

    def _answered_directly(self, call: Call, agent: str, at: float) -> CallAnswered:
        """``agent``, rung directly, answered (a direct call, a transfer or a consultation): no longer rung."""
        call.direct.discard(agent)
        call.ringing.discard(agent)
        return CallAnswered(agent, call.call_id, at, {**self.call_view(call), "answered_at": at})

    # -- agents ------------------------------------------------------------------------------------------
    def _changed(self, presence: AgentPresence, before: dict[str, Any]) -> list[Change]:
        after = presence.view()
        return [] if after == before else [AgentChanged(presence.name, after)]

    def _on_DeviceStateChanged(self, e: ev.DeviceStateChanged) -> list[Change]:
        if self._resync is not None:
            self._resync.devices.add(e.agent)
        presence = self.agent(e.agent)
        before = presence.view()
        presence.device_state = e.state
        return self._changed(presence, before)

    def _on_ContactChanged(self, e: ev.ContactChanged) -> list[Change]:
        if self._resync is not None:
            self._resync.contacts.add(e.agent)
            if e.reachable:
                self._resync.contact_uris.add((e.agent, e.contact))
        presence = self.agent(e.agent)
        before = presence.view()
        if e.reachable:
            presence.contacts.add(e.contact)
        elif e.contact:
            presence.contacts.discard(e.contact)
        else:
            presence.contacts.clear()
        # A second tab's registration removes the first one's (remove_existing) after it was added: the
        # agent is still registered, and the first tab's call is alive on its own connection.
        presence.registered = bool(presence.contacts)
        changes = self._changed(presence, before)
        if not presence.registered:
            changes += self._legs_lost(e.agent)
        return changes

    def _legs_lost(self, agent: str) -> list[Change]:
        """The agent's browser legs in a call, each with the channel that takes the call back."""
        changes: list[Change] = []
        for uniqueid, name in sorted(self.channel_names.items()):
            if endpoint_of_channel(name) == agent:
                changes += self._leg_lost(agent, uniqueid)
        return changes

    def _leg_lost(self, agent: str, browser: str) -> list[Change]:
        if agent in self.sip_phones:
            return []  # only a browser's leg dies with its connection; a SIP phone's media does not
        linkedid = self.channels.get(browser, "")
        call = self.calls.get(linkedid)
        target = keeper(browser, call.queue_caller if call else "", self.channels, self.bridges)
        if not target:
            return []
        return [AgentLegLost(agent, linkedid, self.channel_names.get(target, ""), self.channel_names[browser])]

    def _on_QueueMemberUpdated(self, e: ev.QueueMemberUpdated) -> list[Change]:
        if self._resync is not None:
            self._resync.members.add((e.agent, e.queue))
        presence = self.agent(e.agent)
        before = presence.view()
        presence.queues[e.queue] = Membership(e.paused, e.paused_reason, e.in_call, e.calls_taken)
        return self._changed(presence, before)

    def _on_QueueMemberRemoved(self, e: ev.QueueMemberRemoved) -> list[Change]:
        presence = self.agent(e.agent)
        before = presence.view()
        presence.queues.pop(e.queue, None)
        return self._changed(presence, before)

    # -- resync: a full snapshot, then diff (expired = held - reported) ----------------------------------
    def _on_ResyncStarted(self, e: ev.ResyncStarted) -> list[Change]:
        self._resync = ResyncWindow()
        return []

    def _on_ResyncAborted(self, e: ev.ResyncAborted) -> list[Change]:
        self._resync = None  # an incomplete snapshot proves nothing gone
        return []

    def _on_ContactListed(self, e: ev.ContactListed) -> list[Change]:
        if self._resync is not None and not e.contact:
            if e.agent in self._resync.contacts and self.agent(e.agent).registered:
                return []  # another contact of this agent is already reachable
        return self._on_ContactChanged(ev.ContactChanged(e.at, e.agent, e.reachable, e.contact))

    def _on_ResyncCompleted(self, e: ev.ResyncCompleted) -> list[Change]:
        seen, self._resync = self._resync, None
        if seen is None:
            return []
        changes: list[Change] = []
        for uniqueid in sorted(set(self.channels) - seen.channels):
            changes += self._on_ChannelHungUp(ev.ChannelHungUp(e.at, uniqueid, self.channels[uniqueid], "", 0))
        # calls whose channels all vanished while we were away
        for linkedid in sorted(set(self.calls) - set(self.channels.values())):
            changes += self._end(self.calls.pop(linkedid), e.at)
        for linkedid in set(self.caller_names) - set(self.channels.values()):
            del self.caller_names[linkedid]
        unregistered = []
        for presence in list(self.agents.values()):
            before = presence.view()
            for queue in sorted(set(presence.queues)):
                if (presence.name, queue) not in seen.members:
                    presence.queues.pop(queue)
            if presence.name not in seen.devices:  # Asterisk no longer knows the device
                presence.device_state = "unavailable"
            presence.contacts = {c for c in presence.contacts if (presence.name, c) in seen.contact_uris}
            if not presence.contacts and presence.registered is not False:
                presence.registered = False  # no contact listed: the phone unregistered while we were away
                unregistered.append(presence.name)
            changes += self._changed(presence, before)
        for agent in unregistered:
            changes += self._legs_lost(agent)
        return changes
