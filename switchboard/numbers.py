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
