"""Object and field definitions: the per-object schema the store validates against."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]

TEXT_TYPES = frozenset({"string", "textarea", "phone", "email", "picklist", "url"})
CLOSED_CASE_STATUS = "Closed"
SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp")


@dataclass(frozen=True)
class FieldDef:
    """One field of an sObject, with the describe attributes the emulator honours."""

    name: str
    type: str
    length: int = 0
    label: str = ""
    required: bool = False
    external_id: bool = False
    unique: bool = False
    createable: bool = True
    updateable: bool = True
    calculated: bool = False
    auto_number_start: int | None = None
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    default: Any = None
    nillable_override: bool | None = None
    picklist_values: tuple[str, ...] = ()
    restricted_picklist: bool = False
    precision: int = 0
    scale: int = 0

    @property
    def custom(self) -> bool:
        """True for custom fields (``__c``)."""
        return self.name.endswith("__c")

    @property
    def nillable(self) -> bool:
        """Whether the field may be null: not for required, boolean, id, auto-number or system-set fields."""
        if self.nillable_override is not None:
            return self.nillable_override
        return not self.required and self.type not in ("id", "boolean") and self.auto_number_start is None

    def describe(self) -> dict[str, Any]:
        """The field as ``sobjects/X/describe`` lists it."""
        return {
            "name": self.name,
            "label": self.label or self.name.removesuffix("__c").replace("_", " "),
            "type": self.type,
            "length": self.length,
            "byteLength": self.length * 3,
            "precision": self.precision,
            "scale": self.scale,
            "digits": 9 if self.type == "int" else 0,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.name == "Id" or self.external_id,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "calculated": self.calculated,
            "autoNumber": self.auto_number_start is not None,
            "defaultedOnCreate": (self.default is not None or self.name in SYSTEM_FIELDS or self.name == "OwnerId"
                                  or self.auto_number_start is not None),
            "custom": self.custom,
            "caseSensitive": False,
            "filterable": True,
            "sortable": self.type != "textarea",
            "picklistValues": [{"active": True, "defaultValue": v == self.default, "label": v, "validFor": None,
                                "value": v} for v in self.picklist_values],
            "restrictedPicklist": self.restricted_picklist,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
        }


@dataclass
class ObjectDef:
    """An sObject type: its key prefix, fields and how its calculated fields are derived."""

    name: str
    key_prefix: str
    label: str
    fields: tuple[FieldDef, ...]
    name_fields: tuple[str, ...] = ("Name",)
    derive: Callable[[Record], Record] | None = None
    searchable: bool = True
    listed: bool = True  # in describe global (``GET /sobjects``)
    createable: bool = True  # object-level: False refuses inserts over the API (INVALID_TYPE_FOR_OPERATION)
    updateable: bool = True
    deletable: bool = True
    _by_lower: dict[str, FieldDef] = field(init=False, repr=False)
    _by_relationship: dict[str, FieldDef] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_lower = {f.name.lower(): f for f in self.fields}
        self._by_relationship = {f.relationship_name.lower(): f for f in self.fields if f.relationship_name}

    def field(self, name: str) -> FieldDef | None:
        """The field called ``name`` (case-insensitive), else None."""
        return self._by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship is called ``name`` (``Account`` for AccountId)."""
        return self._by_relationship.get(name.lower())

    @property
    def external_id_fields(self) -> list[FieldDef]:
        """Fields usable as the key of an upsert."""
        return [f for f in self.fields if f.external_id]

    def describe(self) -> dict[str, Any]:
        """The full ``sobjects/X/describe`` body (minus URLs, added by the route)."""
        return {
            "name": self.name,
            "label": self.label,
            "labelPlural": self.label + ("es" if self.label.endswith("s") else "s"),
            "keyPrefix": self.key_prefix,
            "custom": False,
            "createable": self.createable,
            "updateable": self.updateable,
            "deletable": self.deletable,
            "queryable": True,
            "searchable": self.searchable,
            "fields": [f.describe() for f in self.fields],
        }


