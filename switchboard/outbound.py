"""Agents' outbound calls: where Asterisk sends them, and signed display numbers (caller ID).

The web app offers an agent the display numbers they may use (company number, hidden, their work
number, the numbers of their queues) and signs each choice; the dialplan (``[sb-display]``) checks
the signature with the same key before it sets the caller ID, so a page cannot present a number it
was not given. See docs/architecture.md, "Outbound calls and display numbers".
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from switchboard.config import Settings

TOKEN_TTL_SECONDS = 12 * 3600  # as long as a login session
_KIND = re.compile(r"^(default|hidden|work|queue:[A-Za-z0-9_.-]+)$")


@dataclass(frozen=True)
class DisplayChoice:
    """One caller ID an agent may present: its header value, label, number and signed token."""

    kind: str
    label: str
    number: str
    token: str = ""

    def to_dict(self) -> dict[str, str]:
        """The JSON form for ``/api/display-numbers``."""
        return {"kind": self.kind, "label": self.label, "number": self.number, "token": self.token}


def display_key(secret_key: str) -> str:
    """The dialplan's signing key for display numbers, derived from the server secret."""
    return hmac.new(secret_key.encode(), b"switchboard display numbers v1", hashlib.sha256).hexdigest()[:40]


def display_signature(key: str, agent: str, kind: str, number: str, expires: int) -> str:
    """SHA-1 over ``key~agent~kind~number~expires~key``: what ``[sb-display]`` recomputes with SHA1()."""
    return hashlib.sha1(f"{key}~{agent}~{kind}~{number}~{expires}~{key}".encode()).hexdigest()


def display_token(secret_key: str, agent: str, kind: str, number: str, now: float | None = None) -> str:
    """The ``X-Switchboard-Display-Token`` value ``number~expires~signature`` for one choice."""
    if not _KIND.match(kind):
        raise ValueError(f"not a display kind: {kind!r}")
    expires = int(now if now is not None else time.time()) + TOKEN_TTL_SECONDS
    sig = display_signature(display_key(secret_key), agent, kind, number, expires)
    return f"{number}~{expires}~{sig}"


def split_dial_template(template: str) -> tuple[str, str]:
    """``PJSIP/{number}@trunk`` -> (``PJSIP/``, ``@trunk``): the dialplan globals around the number."""
    if template.count("{number}") != 1:
        raise ValueError(f"outbound_dial must contain {{number}} once: {template!r}")
    prefix, suffix = template.split("{number}")
    return prefix, suffix


def dialplan_globals(settings: Settings) -> dict[str, str]:
    """The per-instance dialplan globals (generated/extensions_globals.conf): outbound calls, and how long a
    picked call rings its agent (pick mode)."""
    prefix, suffix = split_dial_template(settings.outbound_dial)
    return {
        "SB_OUTBOUND_PREFIX": prefix,
        "SB_OUTBOUND_SUFFIX": suffix,
        "SB_COMPANY_NUMBER": settings.company_number,
        "SB_DISPLAY_KEY": display_key(settings.secret_key) if settings.secret_key else "",
        "SB_PICK_SECONDS": str(int(settings.pick_ring_seconds)),
    }


DEFAULT_DIALPLAN_GLOBALS = {
    "SB_OUTBOUND_PREFIX": "PJSIP/", "SB_OUTBOUND_SUFFIX": "@trunk", "SB_COMPANY_NUMBER": "", "SB_DISPLAY_KEY": "",
    "SB_PICK_SECONDS": "20",
}


def render_dialplan_globals(values: dict[str, str]) -> str:
    """``[globals]`` lines for generated/extensions_globals.conf (defaults: outbound via the trunk)."""
    merged = {**DEFAULT_DIALPLAN_GLOBALS, **values}
    for name, value in merged.items():
        if not name.isidentifier() or any(c in value for c in "\r\n;"):
            raise ValueError(f"unsafe dialplan global {name}={value!r}")
    return "".join(f"{name} = {value}\n" for name, value in merged.items())
