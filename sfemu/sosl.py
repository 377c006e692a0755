"""SOSL syntax and term matching: ``FIND {term} IN PHONE FIELDS RETURNING Contact(Id, Name), ...``.

The search term honours SOSL escaping: the reserved characters ``? & | ! { } [ ] ( ) ^ ~ * : \\ " ' + -``
are literal when preceded by a backslash. Unescaped, ``*`` and ``?`` are wildcards, ``"`` delimits a
phrase, ``}`` ends the term, and the others are rejected (MALFORMED_SEARCH), so a client that forgets
to escape is caught here rather than in production. ``AND``, ``OR`` and ``AND NOT`` combine words.

Phone matching compares digits only: two numbers match when they are equal or when one (without
leading zeros, at least 7 digits) ends the other, so ``+358 40 123 4567``, ``040 1234567`` and
``+358401234567`` all match each other; a run of phone-like words (``040 123 4567``) is one number.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from sfemu.errors import ApiError, malformed_search
from sfemu.schema import TEXT_TYPES, ObjectDef, Record
from sfemu.soql import Condition, OrderItem, Parser, tokenize

RESERVED = frozenset("?&|!{}[]()^~*:\\\"'+-")
REJECTED_UNESCAPED = frozenset("&|!{[]()^~:'+-")
PHONE_PUNCTUATION = frozenset("+-(). /")
SCOPES = ("ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR")
MIN_TRAILING_DIGITS = 7
_WORD_CHAR = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class SearchAtom:
    """One word or phrase of a search term, as token regexes plus its digits when phone-like."""

    token_patterns: tuple[str, ...]
    digits: str | None
    negate: bool = False


@dataclass(frozen=True)
class SearchTerm:
    """An OR of AND-groups of atoms."""

    alternatives: tuple[tuple[SearchAtom, ...], ...]


@dataclass(frozen=True)
class ReturningSpec:
    """``Contact(Id, Name WHERE ... ORDER BY ... LIMIT n)``."""

    sobject: str
    fields: tuple[str, ...] = ()
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None


@dataclass(frozen=True)
class SoslQuery:
    """A parsed FIND statement."""

    term: SearchTerm
    scope: str
    returning: tuple[ReturningSpec, ...]
    limit: int | None = None


# digits -----------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=65536)
def phone_digits(text: str) -> str:
    """The decimal digits of ``text`` as ASCII (memoized: a search reads every record's phone fields)."""
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


def phone_digits_match(a: str, b: str) -> bool:
    """True when two digit strings denote the same number by their trailing national digits."""
    a, b = a.lstrip("0"), b.lstrip("0")
    if not a or not b:
        return False
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) >= MIN_TRAILING_DIGITS and long.endswith(short)


# term -------------------------------------------------------------------------------------------------
Char = tuple[str, bool]  # (character, was escaped)


def scan_term(text: str, start: int) -> tuple[list[Char], int]:
    """The characters between ``{`` at ``start`` and the matching unescaped ``}``, and the end position."""
    if start >= len(text) or text[start] != "{":
        raise malformed_search("Missing '{' after FIND")
    chars: list[Char] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text):
                break
            chars.append((text[i + 1], True))
            i += 2
            continue
        if c == "}":
            return chars, i + 1
        chars.append((c, False))
        i += 1
    raise malformed_search("Missing '}' at the end of the search term")


def _split_words(chars: list[Char]) -> list[tuple[list[Char], bool]]:
    """Words (and quoted phrases, flagged True) separated by unescaped whitespace."""
    words: list[tuple[list[Char], bool]] = []
    current: list[Char] = []
    in_phrase = False
    for c, escaped in chars:
        if c == '"' and not escaped:
            if current or in_phrase:
                words.append((current, in_phrase))
            current, in_phrase = [], not in_phrase
        elif c.isspace() and not escaped and not in_phrase:
            if current:
                words.append((current, False))
            current = []
        else:
            current.append((c, escaped))
    if in_phrase:
        raise malformed_search("Unbalanced quotation marks in the search term")
    if current:
        words.append((current, False))
    return words


def _atom(chars: list[Char], negate: bool) -> SearchAtom:
    tokens: list[str] = []
    current: list[str] = []
    for c, escaped in chars:
        if not escaped and c in "*?":
            current.append(r"[^\W_]*" if c == "*" else r"[^\W_]")
        elif _WORD_CHAR.match(c):
            current.append(re.escape(c.casefold()))
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    literal = [c for c, escaped in chars if escaped or c not in "*?"]
    phone_like = bool(literal) and all(c.isdecimal() or c in PHONE_PUNCTUATION for c in literal)
    digits = phone_digits("".join(literal)) if phone_like else None
    return SearchAtom(tuple(tokens), digits or None, negate)


def _is_phone_word(word: list[Char]) -> bool:
    return any(c.isdecimal() for c, _ in word) and all(c.isdecimal() or c in PHONE_PUNCTUATION for c, _ in word)