def _system_fields() -> list[FieldDef]:
    ro: dict[str, Any] = {"createable": False, "updateable": False, "nillable_override": False}
    return [
        FieldDef("Id", "id", 18, "Record ID", **ro),
        FieldDef("IsDeleted", "boolean", 0, "Deleted", default=False, **ro),
        FieldDef("CreatedDate", "datetime", 0, "Created Date", **ro),
        FieldDef("LastModifiedDate", "datetime", 0, "Last Modified Date", **ro),
        FieldDef("SystemModstamp", "datetime", 0, "System Modstamp", **ro),
    ]


def _text(name: str, length: int = 255, **kw: Any) -> FieldDef:
    return FieldDef(name, "string", length, **kw)


def _phone(name: str, label: str = "") -> FieldDef:
    return FieldDef(name, "phone", 40, label)


def _picklist(name: str, values: tuple[str, ...] = (), label: str = "", **kw: Any) -> FieldDef:
    return FieldDef(name, "picklist", 255, label, picklist_values=values, **kw)


def _ref(name: str, relationship: str, *targets: str, **kw: Any) -> FieldDef:
    return FieldDef(name, "reference", 18, reference_to=targets, relationship_name=relationship, **kw)


def _owner() -> FieldDef:
    return _ref("OwnerId", "Owner", "User", label="Owner ID", nillable_override=False)


def _record_type() -> FieldDef:
    return _ref("RecordTypeId", "RecordType", "RecordType", label="Record Type ID")


def call_detail_fields() -> list[FieldDef]:
    """The Switchboard package's call-detail custom fields shared by Task and Case."""
    return [
        _text("Call_Id__c", external_id=True, unique=True, label="Call Id"),
        _phone("Phone_Number_2__c", "Phone Number"),
        _text("Service_Pool_Queue__c", label="Service Pool Queue"),
        _text("Queue_Wait_Time__c", 20, label="Queue Wait Time"),
        FieldDef("Queue_Wait_Time_Sec__c", "double", 0, "Queue Wait Time (s)", precision=18),
        FieldDef("Call_End_Time__c", "datetime", 0, "Call End Time"),
        FieldDef("Advanced_Call_Details__c", "url", 255, "Advanced Call Details"),
        _phone("Phone_From__c", "Phone From"), _phone("Phone_To__c", "Phone To"),
        FieldDef("Call_Date__c", "datetime", 0, "Call Date"),
        _text("Call_Result__c", 40, label="Call Result"),
    ]


def callback_fields() -> list[FieldDef]:
    """The Switchboard package's callback-request custom fields (Task and Case)."""
    return [
        _text("Callback_Channel_In__c", label="Callback Channel In"),
        FieldDef("Callback_Creation_Time__c", "datetime", 0, "Callback Creation Time"),
        _phone("Callback_Contact_Number__c", "Callback Contact Number"),
        FieldDef("Callback_Recording_URL__c", "url", 255, "Callback Recording URL"),
        _text("Callback_Contact_Message__c", label="Callback Contact Message"),
    ]


def _calculated_name(length: int = 121) -> FieldDef:
    return FieldDef("Name", "string", length, "Full Name", createable=False, updateable=False, calculated=True)


def person_name(record: Record) -> Record:
    """Derive ``Name`` from ``FirstName`` and ``LastName`` as Salesforce does for people."""
    parts = [record.get("FirstName"), record.get("LastName")]
    return {"Name": " ".join(p for p in parts if p) or None}


def case_closed(record: Record) -> Record:
    """Derive ``IsClosed`` from ``Status`` (the emulator's only closed status is "Closed")."""
    return {"IsClosed": record.get("Status") == CLOSED_CASE_STATUS}


def _object(name: str, prefix: str, label: str, fields: Iterable[FieldDef], **kw: Any) -> ObjectDef:
    return ObjectDef(name, prefix, label, tuple(_system_fields()) + tuple(fields), **kw)


AGENT_WORK_STATUSES = ("Assigned", "Opened", "Closed", "Declined", "Transferred", "Canceled", "Unavailable")
# Set by Omni-Channel only: neither createable nor updateable over the API.
_OMNI_RO: dict[str, Any] = {"createable": False, "updateable": False}


