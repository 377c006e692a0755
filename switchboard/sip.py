"""SIP credentials: per-agent passwords derived from the server secret, stored only as digests."""

from __future__ import annotations

import hashlib
import hmac

DEFAULT_REALM = "switchboard"


def sip_md5_cred(username: str, realm: str, password: str) -> str:
    """The pjsip ``md5_cred`` digest (HA1) of a SIP user's password."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()


def derive_sip_password(secret_key: str, username: str, generation: int) -> str:
    """The SIP password of an agent, derived from the server secret and the agent's key generation."""
    if not secret_key:
        raise ValueError("secret_key is required to derive SIP passwords")
    mac = hmac.new(secret_key.encode(), f"sip:{username}:{generation}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]
