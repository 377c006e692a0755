"""sObject Collections: create, update, upsert and delete up to 200 records (retrieve up to 2,000) in one call.

Results follow Salesforce's SaveResult / UpsertResult / DeleteResult shapes: ``{"id", "success", "errors"}``
(plus ``"created"`` for upserts), per-record errors ``{"statusCode", "message", "fields"}``. With
``allOrNone`` every record is still tried (so each bad record reports its own error); if any failed the store
is rolled back and the others report ``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sfemu.errors import ApiError, exceeded_id_limit, invalid_field, invalid_type, not_found
from sfemu.ids import key_prefix, normalize_id
from sfemu.render import render_record
from sfemu.schema import ObjectDef, Record
from sfemu.store import MultipleMatches, Store

logger = logging.getLogger(__name__)

MAX_RECORDS = 200
MAX_RETRIEVE_IDS = 2000
ROLLED_BACK_MESSAGE = "Record rolled back because not all records were valid and the request was using AllOrNone header"


@dataclass(frozen=True)
class Operation:
    """One record's work; ``record_id`` is the id the request names (update, delete), shown on failure."""

    run: Callable[[], dict[str, Any]]
    record_id: str | None = None
    upsert: bool = False


def _failure(op: Operation, error: dict[str, Any], record_id: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": record_id} if record_id else {}
    out.update(success=False, errors=[error])
    if op.upsert:
        out["created"] = False
    return out


def _rolled_back_id(op: Operation, result: Mapping[str, Any]) -> str | None:
    """The id a rolled-back record still reports: the one it was named by, or the one an upsert matched."""
    if op.record_id:
        return op.record_id
    if op.upsert and not result.get("created"):
        return str(result["id"])
    return None


def run_batch(store: Store, operations: Sequence[Operation], all_or_none: bool) -> list[dict[str, Any]]:
    """Run every operation in order under the store lock; roll everything back when ``all_or_none`` and any failed."""
    if len(operations) > MAX_RECORDS:
        raise exceeded_id_limit(MAX_RECORDS)
    with store.lock:
        snap = store.snapshot() if all_or_none else None
        results: list[dict[str, Any]] = []
        failed: list[bool] = []
        for op in operations:
            try:
                results.append(op.run())
                failed.append(False)
            except ApiError as exc:
                results.append(_failure(op, exc.record_error(), exc.record_id or op.record_id))
                failed.append(True)
        if snap is not None and any(failed):
            store.restore(snap)
            rolled = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": ROLLED_BACK_MESSAGE, "fields": []}
            results = [res if bad else _failure(op, rolled, _rolled_back_id(op, res))
                       for op, res, bad in zip(operations, results, failed, strict=True)]
    logger.debug("collection of %s records: %s failed", len(operations), sum(failed))
    return results


# request parsing ------------------------------------------------------------------------------------------
def _records(body: Mapping[str, Any]) -> list[Any]:
    records = body.get("records")
    if not isinstance(records, list):
        raise ApiError("JSON_PARSER_ERROR", "The request body must have a 'records' list")
    if len(records) > MAX_RECORDS:
        raise exceeded_id_limit(MAX_RECORDS)
    return records


def all_or_none_flag(value: Any) -> bool:
    """The ``allOrNone`` value of a body or query string (default false)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def _type_of(store: Store, record: Any) -> ObjectDef:
    if not isinstance(record, Mapping):
        raise ApiError("JSON_PARSER_ERROR", "Each record must be a JSON object")
    attributes = record.get("attributes")
    sobject = attributes.get("type") if isinstance(attributes, Mapping) else None
    if not isinstance(sobject, str) or not sobject:
        raise ApiError("INVALID_TYPE", "Must send a concrete entity type.")
    obj = store.find_object(sobject)
    if obj is None:
        raise invalid_type(sobject)
    return obj


def _fields(record: Mapping[str, Any], *drop: str) -> dict[str, Any]:
    lowered = {d.lower() for d in ("attributes", *drop)}
    return {k: v for k, v in record.items() if k.lower() not in lowered}


# operations -----------------------------------------------------------------------------------------------
def create_operations(store: Store, body: Mapping[str, Any], owner_id: str | None) -> list[Operation]:
    """``POST /composite/sobjects``: one create per record (types may mix)."""
    def make(record: Any) -> Operation:
        def run() -> dict[str, Any]:
            obj = _type_of(store, record)
            created = store.create(obj.name, _fields(record), owner_id=owner_id)
            return {"id": created["Id"], "success": True, "errors": []}
        return Operation(run)
    return [make(r) for r in _records(body)]


def _existing(store: Store, raw_id: Any, obj: ObjectDef | None) -> tuple[ObjectDef, str]:
    if raw_id is None or raw_id == "":
        raise ApiError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
    rid = normalize_id(raw_id) if isinstance(raw_id, str) else None
    label = obj.label if obj else "Record"
    if rid is None or (obj is not None and key_prefix(rid) != obj.key_prefix):
        raise ApiError("MALFORMED_ID", f"{label} ID: id value of incorrect type: {raw_id}", ["Id"])
    hit = store.lookup(rid, include_deleted=True)
    if hit is None:
        raise ApiError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["Id"])
    if hit[1]["IsDeleted"]:
        raise ApiError("ENTITY_IS_DELETED", "entity is deleted", ["Id"])
    return hit[0], rid


def update_operations(store: Store, body: Mapping[str, Any]) -> list[Operation]:
    """``PATCH /composite/sobjects``: one update per record, by its ``Id``."""
    def make(record: Any) -> Operation:
        raw_id = next((v for k, v in record.items() if k.lower() == "id"), None) if isinstance(record, Mapping) \
            else None

        def run() -> dict[str, Any]:
            obj, rid = _existing(store, raw_id, _type_of(store, record))
            store.update(obj.name, rid, _fields(record, "Id"))
            return {"id": rid, "success": True, "errors": []}
        return Operation(run, record_id=normalize_id(raw_id) if isinstance(raw_id, str) else None)
    return [make(r) for r in _records(body)]


def external_id_field(store: Store, sobject: str, field: str) -> tuple[ObjectDef, str]:
    """The object and the canonical name of an external id field; 404 NOT_FOUND otherwise."""
    obj = store.object(sobject)
    fd = obj.field(field)
    if fd is None or not fd.external_id:
        raise not_found(f"Provided external ID field does not exist or is not accessible: {field}")
    return obj, fd.name


def upsert_operations(store: Store, sobject: str, field: str, body: Mapping[str, Any],
                      owner_id: str | None) -> list[Operation]:
    """``PATCH /composite/sobjects/{SObject}/{ExternalIdField}``: one upsert per record, keyed by its field value."""
    obj, name = external_id_field(store, sobject, field)
    records = _records(body)

    def key(record: Any) -> Any:
        if not isinstance(record, Mapping):
            return None
        return next((v for k, v in record.items() if k.lower() == name.lower()), None)

    keys = [key(r) for r in records]
    folded = [k.casefold() if isinstance(k, str) else k for k in keys]

    def make(record: Any, value: Any) -> Operation:
        def run() -> dict[str, Any]:
            rtype = _type_of(store, record)
            if rtype.name != obj.name:
                raise ApiError("INVALID_TYPE", f"Record type {rtype.name} does not match {obj.name} in the URI")
            if value is None or value == "":
                raise ApiError("MISSING_ARGUMENT", f"{name} not specified", [name])
            if folded.count(value.casefold() if isinstance(value, str) else value) > 1:
                raise ApiError("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}", [name])
            matches = store.match_field(obj.name, name, value)
            try:
                saved, created = store.upsert(obj.name, name, str(value), _fields(record), owner_id=owner_id)
            except MultipleMatches as exc:
                raise ApiError("DUPLICATE_EXTERNAL_ID", f"{name}: more than one record found for external id "
                               f"field: [{', '.join(exc.ids)}]", [name]) from None
            except ApiError as exc:
                exc.record_id = matches[0]["Id"] if len(matches) == 1 else None  # an update of this record failed
                raise
            return {"id": saved["Id"], "success": True, "errors": [], "created": created}
        return Operation(run, upsert=True)
    return [make(r, k) for r, k in zip(records, keys, strict=True)]


def delete_operations(store: Store, ids: Sequence[str]) -> list[Operation]:
    """``DELETE /composite/sobjects?ids=``: one delete per id (types may mix)."""
    if len(ids) > MAX_RECORDS:
        raise exceeded_id_limit(MAX_RECORDS)

    def make(raw_id: str) -> Operation:
        def run() -> dict[str, Any]:
            if normalize_id(raw_id) is None:
                raise ApiError("MALFORMED_ID", f"malformed id {raw_id}", [])
            obj, rid = _existing(store, raw_id, None)
            store.delete(obj.name, rid)
            return {"id": rid, "success": True, "errors": []}
        return Operation(run, record_id=normalize_id(raw_id) or raw_id)
    return [make(i) for i in ids]


def retrieve(store: Store, sobject: str, ids: Sequence[str], field_names: Sequence[str],
             version: str) -> list[dict[str, Any] | None]:
    """``GET /composite/sobjects/{SObject}?ids=&fields=``: the records in id order, null where none is found."""
    obj = store.object(sobject)
    if not field_names:
        raise ApiError("MISSING_ARGUMENT", "The fields parameter is required", ["fields"])
    if len(ids) > MAX_RETRIEVE_IDS:
        raise exceeded_id_limit(MAX_RETRIEVE_IDS)
    names = []
    for raw in field_names:
        fd = obj.field(raw.strip())
        if fd is None:
            raise invalid_field(f"No such column '{raw.strip()}' on entity '{obj.name}'. If you are attempting to "
                                "use a custom field, be sure to append the '__c' after the custom field name.")
        names.append(fd.name)
    out: list[dict[str, Any] | None] = []
    with store.lock:
        for raw_id in ids:
            hit = store.lookup(raw_id)
            record: Record | None = hit[1] if hit and hit[0].name == obj.name else None
            out.append(render_record(obj, record, version, names) if record else None)
    return out
