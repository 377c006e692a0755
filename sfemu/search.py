"""SOSL execution: match the term per RETURNING object, filter, sort, limit and render."""

from __future__ import annotations

from typing import Any

from sfemu.errors import invalid_type
from sfemu.query import compile_condition, render_selected, resolve_path, sort_records
from sfemu.sosl import ReturningSpec, parse_sosl, search_fields, term_matches
from sfemu.store import Store

MAX_SEARCH_RESULTS = 2000


def run_search(store: Store, text: str, *, version: str) -> list[dict[str, Any]]:
    """Execute a FIND statement; the ``searchRecords`` list, grouped by object in RETURNING order."""
    query = parse_sosl(text)
    specs = query.returning or tuple(ReturningSpec(o.name) for o in store.objects.values() if o.searchable)
    results: list[dict[str, Any]] = []
    with store.lock:
        for spec in specs:
            obj = store.find_object(spec.sobject)
            if obj is None or not obj.searchable:
                raise invalid_type(spec.sobject)
            paths = [resolve_path(store, obj, f) for f in (spec.fields or ("Id",))]
            predicate = compile_condition(store, obj, spec.where) if spec.where is not None else None
            fields = search_fields(obj, query.scope)
            rows = [r for r in store.records(obj.name) if term_matches(query.term, r, fields)]
            if predicate is not None:
                rows = [r for r in rows if predicate(r)]
            rows = sort_records(store, obj, rows, spec.order_by)
            if spec.limit is not None:
                rows = rows[:spec.limit]
            results.extend(render_selected(store, obj, r, paths, version) for r in rows)
    return results[:min(query.limit or MAX_SEARCH_RESULTS, MAX_SEARCH_RESULTS)]
