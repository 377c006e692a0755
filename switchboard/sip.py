"""SIP credentials: per-agent passwords derived from the server secret, stored only as digests; and what
an agent's device (the web phone, or a desk phone / softphone / SIPp) needs to register."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from switchboard.config import Settings

DEFAULT_REALM = "switchboard"
# An agent's device: the web phone (JsSIP over WebSocket, WebRTC media), or a SIP phone (a desk phone,
# a softphone, SIPp in load tests) over UDP or TCP with plain RTP. Each has its own pjsip.conf template.
WEBRTC = "webrtc"
SIP = "sip"
DEVICES = (WEBRTC, SIP)
# What a SIP phone may offer (asterisk-conf/pjsip.conf [sb-agent-sip-endpoint]).
SIP_PHONE_CODECS = ("ulaw", "alaw", "opus")


def sip_md5_cred(username: str, realm: str, password: str) -> str:
    """The pjsip ``md5_cred`` digest (HA1) of a SIP user's password."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()


def derive_sip_password(secret_key: str, username: str, generation: int) -> str:
    """The SIP password of an agent, derived from the server secret and the agent's key generation."""
    if not secret_key:
        raise ValueError("secret_key is required to derive SIP passwords")
    mac = hmac.new(secret_key.encode(), f"sip:{username}:{generation}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


@dataclass(frozen=True)
class PhoneAccount:
    """What a SIP phone needs to register as an agent (printed by ``switchboard agent set --device sip``)."""

    username: str
    password: str
    domain: str
    udp_port: int
    tcp_port: int
    realm: str = DEFAULT_REALM
    codecs: tuple[str, ...] = SIP_PHONE_CODECS

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able view (the page of a SIP-phone agent shows it)."""
        return {"username": self.username, "password": self.password, "domain": self.domain,
                "udp_port": self.udp_port, "tcp_port": self.tcp_port, "realm": self.realm,
                "transports": ["udp", "tcp"], "codecs": list(self.codecs), "dtmf": "rfc4733"}

    def lines(self) -> list[str]:
        """The account as ``label: value`` lines for a person setting a phone up."""
        return [
            f"SIP user name:    {self.username}",
            f"Password:         {self.password}",
            f"Domain/registrar: {self.domain}",
            f"Port:             {self.udp_port} (UDP), {self.tcp_port} (TCP)",
            "Transport:        UDP or TCP (no TLS)",
            f"Auth realm:       {self.realm}",
            f"Codecs:           {', '.join(self.codecs)} (G.711 first)",
            "DTMF:             RFC 4733 (RTP events)",
        ]


def phone_account(settings: Settings, username: str, generation: int) -> PhoneAccount:
    """The account a SIP phone registers with as the agent ``username`` (password of key ``generation``)."""
    return PhoneAccount(username, derive_sip_password(settings.secret_key, username, generation),
                        settings.sip_domain, settings.sip_udp_port, settings.sip_tcp_port)
