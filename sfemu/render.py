"""Records as the REST API shows them: ``attributes`` first, then fields, related records nested."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sfemu.schema import ObjectDef, Record


def attributes(sobject: str, record_id: str, version: str) -> dict[str, str]:
    """The ``attributes`` entry of a record."""
    return {"type": sobject, "url": record_url(sobject, record_id, version)}


def record_url(sobject: str, record_id: str, version: str) -> str:
    """The path of a record's sObject Rows resource."""
    return f"/services/data/v{version}/sobjects/{sobject}/{record_id}"


def render_record(obj: ObjectDef, record: Record, version: str, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """A whole record (or only ``fields``, canonical names) with its attributes."""
    names = [f.name for f in obj.fields] if fields is None else list(fields)
    out: dict[str, Any] = {"attributes": attributes(obj.name, record["Id"], version)}
    for name in names:
        out[name] = record.get(name)
    return out