def omni_objects() -> list[ObjectDef]:
    """Omni-Channel presence objects: ServicePresenceStatus (setup data), UserServicePresence (one row per status
    period of a user) and AgentWork (routed work). Only the emulator itself writes them (``system=True``)."""
    def owner() -> FieldDef:
        return _ref("OwnerId", "Owner", "User", label="Owner ID", nillable_override=False, **_OMNI_RO)

    omni: dict[str, Any] = {"searchable": False, "listed": False, "createable": False, "updateable": False}
    return [
        _object("ServicePresenceStatus", "0N5", "Presence Status", [
            _text("DeveloperName", 80, required=True, label="Developer Name", **_OMNI_RO),
            _text("MasterLabel", 80, required=True, label="Master Label", **_OMNI_RO),
            _picklist("Language", ("en_US", "fi", "sv", "de"), "Language", **_OMNI_RO),
        ], name_fields=("MasterLabel",), deletable=False, **omni),
        _object("UserServicePresence", "0Hn", "User Presence", [
            _ref("UserId", "User", "User", label="User ID", **_OMNI_RO),
            _ref("ServicePresenceStatusId", "ServicePresenceStatus", "ServicePresenceStatus",
                 label="Presence Status ID", **_OMNI_RO),
            FieldDef("IsCurrentState", "boolean", 0, "Is Current State", default=False, **_OMNI_RO),
            FieldDef("IsAway", "boolean", 0, "Is Away", default=False, **_OMNI_RO),
            FieldDef("StatusStartDate", "datetime", 0, "Status Start Date", **_OMNI_RO),
            FieldDef("StatusEndDate", "datetime", 0, "Status End Date", **_OMNI_RO),
            FieldDef("ConfiguredCapacity", "int", 0, "Configured Capacity", **_OMNI_RO),
            owner(),
        ], name_fields=(), **omni),
        _object("AgentWork", "0Bz", "Agent Work", [
            _ref("UserId", "User", "User", label="User ID", **_OMNI_RO),
            _ref("WorkItemId", "WorkItem", "Case", "Lead", "Contact", "Account", "Task", label="Work Item ID",
                 **_OMNI_RO),
            _picklist("Status", AGENT_WORK_STATUSES, "Status", restricted_picklist=True, **_OMNI_RO),
            FieldDef("CapacityWeight", "double", 0, "Capacity Weight", precision=18, scale=2, **_OMNI_RO),
            # ServiceChannel is not emulated: an id without a followable relationship.
            FieldDef("ServiceChannelId", "reference", 18, "Service Channel ID", reference_to=("ServiceChannel",),
                     **_OMNI_RO),
            FieldDef("AcceptDateTime", "datetime", 0, "Accept DateTime", **_OMNI_RO),
            FieldDef("CloseDateTime", "datetime", 0, "Close DateTime", **_OMNI_RO),
            owner(),
        ], name_fields=(), searchable=False, listed=False, createable=False),
    ]


