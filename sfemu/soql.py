"""SOQL syntax: a lexer and parser for the SELECT statements Switchboard sends.

Supported: ``SELECT`` field list (relationship paths such as ``Account.Name``, ``COUNT()``), ``FROM``,
``WHERE`` with ``= != <> < <= > >= LIKE IN NOT IN``, ``AND``/``OR``/``NOT`` and parentheses (mixing AND
and OR without parentheses is an error, as in Salesforce), string literals with backslash escapes,
numbers, dates, datetimes, ``null``/``true``/``false``, ``ORDER BY ... ASC|DESC NULLS FIRST|LAST``,
``LIMIT`` and ``OFFSET``. Evaluation lives in :mod:`sfemu.query`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sfemu.errors import ApiError, malformed_query

KEYWORDS = frozenset({
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "LIMIT", "OFFSET", "ASC", "DESC",
    "NULLS", "FIRST", "LAST", "NULL", "TRUE", "FALSE", "GROUP", "HAVING", "WITH", "FOR", "USING", "INCLUDES",
    "EXCLUDES", "RETURNING", "FIND", "TYPEOF",
})
STRING_ESCAPES = {
    "n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t", "b": "\b", "B": "\b", "f": "\f", "F": "\f",
    '"': '"', "'": "'", "\\": "\\", "_": "_", "%": "%",
}
_TOKEN_RES = [
    ("WS", re.compile(r"\s+")),
    ("DATETIME", re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})")),
    ("DATE", re.compile(r"\d{4}-\d{2}-\d{2}(?![\w:])")),
    ("NUMBER", re.compile(r"[+-]?\d+(?:\.\d+)?(?![\w.])")),
    ("IDENT", re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")),
    ("OP", re.compile(r"!=|<>|<=|>=|=|<|>")),
    ("LPAREN", re.compile(r"\(")),
    ("RPAREN", re.compile(r"\)")),
    ("COMMA", re.compile(r",")),
]
COMPARISON_OPS = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})


@dataclass(frozen=True)
class Token:
    """One lexical token; ``value`` holds a string literal's text, ``pattern`` its LIKE regex."""

    kind: str
    text: str
    pos: int
    value: Any = None
    pattern: str | None = None

    def is_keyword(self, word: str) -> bool:
        """True when this token is the keyword ``word`` (case-insensitive)."""
        return self.kind == "IDENT" and self.text.upper() == word


@dataclass(frozen=True)
class Literal:
    """A literal value: kind is string, number, date, datetime, null or boolean."""

    kind: str
    value: Any
    pattern: str | None = None


@dataclass(frozen=True)
class Comparison:
    """``field op value``; for IN / NOT IN the value is a tuple of literals."""

    field: str
    op: str
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    """AND / OR of two or more conditions."""

    op: str
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    """NOT of a condition."""

    part: Condition


