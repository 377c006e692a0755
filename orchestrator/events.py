"""Small frozen events: Asterisk's AMI/ARI vocabulary translated into Switchboard's."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event; ``at`` is the time it was received (epoch seconds)."""

    at: float


@dataclass(frozen=True, slots=True)
class AsteriskBooted(Event):
    """Asterisk is fully booted (sent on login when it already is)."""


@dataclass(frozen=True, slots=True)
class AgentsProvisioned(Event):
    """The PJSIP endpoints Switchboard provisioned for its agents (from the database): only these are agents.
    ``sip_phones``: those whose device is a SIP phone (desk phone, softphone, SIPp), not the web phone."""

    agents: frozenset[str]
    sip_phones: frozenset[str] = frozenset()
    # (agent, the queues they are a member of now) for each agent, when known: a members reload (a profile
    # change) removes members without an AMI event, so the model drops the memberships not listed here
    memberships: tuple[tuple[str, frozenset[str]], ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelCreated(Event):
    """A channel appeared."""

    uniqueid: str
    linkedid: str
    channel: str
    caller_number: str
    caller_name: str


@dataclass(frozen=True, slots=True)
class ChannelHungUp(Event):
    """A channel is gone."""

    uniqueid: str
    linkedid: str
    channel: str
    cause: int


@dataclass(frozen=True, slots=True)
class CallerJoinedQueue(Event):
    """A caller entered a service pool queue."""

    queue: str
    uniqueid: str
    linkedid: str
    caller_number: str
    caller_name: str
    position: int


@dataclass(frozen=True, slots=True)
class CallRouted(Event):
    """An inbound call reached the routing hand-off for ``queue`` ([sb-route]): it is a call from now on."""

    uniqueid: str
    linkedid: str
    queue: str
    caller_number: str
    caller_name: str


@dataclass(frozen=True, slots=True)
class CallerLeftQueue(Event):
    """A caller left a queue (answered, abandoned or timed out)."""

    queue: str
    uniqueid: str
    linkedid: str


@dataclass(frozen=True, slots=True)
class CallerAbandoned(Event):
    """A caller hung up while waiting in a queue."""

    queue: str
    uniqueid: str
    linkedid: str
    hold_time: int


@dataclass(frozen=True, slots=True)
class AgentRinging(Event):
    """A queue rings an agent for a caller."""

    queue: str
    agent: str
    linkedid: str
    agent_uniqueid: str


@dataclass(frozen=True, slots=True)
class AgentRingNoAnswer(Event):
    """An agent did not answer (or declined) a queue call."""

    queue: str
    agent: str
    linkedid: str
    ring_time: int


@dataclass(frozen=True, slots=True)
class AgentConnected(Event):
    """An agent answered a queue call."""

    queue: str
    agent: str
    linkedid: str
    hold_time: int


@dataclass(frozen=True, slots=True)
class AgentCompleted(Event):
    """A queue call an agent answered has ended."""

    queue: str
    agent: str
    linkedid: str
    hold_time: int
    talk_time: int
    reason: str


@dataclass(frozen=True, slots=True)
class OutboundDialed(Event):
    """An agent's outbound call to a customer began (the dialplan's SwitchboardOutbound user event)."""

    uniqueid: str
    linkedid: str
    agent: str
    number: str
    display: str
    hidden: bool


@dataclass(frozen=True, slots=True)
class CallerIdentity(Event):
    """A call from the trunk: the caller's name whole, as the carrier sent it ([sb-inbound])."""

    uniqueid: str
    linkedid: str
    caller_name: str


@dataclass(frozen=True, slots=True)
class DialAnswered(Event):
    """The party a channel dialled answered (``channel`` dialled ``dest_channel``); ``consultation``: the
    dialling channel is a consult transfer's, started from a SIP-phone agent's page."""

    uniqueid: str
    linkedid: str
    channel: str = ""
    dest_uniqueid: str = ""
    dest_channel: str = ""
    consultation: bool = False


@dataclass(frozen=True, slots=True)
class DirectDialed(Event):
    """A direct call (a colleague, a work number, a transfer) rings an agent (the SwitchboardDirect user event)."""

    uniqueid: str
    linkedid: str
    agent: str
    caller_number: str
    caller_name: str


@dataclass(frozen=True, slots=True)
class BridgeChanged(Event):
    """A channel entered (it talks to the bridge's other channels) or left a bridge."""

    uniqueid: str
    bridge: str
    entered: bool


@dataclass(frozen=True, slots=True)
class DeviceStateChanged(Event):
    """An agent's device state changed (not_inuse, inuse, ringing, unavailable, ...)."""

    agent: str
    state: str


@dataclass(frozen=True, slots=True)
class QueueMemberUpdated(Event):
    """An agent's membership of a queue: added, its status, or its pause."""

    queue: str
    agent: str
    paused: bool
    paused_reason: str
    in_call: bool
    calls_taken: int


@dataclass(frozen=True, slots=True)
class QueueMemberRemoved(Event):
    """An agent is no longer a member of a queue."""

    queue: str
    agent: str


@dataclass(frozen=True, slots=True)
class ContactChanged(Event):
    """One SIP registration (``contact``: its URI; '' = the agent's registration as a whole) of an agent
    appeared or went away."""

    agent: str
    reachable: bool
    contact: str = ""


@dataclass(frozen=True, slots=True)
class RouteRequested(Event):
    """An inbound call reached the routing hand-off (ARI StasisStart of ``Stasis(app,route,QUEUE,IVR)``)."""

    channel_id: str
    caller_number: str
    caller_name: str
    dialed: str
    queue: str
    ivr: str = ""


@dataclass(frozen=True, slots=True)
class ResyncStarted(Event):
    """A resync from Asterisk begins: what follows is a full snapshot."""


@dataclass(frozen=True, slots=True)
class ChannelListed(Event):
    """A channel reported by a resync (CoreShowChannel)."""

    uniqueid: str
    linkedid: str
    channel: str
    caller_number: str
    caller_name: str
    seconds: int
    bridge: str = ""
    facts: str = ""  # the call's facts the dialplan left on this channel (SB_CALL_FACTS, switchboard.calls)


@dataclass(frozen=True, slots=True)
class ChannelsListed(Event):
    """The resync's channel listing is complete (CoreShowChannelsComplete)."""


@dataclass(frozen=True, slots=True)
class QueueEntryListed(Event):
    """A caller waiting in a queue, reported by a resync (QueueEntry)."""

    queue: str
    uniqueid: str
    caller_number: str
    caller_name: str
    position: int
    wait: int


@dataclass(frozen=True, slots=True)
class ContactListed(Event):
    """An agent's SIP registration reported by a resync (a PJSIPShowContacts ContactList item)."""

    agent: str
    reachable: bool
    contact: str = ""


@dataclass(frozen=True, slots=True)
class ResyncAborted(Event):
    """A resync could not finish (a listing failed or AMI went away): nothing is diffed."""


@dataclass(frozen=True, slots=True)
class ResyncCompleted(Event):
    """The resync snapshot is complete: anything held but not reported is gone."""
