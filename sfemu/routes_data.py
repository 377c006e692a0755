"""REST data endpoints under ``/services/data/vXX.X``: sObject rows, upsert, query, search, limits."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from sfemu.api_guard import authenticate_and_count
from sfemu.errors import ApiError, invalid_field, malformed_query, not_found
from sfemu.query import run_query
from sfemu.render import record_url, render_record
from sfemu.schema import ObjectDef
from sfemu.search import run_search
from sfemu.state import MAX_BATCH_SIZE, MIN_BATCH_SIZE, EmulatorState, get_state
from sfemu.store import MultipleMatches

logger = logging.getLogger(__name__)

bp = Blueprint("sfemu_data", __name__, url_prefix="/services/data/v<version>")
bp.before_request(authenticate_and_count)

BATCH_SIZE_RE = re.compile(r"batchSize=(\d+)")


def _json_body() -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError as exc:
        raise ApiError("JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError("JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from a non-object value")
    return body


def _object_urls(obj: ObjectDef, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def _multiple(exc: MultipleMatches, version: str) -> tuple[Response, int]:
    return jsonify([record_url(exc.sobject, rid, version) for rid in exc.ids]), 300


# sObjects ---------------------------------------------------------------------------------------------
@bp.get("/sobjects/", strict_slashes=False)
def list_sobjects(version: str) -> Response:
    """Describe global: every object with its key prefix and URLs."""
    state = get_state()
    sobjects = [{"name": o.name, "label": o.label, "keyPrefix": o.key_prefix, "custom": False,
                 "createable": o.createable, "updateable": o.updateable, "deletable": o.deletable, "queryable": True,
                 "searchable": o.searchable, "urls": _object_urls(o, version)} for o in state.store.objects.values()
                if o.listed]
    return jsonify({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})


@bp.get("/sobjects/<sobject>/", strict_slashes=False)
def sobject_info(version: str, sobject: str) -> Response:
    """Basic information about one object."""
    obj = get_state().store.object(sobject)
    info = {k: v for k, v in obj.describe().items() if k != "fields"}
    return jsonify({"objectDescribe": {**info, "urls": _object_urls(obj, version)}, "recentItems": []})


@bp.get("/sobjects/<sobject>/describe/", strict_slashes=False)
def describe_sobject(version: str, sobject: str) -> Response:
    """Full describe of one object, fields included."""
    obj = get_state().store.object(sobject)
    return jsonify({**obj.describe(), "urls": _object_urls(obj, version)})


@bp.post("/sobjects/<sobject>/", strict_slashes=False)
def create_record(version: str, sobject: str) -> tuple[Response, int]:
    """Create a record: 201 ``{"id", "success": true, "errors": []}``."""
    state = get_state()
    obj = state.store.object(sobject)
    record = state.store.create(obj.name, _json_body(), owner_id=g.sf_session.user_id)
    response = jsonify({"id": record["Id"], "success": True, "errors": []})
    response.headers["Location"] = record_url(obj.name, record["Id"], version)
    return response, 201


@bp.get("/sobjects/<sobject>/<record_id>/", strict_slashes=False)
def get_record(version: str, sobject: str, record_id: str) -> Response:
    """One record, optionally only ``?fields=A,B``."""
    state = get_state()
    obj = state.store.object(sobject)
    record = state.store.get(obj.name, record_id)
    return jsonify(render_record(obj, record, version, _field_names(obj, request.args.get("fields"))))


def _field_names(obj: ObjectDef, param: str | None) -> list[str] | None:
    if not param:
        return None
    names = []
    for raw in param.split(","):
        fd = obj.field(raw.strip())
        if fd is None:
            raise invalid_field(f"No such column '{raw.strip()}' on entity '{obj.name}'")
        names.append(fd.name)
    return names


@bp.patch("/sobjects/<sobject>/<record_id>/", strict_slashes=False)
def update_record(version: str, sobject: str, record_id: str) -> tuple[str, int]:
    """Update a record: 204."""
    get_state().store.update(sobject, record_id, _json_body())
    return "", 204


@bp.delete("/sobjects/<sobject>/<record_id>/", strict_slashes=False)
def delete_record(version: str, sobject: str, record_id: str) -> tuple[str, int]:
    """Delete a record: 204."""
    get_state().store.delete(sobject, record_id)
    return "", 204


def _external_id_field(state: EmulatorState, sobject: str, field: str) -> str:
    obj = state.store.object(sobject)
    fd = obj.field(field)
    if fd is None or not (fd.external_id or fd.name == "Id"):
        raise not_found(f"Provided external ID field does not exist or is not accessible: {field}")
    return fd.name


@bp.patch("/sobjects/<sobject>/<field>/<path:value>")
def upsert_record(version: str, sobject: str, field: str, value: str) -> tuple[Response, int]:
    """Upsert by external id: 201 created, 200 updated, 300 several matches."""
    state = get_state()
    body = _json_body()
    try:
        record, created = state.store.upsert(sobject, field, value.removesuffix("/"), body,
                                             owner_id=g.sf_session.user_id)
    except MultipleMatches as exc:
        return _multiple(exc, version)
    result = {"id": record["Id"], "success": True, "errors": [], "created": created}
    return jsonify(result), 201 if created else 200


@bp.get("/sobjects/<sobject>/<field>/<path:value>")
def get_by_external_id(version: str, sobject: str, field: str, value: str) -> Response | tuple[Response, int]:
    """A record by external id (300 when several match)."""
    state = get_state()
    value = value.removesuffix("/")
    name = _external_id_field(state, sobject, field)
    obj = state.store.object(sobject)
    if name == "Id":
        return jsonify(render_record(obj, state.store.get(obj.name, value), version))
    matches = state.store.match_field(obj.name, name, value)
    if len(matches) > 1:
        return _multiple(MultipleMatches(obj.name, [r["Id"] for r in matches]), version)
    if not matches:
        raise not_found()
    return jsonify(render_record(obj, matches[0], version, _field_names(obj, request.args.get("fields"))))


@bp.delete("/sobjects/<sobject>/<field>/<path:value>")
def delete_by_external_id(version: str, sobject: str, field: str, value: str) -> tuple[Response | str, int]:
    """Delete a record by external id: 204."""
    state = get_state()
    value = value.removesuffix("/")
    name = _external_id_field(state, sobject, field)
    obj = state.store.object(sobject)
    matches = state.store.match_field(obj.name, name, value) if name != "Id" else [state.store.get(obj.name, value)]
    if len(matches) > 1:
        return _multiple(MultipleMatches(obj.name, [r["Id"] for r in matches]), version)
    if not matches:
        raise not_found()
    state.store.delete(obj.name, matches[0]["Id"])
    return "", 204


# query and search -------------------------------------------------------------------------------------
def _batch_size() -> int:
    m = BATCH_SIZE_RE.search(request.headers.get("Sforce-Query-Options", ""))
    if not m:
        return MAX_BATCH_SIZE
    return max(MIN_BATCH_SIZE, min(MAX_BATCH_SIZE, int(m.group(1))))


def _page(state: EmulatorState, version: str, records: list[dict[str, Any]], total: int, start: int,
          batch: int, locator: str | None = None) -> Response:
    end = start + batch
    body: dict[str, Any] = {"totalSize": total, "done": end >= len(records), "records": records[start:end]}
    if not body["done"]:
        locator = locator or state.cursors.open(records, batch)
        body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
    return jsonify(body)


def _run_query(version: str, include_deleted: bool) -> Response:
    state = get_state()
    text = request.args.get("q")
    if not text:
        raise malformed_query("A query string is required: ?q=SELECT ...")
    result = run_query(state.store, text, version=version, include_deleted=include_deleted)
    return _page(state, version, result.records, result.total_size, 0, _batch_size())


@bp.get("/query/", strict_slashes=False)
def query(version: str) -> Response:
    """SOQL query (live records)."""
    return _run_query(version, include_deleted=False)


@bp.get("/queryAll/", strict_slashes=False)
def query_all(version: str) -> Response:
    """SOQL query including deleted records."""
    return _run_query(version, include_deleted=True)


@bp.get("/query/<cursor>", strict_slashes=False)
@bp.get("/queryAll/<cursor>", strict_slashes=False)
def query_more(version: str, cursor: str) -> Response:
    """The next page of a query (``nextRecordsUrl``)."""
    state = get_state()
    locator, _, start = cursor.rpartition("-")
    found = state.cursors.get(locator) if start.isdigit() else None
    if found is None:
        raise ApiError("INVALID_QUERY_LOCATOR", "invalid query locator")
    records, batch = found
    return _page(state, version, records, len(records), int(start), batch, locator)


@bp.get("/search/", strict_slashes=False)
def search(version: str) -> Response:
    """SOSL search: ``{"searchRecords": [...]}``."""
    text = request.args.get("q")
    if not text:
        raise ApiError("MALFORMED_SEARCH", "A search string is required: ?q=FIND {...}")
    return jsonify({"searchRecords": run_search(get_state().store, text, version=version)})


@bp.get("/limits/", strict_slashes=False)
def limits(version: str) -> Response:
    """Org limits; DailyApiRequests reflects this emulator's usage counter."""
    usage = get_state().usage
    return jsonify({
        "DailyApiRequests": {"Max": usage.limit, "Remaining": max(usage.limit - usage.used, 0)},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DataStorageMB": {"Max": 5, "Remaining": 5},
    })
