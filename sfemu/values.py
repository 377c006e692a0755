"""Field values: validate what clients send and keep it in Salesforce's canonical JSON form."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sfemu.errors import ApiError
from sfemu.ids import normalize_id
from sfemu.schema import TEXT_TYPES, FieldDef

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_datetime(value: datetime) -> str:
    """A datetime as Salesforce writes it: UTC with milliseconds, ``2024-05-01T08:30:00.000+0000``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    """An ISO 8601 datetime (naive means UTC), else None."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_date(text: str) -> date | None:
    """A ``YYYY-MM-DD`` date, else None."""
    if not DATE_RE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _bad_json(fd: FieldDef, raw: Any, kind: str) -> ApiError:
    return ApiError("JSON_PARSER_ERROR", f"Cannot deserialize instance of {kind} from value {raw!r} "
                    f"for field {fd.name}", [fd.name])


def canonical_value(fd: FieldDef, raw: Any) -> Any:
    """The stored form of ``raw`` for field ``fd``; raises ApiError as Salesforce would."""
    if raw is None:
        return None
    if fd.type in TEXT_TYPES:
        return _text_value(fd, raw)
    if fd.type in ("id", "reference"):
        rid = normalize_id(raw) if isinstance(raw, str) else None
        if raw == "":
            return None
        if rid is None:
            raise ApiError("MALFORMED_ID", f"{fd.label or fd.name}: id value of incorrect type: {raw}", [fd.name])
        return rid
    if fd.type == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise _bad_json(fd, raw, "boolean")
    if fd.type in ("int", "double"):
        return _number_value(fd, raw)
    if fd.type == "date":
        parsed = parse_date(raw) if isinstance(raw, str) else None
        if parsed is None:
            raise _bad_json(fd, raw, "Date")
        return parsed.isoformat()
    if fd.type == "datetime":
        parsed_dt = parse_datetime(raw) if isinstance(raw, str) else None
        if parsed_dt is None:
            raise _bad_json(fd, raw, "Datetime")
        return format_datetime(parsed_dt)
    raise ApiError("UNKNOWN_EXCEPTION", f"field type {fd.type} not supported by the emulator")


def _text_value(fd: FieldDef, raw: Any) -> str | None:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise _bad_json(fd, raw, "String")
    text = raw if isinstance(raw, str) else str(raw)
    if text == "":
        return None  # Salesforce stores an empty string as null
    if fd.length and len(text) > fd.length:
        raise ApiError("STRING_TOO_LONG", f"{fd.label or fd.name}: data value too large: {text[:40]}... "
                       f"(max length={fd.length})", [fd.name])
    if fd.type == "email" and not EMAIL_RE.match(text):
        raise ApiError("INVALID_EMAIL_ADDRESS", f"{fd.label or fd.name}: invalid email address: {text}", [fd.name])
    return text


def _number_value(fd: FieldDef, raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise _bad_json(fd, raw, fd.type)
    value: int | float
    if isinstance(raw, int | float):
        value = raw
    elif isinstance(raw, str):
        try:
            value = float(raw) if any(c in raw for c in ".eE") else int(raw)
        except ValueError:
            raise _bad_json(fd, raw, fd.type) from None
    else:
        raise _bad_json(fd, raw, fd.type)
    if fd.type == "int":
        if isinstance(value, float) and not value.is_integer():
            raise _bad_json(fd, raw, "int")
        return int(value)
    return value
