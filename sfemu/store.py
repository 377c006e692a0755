"""The in-memory sObject store: records per object, validated against the schema."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sfemu.errors import ApiError, invalid_type_for_operation, not_found, read_only_fields
from sfemu.ids import IdGenerator, key_prefix, normalize_id
from sfemu.schema import SYSTEM_FIELDS, FieldDef, ObjectDef, Record, find_object, standard_objects
from sfemu.values import canonical_value, format_datetime

logger = logging.getLogger(__name__)


class MultipleMatches(Exception):
    """An upsert key matched several records (Salesforce answers 300 with their URLs)."""

    def __init__(self, sobject: str, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} {sobject} records match")
        self.sobject = sobject
        self.ids = ids


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


@dataclass(frozen=True)
class StoreSnapshot:
    """The records of a store at one moment, for rolling back an all-or-none operation."""

    records: dict[str, dict[str, Record]]
    by_id: dict[str, str]


class Store:
    """Records of every sObject, with Salesforce's validation, defaults and soft delete."""

    def __init__(
        self, objects: Mapping[str, ObjectDef] | None = None, *, ids: IdGenerator | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.objects: dict[str, ObjectDef] = dict(objects if objects is not None else standard_objects())
        self._all_objects = dict(self.objects)
        self.hidden_fields: dict[str, list[str]] = {}
        self.ids = ids or IdGenerator()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lock = threading.RLock()
        self._records: dict[str, dict[str, Record]] = {name: {} for name in self.objects}
        self._by_id: dict[str, str] = {}
        self._auto_numbers: dict[tuple[str, str], int] = {}

    # schema ---------------------------------------------------------------------------------------
    def find_object(self, name: str) -> ObjectDef | None:
        """The object called ``name`` (case-insensitive), else None."""
        return find_object(self.objects, name)

    def object(self, name: str) -> ObjectDef:
        """The object called ``name``; raises a 404 NOT_FOUND as the sobjects resource does."""
        obj = self.find_object(name)
        if obj is None:
            raise not_found()
        return obj

    def hide_fields(self, hidden: Mapping[str, Any]) -> dict[str, list[str]]:
        """Make these fields (``{"Task": ["Call_Result__c"]}``) unknown to the API, as for a user without
        field-level access or an org without the field; replaces the previous set, ``{}`` shows every field.
        ValueError for unknown objects or fields, system fields and required fields (nothing changes then)."""
        if not isinstance(hidden, Mapping):
            raise ValueError("the body must be a JSON object of object name -> list of field names")
        resolved: dict[str, list[str]] = {}
        for name, fields in hidden.items():
            obj = find_object(self._all_objects, str(name))
            if obj is None:
                raise ValueError(f"unknown object {name!r}")
            if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
                raise ValueError(f"{obj.name}: give a list of field names")
            for field_name in fields:
                fd = obj.field(field_name)
                if fd is None:
                    raise ValueError(f"unknown field {obj.name}.{field_name}")
                if fd.name in SYSTEM_FIELDS or fd.required:
                    raise ValueError(f"{obj.name}.{fd.name} is always accessible")
                resolved.setdefault(obj.name, []).append(fd.name)
        with self.lock:
            self.objects = {
                n: dataclasses.replace(o, fields=tuple(f for f in o.fields if f.name not in resolved[n]))
                if n in resolved else o for n, o in self._all_objects.items()}
            self.hidden_fields = resolved
        logger.info("hidden fields now %s", resolved)
        return resolved

    # reads ----------------------------------------------------------------------------------------
    def records(self, sobject: str, *, include_deleted: bool = False) -> list[Record]:
        """Every record of an object in creation order, deleted ones only when asked."""
        with self.lock:
            rows = list(self._records[self.object(sobject).name].values())
        return rows if include_deleted else [r for r in rows if not r["IsDeleted"]]

    def lookup(self, record_id: str, *, include_deleted: bool = False) -> tuple[ObjectDef, Record] | None:
        """The live (or, when asked, deleted) record with this id, of any object, else None."""
        rid = normalize_id(record_id) if isinstance(record_id, str) else None
        if rid is None:
            return None
        with self.lock:
            name = self._by_id.get(rid)
            if name is None:
                return None
            record = self._records[name][rid]
        return None if record["IsDeleted"] and not include_deleted else (self.objects[name], record)

    def get(self, sobject: str, record_id: str) -> Record:
        """One live record; raises NOT_FOUND or ENTITY_IS_DELETED."""
        obj = self.object(sobject)
        rid = normalize_id(record_id)
        if rid is None or key_prefix(rid) != obj.key_prefix:
            raise not_found(f"Provided external ID field does not exist or is not accessible: {record_id}")
        with self.lock:
            record = self._records[obj.name].get(rid)
        if record is None:
            raise not_found()
        if record["IsDeleted"]:
            raise ApiError("ENTITY_IS_DELETED", "entity is deleted")
        return record

    def match_field(self, sobject: str, field_name: str, value: Any) -> list[Record]:
        """Live records whose ``field_name`` equals ``value`` (text compared case-insensitively)."""
        obj = self.object(sobject)
        fd = obj.field(field_name)
        if fd is None:
            return []
        wanted = _fold(value)
        return [r for r in self.records(obj.name) if r.get(fd.name) is not None and _fold(r[fd.name]) == wanted]

    # writes ---------------------------------------------------------------------------------------
    def create(
        self, sobject: str, values: Mapping[str, Any], *, owner_id: str | None = None,
        created_at: datetime | None = None, system: bool = False,
    ) -> Record:
        """Insert a record; raises ApiError for unknown, read-only, missing or duplicate fields, or for an object
        the API cannot insert. ``system`` writes as the platform itself does (seed, Omni-Channel): object- and
        field-level createable flags do not apply."""
        obj = self.object(sobject)
        if not (system or obj.createable):
            raise invalid_type_for_operation("inserted")
        with self.lock:
            changes = self._validated(obj, values, creating=True, system=system)
            record: Record = {f.name: f.default for f in obj.fields}
            record.update(changes)
            for fd in obj.fields:
                if fd.name == "OwnerId" and record.get("OwnerId") is None:
                    record["OwnerId"] = owner_id
                if fd.auto_number_start is not None:
                    record[fd.name] = self._next_auto_number(obj, fd)
            self._check_required(obj, record)
            self._check_unique(obj, record, None)
            rid = self.ids.new_id(obj.key_prefix)
            stamp = format_datetime(created_at or self.clock())
            record.update(Id=rid, IsDeleted=False, CreatedDate=stamp, LastModifiedDate=stamp, SystemModstamp=stamp)
            if obj.derive:
                record.update(obj.derive(record))
            self._records[obj.name][rid] = record
            self._by_id[rid] = obj.name
        logger.debug("created %s %s", obj.name, rid)
        return record

    def update(self, sobject: str, record_id: str, values: Mapping[str, Any], *, system: bool = False) -> Record:
        """Change fields of a live record (``system``: as the platform, past the updateable flags)."""
        obj = self.object(sobject)
        if not (system or obj.updateable):
            raise invalid_type_for_operation("updated")
        with self.lock:
            record = self.get(obj.name, record_id)
            changes = self._validated(obj, values, creating=False, system=system)
            merged = {**record, **changes}
            self._check_required(obj, merged)
            self._check_unique(obj, merged, record["Id"])
            record.update(changes)
            if obj.derive:
                record.update(obj.derive(record))
            record["LastModifiedDate"] = record["SystemModstamp"] = format_datetime(self.clock())
        return record

    def delete(self, sobject: str, record_id: str) -> None:
        """Move a record to the recycle bin (``queryAll`` still sees it)."""
        if not self.object(sobject).deletable:
            raise invalid_type_for_operation("deleted")
        with self.lock:
            record = self.get(sobject, record_id)
            record["IsDeleted"] = True
            record["LastModifiedDate"] = record["SystemModstamp"] = format_datetime(self.clock())

    def upsert(
        self, sobject: str, field_name: str, value: str, values: Mapping[str, Any], *, owner_id: str | None = None,
    ) -> tuple[Record, bool]:
        """Update the record whose external id ``field_name`` is ``value``, or create it; (record, created)."""
        obj = self.object(sobject)
        fd = obj.field(field_name)
        if fd is None or not (fd.external_id or fd.name == "Id"):
            raise not_found(f"Provided external ID field does not exist or is not accessible: {field_name}")
        with self.lock:
            if fd.name == "Id":
                return self.update(obj.name, value, values), False
            key = canonical_value(fd, value)
            body = {k: v for k, v in values.items() if k != "attributes"}
            for k in list(body):
                if k.lower() == fd.name.lower():
                    if _fold(canonical_value(fd, body[k])) != _fold(key):
                        raise ApiError("INVALID_FIELD", f"The external ID {fd.name} differs between the URL "
                                       "and the request body", [fd.name])
                    del body[k]
            matches = self.match_field(obj.name, fd.name, key)
            if len(matches) > 1:
                raise MultipleMatches(obj.name, [r["Id"] for r in matches])
            if matches:
                return self.update(obj.name, matches[0]["Id"], body), False
            return self.create(obj.name, {**body, fd.name: key}, owner_id=owner_id), True

    # transactions ---------------------------------------------------------------------------------------
    def snapshot(self) -> StoreSnapshot:
        """The current records (hold ``lock`` across snapshot, changes and a possible ``restore``)."""
        with self.lock:
            return StoreSnapshot({name: {rid: dict(rec) for rid, rec in rows.items()}
                                  for name, rows in self._records.items()}, dict(self._by_id))

    def restore(self, snap: StoreSnapshot) -> None:
        """Roll the records back to ``snap`` (ids and auto-numbers handed out meanwhile stay used, as in Salesforce)."""
        with self.lock:
            self._records = {name: {rid: dict(rec) for rid, rec in rows.items()} for name, rows in snap.records.items()}
            self._by_id = dict(snap.by_id)

    # validation -----------------------------------------------------------------------------------------
    def _validated(self, obj: ObjectDef, values: Mapping[str, Any], *, creating: bool, system: bool = False,
                   ) -> Record:
        if not isinstance(values, Mapping):
            raise ApiError("JSON_PARSER_ERROR", "The request body must be a JSON object")
        fields: list[tuple[FieldDef, Any]] = []
        for key, raw in values.items():
            if key == "attributes":
                continue
            fd = obj.field(key)
            if fd is None:
                raise ApiError("INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}", [key])
            fields.append((fd, raw))
        if creating and any(fd.name == "Id" for fd, _ in fields):
            raise ApiError("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"])
        read_only = [] if system else [fd.name for fd, _ in fields
                                       if not (fd.createable if creating else fd.updateable)]
        if read_only:
            raise read_only_fields(read_only)
        out: Record = {}
        for fd, raw in fields:
            value = canonical_value(fd, raw)
            if fd.restricted_picklist and value is not None and value not in fd.picklist_values:
                raise ApiError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                               f"{fd.label or fd.name}: bad value for restricted picklist field: {value}", [fd.name])
            if fd.type == "reference" and value is not None:
                self._check_reference(fd, value)
            out[fd.name] = value
        return out

    def _check_reference(self, fd: FieldDef, rid: str) -> None:
        targets = [self.objects[t] for t in fd.reference_to if t in self.objects]
        if key_prefix(rid) not in {t.key_prefix for t in targets}:
            raise ApiError("FIELD_INTEGRITY_EXCEPTION", f"{fd.label or fd.name}: id value of incorrect type: {rid}",
                           [fd.name])
        if self.lookup(rid) is None:
            raise ApiError("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {rid}", [fd.name])

    @staticmethod
    def _check_required(obj: ObjectDef, record: Record) -> None:
        missing = [f.name for f in obj.fields if f.required and record.get(f.name) is None]
        if missing:
            raise ApiError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)

    def _check_unique(self, obj: ObjectDef, record: Record, own_id: str | None) -> None:
        for fd in obj.fields:
            if not fd.unique or record.get(fd.name) is None:
                continue
            for other in self.match_field(obj.name, fd.name, record[fd.name]):
                if other["Id"] != own_id:
                    raise ApiError("DUPLICATE_VALUE", f"duplicate value found: {fd.name} duplicates value on "
                                   f"record with id: {other['Id']}", [fd.name])

    def _next_auto_number(self, obj: ObjectDef, fd: FieldDef) -> str:
        key = (obj.name, fd.name)
        n = self._auto_numbers.get(key, fd.auto_number_start or 0)
        self._auto_numbers[key] = n + 1
        return f"{n:08d}"

