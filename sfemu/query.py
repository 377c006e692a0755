"""SOQL execution: bind a parsed query to the schema, filter, sort, and render the records."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sfemu.errors import ApiError, invalid_field, invalid_type
from sfemu.ids import normalize_id
from sfemu.render import attributes
from sfemu.schema import TEXT_TYPES, FieldDef, ObjectDef, Record
from sfemu.soql import BoolOp, Comparison, Condition, Literal, Not, OrderItem, parse_soql
from sfemu.store import Store
from sfemu.values import format_datetime, parse_date, parse_datetime

Predicate = Callable[[Record], bool]


@dataclass(frozen=True)
class FieldPath:
    """A field path resolved against the schema: the reference fields to follow, then the leaf field."""

    rel_fields: tuple[str, ...]
    rel_names: tuple[str, ...]
    leaf: FieldDef


@dataclass(frozen=True)
class QueryResult:
    """What a query found: the total count and the rendered records (empty for COUNT())."""

    total_size: int
    records: list[dict[str, Any]]


def resolve_path(store: Store, obj: ObjectDef, path: str) -> FieldPath:
    """Resolve ``Account.Owner.Name`` from ``obj``; raises INVALID_FIELD for unknown names."""
    segments = path.split(".")
    if len(segments) > 1 and segments[0].lower() == obj.name.lower():
        segments = segments[1:]  # SELECT Contact.Name FROM Contact is valid SOQL
    current = [obj]
    rel_fields: list[str] = []
    rel_names: list[str] = []
    for seg in segments[:-1]:
        fd = next((o.relationship(seg) for o in current if o.relationship(seg)), None)
        if fd is None:
            raise invalid_field(f"Didn't understand relationship '{seg}' in field path. If you are attempting "
                                "to use a custom relationship, be sure to append the '__r' after the custom "
                                "relationship name.")
        rel_fields.append(fd.name)
        rel_names.append(fd.relationship_name or seg)
        current = [store.objects[t] for t in fd.reference_to if t in store.objects]
    leaf = next((o.field(segments[-1]) for o in current if o.field(segments[-1])), None)
    if leaf is None:
        raise invalid_field(f"No such column '{segments[-1]}' on entity '{current[0].name}'. If you are "
                            "attempting to use a custom field, be sure to append the '__c' after the custom field "
                            "name. Please reference your WSDL or the describe call for the appropriate names.")
    return FieldPath(tuple(rel_fields), tuple(rel_names), leaf)


def path_value(store: Store, record: Record, path: FieldPath) -> Any:
    """The value at ``path`` starting from ``record`` (None when a reference is empty)."""
    current = record
    for id_field in path.rel_fields:
        rid = current.get(id_field)
        hit = store.lookup(rid) if rid else None
        if hit is None:
            return None
        current = hit[1]
    return current.get(path.leaf.name)


def place_value(store: Store, target: dict[str, Any], record: Record, path: FieldPath, version: str,
                depth: int = 0) -> None:
    """Write the value at ``path`` into ``target``, nesting related records as Salesforce does."""
    if depth == len(path.rel_fields):
        target[path.leaf.name] = record.get(path.leaf.name)
        return
    rel_name = path.rel_names[depth]
    rid = record.get(path.rel_fields[depth])
    hit = store.lookup(rid) if rid else None
    if hit is None:
        target[rel_name] = None
        return
    nested = target.get(rel_name)
    if not isinstance(nested, dict):
        nested = {"attributes": attributes(hit[0].name, hit[1]["Id"], version)}
        target[rel_name] = nested
    place_value(store, nested, hit[1], path, version, depth + 1)


def render_selected(store: Store, obj: ObjectDef, record: Record, paths: Sequence[FieldPath],
                    version: str) -> dict[str, Any]:
    """A record with only the selected paths."""
    out: dict[str, Any] = {"attributes": attributes(obj.name, record["Id"], version)}
    for path in paths:
        place_value(store, out, record, path, version)
    return out


# filters --------------------------------------------------------------------------------------------
def _type_error(fd: FieldDef, expected: str, quoted: bool) -> ApiError:
    how = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return invalid_field(f"value of filter criterion for field '{fd.name}' must be of type {expected} and {how}")


def bind_literal(fd: FieldDef, lit: Literal) -> Any:
    """The literal converted to the canonical stored form of ``fd``'s type."""
    if lit.kind == "null":
        return None
    if fd.type in TEXT_TYPES:
        if lit.kind != "string":
            raise _type_error(fd, "string", True)
        return lit.value
    if fd.type in ("id", "reference"):
        if lit.kind != "string":
            raise _type_error(fd, "id", True)
        rid = normalize_id(lit.value)
        if rid is None:
            raise ApiError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {lit.value}")
        return rid
    if fd.type in ("int", "double"):
        if lit.kind != "number":
            raise _type_error(fd, "double" if fd.type == "double" else "int", False)
        return lit.value
    if fd.type == "boolean":
        if lit.kind != "boolean":
            raise _type_error(fd, "boolean", False)
        return lit.value
    if fd.type == "date":
        if lit.kind != "date" or parse_date(lit.value) is None:
            raise _type_error(fd, "date", False)
        return lit.value
    if fd.type == "datetime":
        parsed = parse_datetime(lit.value) if lit.kind == "datetime" else None
        if parsed is None:
            raise _type_error(fd, "dateTime", False)
        return format_datetime(parsed)
    raise invalid_field(f"field '{fd.name}' can not be filtered")