def _merge_phone_words(words: list[tuple[list[Char], bool]]) -> list[tuple[list[Char], bool]]:
    """Join runs of phone-like words (``040 123 4567``) into one word, as one number."""
    out: list[tuple[list[Char], bool]] = []
    for word, phrase in words:
        if out and not phrase and not out[-1][1] and _is_phone_word(word) and _is_phone_word(out[-1][0]):
            out[-1] = (out[-1][0] + [(" ", True)] + word, False)
        else:
            out.append((word, phrase))
    return out


def parse_term(chars: list[Char]) -> SearchTerm:
    """Build the OR/AND structure of a scanned term; rejects unescaped reserved characters."""
    for c, escaped in chars:
        if not escaped and c in REJECTED_UNESCAPED:
            raise malformed_search(f"Reserved character '{c}' in the search term must be escaped with a backslash")
    meaningful = sum(1 for c, escaped in chars if not c.isspace() and (escaped or c not in '*?"'))
    if meaningful < 2:
        text = "".join(c for c, _ in chars)
        raise malformed_search(f"search term must be longer than one character: {text}")
    alternatives: list[list[SearchAtom]] = [[]]
    negate = False
    for word, phrase in _merge_phone_words(_split_words(chars)):
        op = "".join(c for c, _ in word).upper() if not phrase and not any(e for _, e in word) else ""
        if op == "OR":
            alternatives.append([])
            negate = False
        elif op == "AND":
            continue
        elif op == "NOT":
            negate = True
        else:
            alternatives[-1].append(_atom(word, negate))
            negate = False
    if any(not any(not a.negate for a in alt) for alt in alternatives):
        raise malformed_search("Each part of the search term needs at least one word")
    return SearchTerm(tuple(tuple(alt) for alt in alternatives))


# matching ---------------------------------------------------------------------------------------------
def _text_matches(atom: SearchAtom, value: str) -> bool:
    if not atom.token_patterns:
        return False
    words = re.findall(r"[^\W_]+", value.casefold())
    n = len(atom.token_patterns)
    for start in range(len(words) - n + 1):
        if all(re.fullmatch(p, w) for p, w in zip(atom.token_patterns, words[start:start + n], strict=True)):
            return True
    return False


def search_fields(obj: ObjectDef, scope: str) -> list[tuple[str, bool]]:
    """The fields a search in ``scope`` reads on ``obj``: ``(name, is_phone)`` pairs."""
    out = []
    for fd in obj.fields:
        if fd.type not in TEXT_TYPES:
            continue
        is_phone = fd.type == "phone"
        if scope == "PHONE" and not is_phone:
            continue
        if scope == "EMAIL" and fd.type != "email":
            continue
        if scope == "NAME" and fd.name not in obj.name_fields:
            continue
        out.append((fd.name, is_phone))
    return out


def _atom_matches(atom: SearchAtom, record: Record, fields: list[tuple[str, bool]]) -> bool:
    for name, is_phone in fields:
        value = record.get(name)
        if not isinstance(value, str):
            continue
        if is_phone:
            if atom.digits and phone_digits_match(atom.digits, phone_digits(value)):
                return True
        elif _text_matches(atom, value):
            return True
    return False


def term_matches(term: SearchTerm, record: Record, fields: list[tuple[str, bool]]) -> bool:
    """True when ``record`` satisfies the search term in ``fields`` (``search_fields`` of its object and scope)."""
    for alt in term.alternatives:
        if all(_atom_matches(a, record, fields) != a.negate for a in alt):
            return True
    return False


# statement --------------------------------------------------------------------------------------------
def _returning_spec(p: Parser) -> ReturningSpec:
    name = p.field_name()
    if "." in name:
        raise p.error(p.tokens[p.i - 1])
    if p.tok.kind != "LPAREN":
        return ReturningSpec(name)
    p.advance()
    fields, _ = p.parse_field_list()
    where = p.parse_condition() if p.accept_keyword("WHERE") else None
    order_by = p.parse_order_by() if p.accept_keyword("ORDER", "BY") else ()
    limit = p.parse_int() if p.accept_keyword("LIMIT") else None
    p.expect("RPAREN")
    return ReturningSpec(name, fields, where, order_by, limit)


def parse_sosl(text: str) -> SoslQuery:
    """Parse a FIND statement; raises ApiError MALFORMED_SEARCH on bad syntax."""
    m = re.match(r"\s*FIND\s*", text, re.IGNORECASE)
    if not m:
        raise malformed_search("A search must start with FIND")
    chars, end = scan_term(text, m.end())
    term = parse_term(chars)
    try:
        p = Parser(text, tokenize(text, end))
        scope = "ALL"
        if p.accept_keyword("IN"):
            word = p.advance()
            if word.kind != "IDENT" or word.text.upper() not in SCOPES:
                raise p.error(word)
            scope = word.text.upper()
            p.expect_keyword("FIELDS")
        specs: list[ReturningSpec] = []
        if p.accept_keyword("RETURNING"):
            specs.append(_returning_spec(p))
            while p.tok.kind == "COMMA":
                p.advance()
                specs.append(_returning_spec(p))
        limit = p.parse_int() if p.accept_keyword("LIMIT") else None
        if p.tok.kind != "EOF":
            raise p.error()
    except ApiError as exc:
        if exc.code == "MALFORMED_QUERY":
            raise malformed_search(exc.message) from None
        raise
    return SoslQuery(term, scope, tuple(specs), limit)