def standard_objects() -> dict[str, ObjectDef]:
    """The sObjects the emulator knows, by name: Account, Contact, Lead, Case, Task, User, RecordType and the
    Omni-Channel presence objects (:func:`omni_objects`)."""
    objects = [
        _object("User", "005", "User", [
            _text("Username", 80, required=True, unique=True),
            _text("FirstName", 40), _text("LastName", 80, required=True), _calculated_name(),
            FieldDef("Email", "email", 128), FieldDef("IsActive", "boolean", default=True),
        ], name_fields=("Name", "FirstName", "LastName", "Username"), derive=person_name),
        _object("Account", "001", "Account", [
            _text("Name", required=True), _phone("Phone"), FieldDef("Type", "picklist", 255),
            FieldDef("Industry", "picklist", 255), _text("BillingCountry", 80),
            _picklist("SLA__c", ("Gold", "Silver", "Platinum", "Bronze"), "SLA"),
            _picklist("Language__c", ("fi", "sv", "en", "de"), "Language"),
            FieldDef("VIP__c", "boolean", 0, "VIP", default=False),
            _owner(),
        ]),
        _object("Contact", "003", "Contact", [
            _text("FirstName", 40), _text("LastName", 80, required=True), _calculated_name(),
            _phone("Phone"), _phone("MobilePhone"), _phone("HomePhone"), _phone("OtherPhone"),
            FieldDef("Email", "email", 80), _ref("AccountId", "Account", "Account"), _text("Title", 128),
            _owner(),
        ], name_fields=("Name", "FirstName", "LastName"), derive=person_name),
        _object("Lead", "00Q", "Lead", [
            _text("FirstName", 40), _text("LastName", 80, required=True), _calculated_name(),
            _text("Company", required=True), _phone("Phone"), _phone("MobilePhone"),
            FieldDef("Email", "email", 80),
            FieldDef("Status", "picklist", 255, default="Open - Not Contacted", nillable_override=False),
            _owner(),
        ], name_fields=("Name", "FirstName", "LastName", "Company"), derive=person_name),
        _object("Case", "500", "Case", [
            FieldDef("CaseNumber", "string", 30, "Case Number", createable=False, updateable=False,
                     auto_number_start=1000),
            _text("Subject"), FieldDef("Status", "picklist", 255, default="New"),
            FieldDef("IsClosed", "boolean", 0, "Closed", createable=False, updateable=False, default=False),
            FieldDef("Origin", "picklist", 255), FieldDef("Priority", "picklist", 255, default="Medium"),
            _ref("ContactId", "Contact", "Contact"), _ref("AccountId", "Account", "Account"),
            FieldDef("Description", "textarea", 32000), _text("SuppliedPhone", 40, label="Web Phone"),
            _owner(), _record_type(), *call_detail_fields(),
            _picklist("Call_Type__c", ("Inbound", "Outbound"), "Call Type", restricted_picklist=True),
            FieldDef("Call_Duration_Sec__c", "double", 0, "Call Duration (s)", precision=18),
            *callback_fields(),
        ], name_fields=("CaseNumber",),  # as in Salesforce: Subject is not a name field (SOSL IN NAME FIELDS)
            derive=case_closed),
        _object("Task", "00T", "Task", [
            _text("Subject"), FieldDef("Status", "picklist", 255, default="Not Started", nillable_override=False),
            FieldDef("Priority", "picklist", 255, default="Normal", nillable_override=False),
            FieldDef("ActivityDate", "date"),
            _owner(), _ref("WhoId", "Who", "Contact", "Lead"), _ref("WhatId", "What", "Account", "Case"),
            FieldDef("Description", "textarea", 32000),
            # Set at create only: an update (or an upsert that matches) sending it is refused.
            _picklist("TaskSubtype", ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"), "Task Subtype",
                      updateable=False),
            _picklist("CallType", ("Inbound", "Outbound", "Internal"), "Call Type"),
            FieldDef("CallDurationInSeconds", "int", 0, "Call Duration"),
            _text("CallObject", label="Call Object Identifier"), _text("CallDisposition", label="Call Result"),
            *call_detail_fields(), *callback_fields(), _record_type(),
        ], name_fields=("Subject",)),
        _object("RecordType", "012", "Record Type", [
            _text("Name", 80, required=True, label="Record Type Label"),
            _text("DeveloperName", 80, required=True, label="Record Type Name"),
            FieldDef("SobjectType", "picklist", 40, "SObject Type Name", required=True, updateable=False),
            FieldDef("IsActive", "boolean", 0, "Active", default=True), _text("Description"),
        ], searchable=False, listed=False),
        *omni_objects(),
    ]
    return {o.name: o for o in objects}


def find_object(objects: Mapping[str, ObjectDef], name: str) -> ObjectDef | None:
    """The object called ``name`` (case-insensitive), else None."""
    obj = objects.get(name)
    if obj is not None:
        return obj
    lowered = name.lower()
    return next((o for n, o in objects.items() if n.lower() == lowered), None)