def _key(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    return bool(_key(left) == _key(right))


def compile_condition(store: Store, obj: ObjectDef, cond: Condition) -> Predicate:
    """A predicate over records of ``obj`` for a parsed WHERE condition."""
    if isinstance(cond, BoolOp):
        parts = [compile_condition(store, obj, p) for p in cond.parts]
        if cond.op == "AND":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    if isinstance(cond, Not):
        inner = compile_condition(store, obj, cond.part)
        return lambda r: not inner(r)
    return _compile_comparison(store, obj, cond)


def _compile_comparison(store: Store, obj: ObjectDef, cmp: Comparison) -> Predicate:
    path = resolve_path(store, obj, cmp.field)
    fd = path.leaf

    def get(r: Record) -> Any:
        return path_value(store, r, path)

    if cmp.op in ("IN", "NOT IN"):
        assert isinstance(cmp.value, tuple)
        values = [bind_literal(fd, lit) for lit in cmp.value]
        if cmp.op == "IN":
            return lambda r: any(_equal(get(r), v) for v in values)
        return lambda r: get(r) is not None and not any(_equal(get(r), v) for v in values)
    assert isinstance(cmp.value, Literal)
    if cmp.op == "LIKE":
        if fd.type not in TEXT_TYPES and fd.type not in ("id", "reference"):
            raise invalid_field(f"invalid operator on field '{fd.name}': LIKE")
        regex = re.compile(cmp.value.pattern or "", re.IGNORECASE | re.DOTALL)
        return lambda r: isinstance(get(r), str) and regex.fullmatch(get(r)) is not None
    right = bind_literal(fd, cmp.value)
    if cmp.op == "=":
        return lambda r: _equal(get(r), right)
    if cmp.op == "!=":
        return lambda r: not _equal(get(r), right)
    if right is None:
        raise ApiError("INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on null value: {cmp.op}")
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    }
    fn = ops[cmp.op]
    return lambda r: get(r) is not None and fn(_key(get(r)), _key(right))


def sort_records(store: Store, obj: ObjectDef, records: list[Record], order_by: Sequence[OrderItem]) -> list[Record]:
    """Records sorted by ORDER BY (ASC puts nulls first, DESC last, unless NULLS says otherwise)."""
    out = list(records)
    for item in reversed(order_by):
        path = resolve_path(store, obj, item.field)
        nulls_last = item.descending if item.nulls_last is None else item.nulls_last
        # With reverse=True the rank order flips too, so pick the rank that lands nulls where asked.
        null_rank = 0 if nulls_last == item.descending else 2

        def key(r: Record, path: FieldPath = path, null_rank: int = null_rank) -> tuple[int, Any]:
            value = path_value(store, r, path)
            return (null_rank, 0) if value is None else (1, _key(value))

        out.sort(key=key, reverse=item.descending)
    return out


def run_query(store: Store, text: str, *, version: str, include_deleted: bool = False) -> QueryResult:
    """Execute a SOQL statement against the store."""
    query = parse_soql(text)
    obj = store.find_object(query.sobject)
    if obj is None:
        raise invalid_type(query.sobject)
    paths = [resolve_path(store, obj, name) for name in query.fields]
    predicate = compile_condition(store, obj, query.where) if query.where is not None else None
    order_by = query.order_by
    for item in order_by:
        resolve_path(store, obj, item.field)
    with store.lock:
        rows = store.records(obj.name, include_deleted=include_deleted)
        if predicate is not None:
            rows = [r for r in rows if predicate(r)]
        rows = sort_records(store, obj, rows, order_by)
        if query.offset:
            rows = rows[query.offset:]
        if query.limit is not None:
            rows = rows[:query.limit]
        if query.count_only:
            return QueryResult(len(rows), [])
        return QueryResult(len(rows), [render_selected(store, obj, r, paths, version) for r in rows])
