"""The one phone-number normaliser (``phonenumbers``): what a call's number is, and how it is shown.

A caller's number is untrusted text from the carrier. It is kept as E.164 when it is a valid number
(``+1 (415) 555-0199`` -> ``+14155550199``), as the raw text when it is not (``*31#``, ``12``), as ''
when there is none, and as ``anonymous`` when the carrier withheld it. Display, caller lookup and the
call's Task all use the value from here, so one caller is one number everywhere.
"""

from __future__ import annotations

import re

import phonenumbers

HIDDEN = "Hidden number"
ANONYMOUS = "Anonymous"
ANONYMOUS_VALUE = "anonymous"
# What carriers (and Asterisk) send for a withheld number.
_WITHHELD = frozenset({"anonymous", "restricted", "private", "unavailable", "unknown", "withheld", "<unknown>"})
# What a dialled number may hold besides digits. Letters are not read as keypad digits (phonenumbers would
# turn an agent's name, "xfc2x1933", into +35821933): text with letters is kept as it is.
_NUMBER_TEXT = re.compile(r"^\+?[0-9()\-. /]+$")


def normalize_number(raw: str | None, region: str = "FI") -> str:
    """E.164 when ``raw`` is a valid number, 'anonymous' when withheld, '' when absent, else the raw text."""
    text = (raw or "").strip()
    if not text:
        return ""
    if text.lower() in _WITHHELD:
        return ANONYMOUS_VALUE
    if not _NUMBER_TEXT.match(text):
        return text
    try:
        parsed = phonenumbers.parse(text, region or None)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(parsed):
        return text
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display_number(number: str | None) -> str:
    """How a normalised number is shown: itself, or 'Hidden number' / 'Anonymous' when there is none."""
    if not number:
        return HIDDEN
    if number == ANONYMOUS_VALUE:
        return ANONYMOUS
    return number


_C_ESCAPE = re.compile(r"\\(.)", re.S)
_C_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def caller_name_text(value: str, *, ami_escaped: bool = True) -> str:
    """A caller name as the caller sent it, from AMI's ``CallerIDName`` (or the call ledger's, not escaped).

    The one place that undoes the escaping on the way: AMI C-escapes names in channel snapshots
    (``O\\'Brien \\?`` for ``O'Brien ?``; QueueStatus' QueueEntry does not), and Asterisk keeps a SIP
    display name's quoted-pairs (``\\"`` and ``\\\\``) as they came in the From header.
    """
    if ami_escaped:
        value = _C_ESCAPE.sub(lambda m: _C_ESCAPES.get(m.group(1), m.group(1)), value)
    return _C_ESCAPE.sub(lambda m: m.group(1), value)


def sip_display_name(header: str) -> str:
    """The display name of a SIP name-addr header value (``"O\\"Brien" <sip:…>;tag=…`` -> ``O"Brien``)."""
    value = header.strip()
    if value.startswith('"'):
        out, i = [], 1
        while i < len(value) and value[i] != '"':
            if value[i] == "\\" and i + 1 < len(value):
                i += 1  # a quoted-pair
            out.append(value[i])
            i += 1
        return "".join(out)
    before, sep, _ = value.partition("<")
    return before.strip() if sep else ""