Condition = Comparison | BoolOp | Not


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key."""

    field: str
    descending: bool = False
    nulls_last: bool | None = None


@dataclass(frozen=True)
class SoqlQuery:
    """A parsed SELECT statement."""

    fields: tuple[str, ...]
    sobject: str
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    count_only: bool = False


def _error_at(text: str, pos: int, message: str) -> ApiError:
    return malformed_query(f"\n{text}\n{' ' * pos}^\nERROR at Row:1:Column:{pos + 1}\n{message}")


def _scan_string(text: str, start: int) -> Token:
    chars: list[str] = []
    pattern: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "'":
            return Token("STRING", text[start:i + 1], start, "".join(chars), "".join(pattern))
        if ch == "\\":
            if i + 1 >= len(text):
                break
            nxt = text[i + 1]
            if nxt not in STRING_ESCAPES:
                raise _error_at(text, i, f"Invalid string literal. Illegal character sequence '\\{nxt}' in "
                                "string literal.")
            chars.append(STRING_ESCAPES[nxt])
            pattern.append(re.escape(STRING_ESCAPES[nxt]))
            i += 2
            continue
        chars.append(ch)
        pattern.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    raise _error_at(text, start, "unterminated string literal")


def tokenize(text: str, start: int = 0) -> list[Token]:
    """The tokens of ``text[start:]``, ending with an EOF token."""
    tokens: list[Token] = []
    pos = start
    while pos < len(text):
        if text[pos] == "'":
            tok = _scan_string(text, pos)
            tokens.append(tok)
            pos += len(tok.text)
            continue
        for kind, regex in _TOKEN_RES:
            m = regex.match(text, pos)
            if m:
                if kind != "WS":
                    value: Any = None
                    if kind == "NUMBER":
                        value = float(m.group()) if "." in m.group() else int(m.group())
                    tokens.append(Token(kind, m.group(), pos, value))
                pos = m.end()
                break
        else:
            raise _error_at(text, pos, f"unexpected token: '{text[pos]}'")
    tokens.append(Token("EOF", "", len(text)))
    return tokens


class Parser:
    """Recursive-descent parser over SOQL tokens (also used for SOSL's RETURNING clauses)."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    # token helpers --------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        """The current token."""
        return self.tokens[self.i]

    def advance(self) -> Token:
        """Consume and return the current token."""
        tok = self.tokens[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def error(self, tok: Token | None = None) -> ApiError:
        """A MALFORMED_QUERY pointing at ``tok`` (default: the current token)."""
        tok = tok or self.tok
        shown = tok.text if tok.kind != "EOF" else "<EOF>"
        return _error_at(self.text, tok.pos, f"unexpected token: '{shown}'")

    def accept_keyword(self, *words: str) -> bool:
        """Consume the keywords ``words`` in sequence if they come next."""
        toks = self.tokens[self.i:self.i + len(words)]
        if len(toks) == len(words) and all(t.is_keyword(w) for t, w in zip(toks, words, strict=True)):
            self.i += len(words)
            return True
        return False

    def expect_keyword(self, *words: str) -> None:
        """Consume the keywords ``words`` or fail."""
        if not self.accept_keyword(*words):
            raise self.error()

    def expect(self, kind: str) -> Token:
        """Consume a token of ``kind`` or fail."""
        if self.tok.kind != kind:
            raise self.error()
        return self.advance()

    def field_name(self) -> str:
        """A field path (``Name``, ``Account.Name``) that is not a reserved word."""
        tok = self.tok
        if tok.kind != "IDENT" or tok.text.upper() in KEYWORDS:
            raise self.error()
        self.advance()
        return tok.text

    # grammar --------------------------------------------------------------------------------------
    def parse_select(self) -> SoqlQuery:
        """``SELECT ... FROM ... [WHERE] [ORDER BY] [LIMIT] [OFFSET]`` up to EOF."""
        self.expect_keyword("SELECT")
        fields, count_only = self.parse_field_list()
        self.expect_keyword("FROM")
        sobject = self.field_name()
        if "." in sobject:
            raise self.error(self.tokens[self.i - 1])
        where = self.parse_condition() if self.accept_keyword("WHERE") else None
        order_by = self.parse_order_by() if self.accept_keyword("ORDER", "BY") else ()
        limit = self.parse_int() if self.accept_keyword("LIMIT") else None
        offset = self.parse_int() if self.accept_keyword("OFFSET") else None
        if self.tok.kind != "EOF":
            raise self.error()
        return SoqlQuery(fields, sobject, where, order_by, limit, offset, count_only)

    def parse_field_list(self) -> tuple[tuple[str, ...], bool]:
        """The selected fields, and whether the list was ``COUNT()``."""
        if self.tok.is_keyword("COUNT") and self.tokens[self.i + 1].kind == "LPAREN":
            self.i += 2
            self.expect("RPAREN")
            return (), True
        fields = [self.select_item()]
        while self.tok.kind == "COMMA":
            self.advance()
            fields.append(self.select_item())
        seen: set[str] = set()
        for name in fields:
            if name.lower() in seen:
                raise malformed_query(f"duplicate field selected: {name}")
            seen.add(name.lower())
        return tuple(fields), False

    def select_item(self) -> str:
        """One selected field (subqueries and functions are not supported)."""
        if self.tok.kind == "LPAREN":
            raise malformed_query("The emulator does not support relationship subqueries")
        name = self.field_name()
        if self.tok.kind == "LPAREN":
            raise malformed_query(f"The emulator does not support the function {name}()")
        return name

    def parse_condition(self) -> Condition:
        """A boolean condition; AND and OR may only be mixed with parentheses."""
        parts = [self.parse_unary()]
        op: str | None = None
        while self.tok.is_keyword("AND") or self.tok.is_keyword("OR"):
            this = self.tok.text.upper()
            if op is not None and this != op:
                raise self.error()
            op = this
            self.advance()
            parts.append(self.parse_unary())
        return parts[0] if op is None else BoolOp(op, tuple(parts))

    def parse_unary(self) -> Condition:
        """NOT x, (x) or a comparison."""
        if self.accept_keyword("NOT"):
            return Not(self.parse_unary())
        if self.tok.kind == "LPAREN":
            self.advance()
            cond = self.parse_condition()
            self.expect("RPAREN")
            return cond
        return self.parse_comparison()

    def parse_comparison(self) -> Comparison:
        """``field op value``, ``field [NOT] IN (...)`` or ``field LIKE 'pattern'``."""
        name = self.field_name()
        tok = self.tok
        if tok.kind == "OP":
            self.advance()
            return Comparison(name, "!=" if tok.text == "<>" else tok.text, self.parse_literal())
        if self.accept_keyword("LIKE"):
            if self.tok.kind != "STRING":
                raise self.error()
            return Comparison(name, "LIKE", self.parse_literal())
        if self.accept_keyword("NOT", "IN"):
            return Comparison(name, "NOT IN", self.parse_literal_list())
        if self.accept_keyword("IN"):
            return Comparison(name, "IN", self.parse_literal_list())
        raise self.error()

    def parse_literal_list(self) -> tuple[Literal, ...]:
        """``(v1, v2, ...)``."""
        self.expect("LPAREN")
        if self.tok.kind == "LPAREN" or self.tok.is_keyword("SELECT"):
            raise malformed_query("The emulator does not support semi-join subqueries")
        values = [self.parse_literal()]
        while self.tok.kind == "COMMA":
            self.advance()
            values.append(self.parse_literal())
        self.expect("RPAREN")
        return tuple(values)

    def parse_literal(self) -> Literal:
        """One literal value."""
        tok = self.advance()
        if tok.kind == "STRING":
            return Literal("string", tok.value, tok.pattern)
        if tok.kind == "NUMBER":
            return Literal("number", tok.value)
        if tok.kind in ("DATE", "DATETIME"):
            return Literal(tok.kind.lower(), tok.text)
        if tok.is_keyword("NULL"):
            return Literal("null", None)
        if tok.is_keyword("TRUE") or tok.is_keyword("FALSE"):
            return Literal("boolean", tok.text.upper() == "TRUE")
        raise self.error(tok)

    def parse_order_by(self) -> tuple[OrderItem, ...]:
        """``f1 [ASC|DESC] [NULLS FIRST|LAST], ...``."""
        items = []
        while True:
            name = self.field_name()
            descending = False
            if self.accept_keyword("DESC"):
                descending = True
            else:
                self.accept_keyword("ASC")
            nulls_last: bool | None = None
            if self.accept_keyword("NULLS", "LAST"):
                nulls_last = True
            elif self.accept_keyword("NULLS", "FIRST"):
                nulls_last = False
            items.append(OrderItem(name, descending, nulls_last))
            if self.tok.kind != "COMMA":
                return tuple(items)
            self.advance()

    def parse_int(self) -> int:
        """A non-negative integer (LIMIT, OFFSET)."""
        tok = self.advance()
        if tok.kind != "NUMBER" or not isinstance(tok.value, int) or tok.value < 0 or tok.text.startswith("+"):
            raise self.error(tok)
        return tok.value


def parse_soql(text: str) -> SoqlQuery:
    """Parse a SELECT statement; raises ApiError MALFORMED_QUERY on bad syntax."""
    return Parser(text, tokenize(text)).parse_select()
