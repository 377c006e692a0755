"""Salesforce record ids: key prefixes, 15-character ids and their 18-character case-safe form."""

from __future__ import annotations

import re

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")
# Scrambles sequence numbers so ids look like Salesforce ids (mixed case) yet stay unique:
# multiplying by a number coprime with 62 is a bijection modulo 62**7.
_SCRAMBLE = 2_147_483_647
_SPACE = 62**7


def _base62(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 62)
        out.append(BASE62[r])
    return "".join(reversed(out))


def case_safe_suffix(id15: str) -> str:
    """The three-character suffix that makes a 15-character id case-insensitively unique."""
    suffix = []
    for start in range(0, 15, 5):
        bits = 0
        for i, ch in enumerate(id15[start:start + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix.append(SUFFIX_ALPHABET[bits])
    return "".join(suffix)


def to18(record_id: str) -> str:
    """The 18-character form of a 15- or 18-character id."""
    return record_id[:15] + case_safe_suffix(record_id[:15])


def normalize_id(text: str) -> str | None:
    """The canonical 18-character id for ``text``, or None when it is not a well-formed id."""
    if not isinstance(text, str) or not ID_RE.match(text):
        return None
    if len(text) == 18 and text[15:].upper() != case_safe_suffix(text[:15]):
        return None
    return to18(text)


def key_prefix(record_id: str) -> str:
    """The three-character key prefix naming the object of an id."""
    return record_id[:3]


class IdGenerator:
    """Issues unique ids per key prefix, deterministically (same sequence on every run)."""

    def __init__(self, pod: str = "5g") -> None:
        self.pod = pod
        self._counters: dict[str, int] = {}

    def new_id(self, prefix: str) -> str:
        """A fresh 18-character id with ``prefix``."""
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        body = "000" + _base62((n * _SCRAMBLE) % _SPACE, 7)
        return to18(prefix + self.pod + body)
