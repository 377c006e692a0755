"""The Salesforce package under salesforce/ (SFDX source format) is complete and well formed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.salesforce_package import (
    FIELD_SUFFIX,
    NS,
    PACKAGE_ROOT,
    SOURCE_ROOT,
    field_files,
    package_field_specs,
    package_fields,
    parse,
    permission_set_fields,
    q,
    record_types,
    text,
)

# (type, length | (precision, scale) | None, label or None when not pinned by the spec)
CALL_FIELDS = {
    "Call_Id__c": ("Text", 255, "Call Id"),
    "Phone_Number_2__c": ("Phone", None, "Phone Number 2"),
    "Service_Pool_Queue__c": ("Text", 255, "Service Pool Queue"),
    "Queue_Wait_Time__c": ("Text", 20, "Queue Wait Time"),
    "Queue_Wait_Time_Sec__c": ("Number", (8, 0), "Queue Wait Time Sec."),
    "Call_End_Time__c": ("DateTime", None, "Call End Time"),
    "Advanced_Call_Details__c": ("Url", None, "Advanced Call Details"),
    "Phone_From__c": ("Phone", None, "Phone From"),
    "Phone_To__c": ("Phone", None, "Phone To"),
    "Call_Date__c": ("DateTime", None, "Call Date"),
    "Call_Result__c": ("Text", 40, "Call Result"),
}
CALLBACK_FIELDS = {
    "Callback_Channel_In__c": ("Text", 255, None),
    "Callback_Creation_Time__c": ("DateTime", None, None),
    "Callback_Contact_Number__c": ("Phone", None, None),
    "Callback_Recording_URL__c": ("Url", None, None),
    "Callback_Contact_Message__c": ("Text", 255, None),
}
CASE_ONLY_FIELDS = {
    "Call_Type__c": ("Picklist", None, "Call Type"),
    "Call_Duration_Sec__c": ("Number", (8, 0), None),
}
ACCOUNT_FIELDS = {
    "SLA__c": ("Picklist", None, "SLA"),
    "Language__c": ("Picklist", None, "Language"),
    "VIP__c": ("Checkbox", None, "VIP"),
}
EXPECTED = {
    "Activity": CALL_FIELDS | CALLBACK_FIELDS,
    "Case": CALL_FIELDS | CASE_ONLY_FIELDS | CALLBACK_FIELDS,
    "Account": ACCOUNT_FIELDS,
}
ALL_FIELDS = [(obj, name) for obj, fields in EXPECTED.items() for name in sorted(fields)]
PERMISSION_SETS = ("Switchboard_Integration", "Switchboard_Agent")
CALL_CENTER = SOURCE_ROOT / "callCenters" / "Switchboard.callCenter-meta.xml"
CALL_CENTER_IMPORT = PACKAGE_ROOT / "call-center" / "Switchboard.xml"
GENERAL_INFO = {
    "reqAdapterUrl": "https://switchboard.example.com/phone?shell=opencti",
    "reqUseApi": "true",
    "reqSoftphoneHeight": "550",
    "reqSoftphoneWidth": "400",
    "reqSalesforceCompatibilityMode": "Lightning",
    "reqTimeout": "10000",
}


def perm_object(obj: str) -> str:
    """Activity fields are granted in permission sets as Task.<Field> (Salesforce mirrors Event)."""
    return "Task" if obj == "Activity" else obj


def test_sfdx_project() -> None:
    project = json.loads((PACKAGE_ROOT / "sfdx-project.json").read_text())
    assert project["name"] == "switchboard"
    assert project["sourceApiVersion"] == "62.0"
    assert [d["path"] for d in project["packageDirectories"]] == ["force-app"]
    assert project["packageDirectories"][0].get("default") is True
    assert SOURCE_ROOT.is_dir()


def test_every_metadata_file_is_well_formed_in_the_metadata_namespace() -> None:
    files = sorted(SOURCE_ROOT.rglob("*-meta.xml"))
    assert len(files) > 40
    for path in files:
        root = parse(path)  # raises on malformed XML
        assert root.tag.startswith(f"{{{NS}}}"), path


def test_package_defines_exactly_the_expected_fields() -> None:
    assert {obj: {p.name.removesuffix(FIELD_SUFFIX) for p in paths} for obj, paths in field_files().items()} == {
        obj: set(fields) for obj, fields in EXPECTED.items()
    }


@pytest.mark.parametrize(("obj", "name"), ALL_FIELDS)
def test_field_definition(obj: str, name: str) -> None:
    path = SOURCE_ROOT / "objects" / obj / "fields" / f"{name}{FIELD_SUFFIX}"
    root = parse(path)
    assert root.tag == q("CustomField")
    spec = package_field_specs()[obj][name]
    field_type, size, label = EXPECTED[obj][name]
    assert spec.name == name, "fullName must match the file name"
    assert spec.type == field_type
    if label is not None:
        assert spec.label == label
    assert spec.label and len(spec.label) <= 40
    assert text(root, "description"), "every field explains itself to admins"
    assert text(root, "required", "false") == "false", "a required field would break every other integration"
    if field_type == "Text":
        assert spec.length == size
    elif field_type == "Number":
        assert (spec.precision, spec.scale) == size
    else:
        assert spec.length is None and spec.precision is None
    if field_type == "Picklist":
        assert spec.picklist_values
    else:
        assert root.find(q("valueSet")) is None


@pytest.mark.parametrize("obj", ["Activity", "Case"])
def test_call_id_is_a_unique_case_sensitive_external_id(obj: str) -> None:
    spec = package_field_specs()[obj]["Call_Id__c"]
    assert (spec.external_id, spec.unique, spec.case_sensitive) == (True, True, True)
    others = [s for o, fields in package_field_specs().items() for s in fields.values() if s.name != "Call_Id__c"]
    assert not any(s.external_id or s.unique for s in others)


def test_picklists() -> None:
    specs = package_field_specs()
    call_type = specs["Case"]["Call_Type__c"]
    assert call_type.picklist_values == ("Inbound", "Outbound") and call_type.restricted
    assert specs["Account"]["SLA__c"].picklist_values == ("Gold", "Silver", "Bronze")
    assert specs["Account"]["Language__c"].picklist_values == ("fi", "sv", "en", "de")
    root = parse(SOURCE_ROOT / "objects" / "Account" / "fields" / f"Language__c{FIELD_SUFFIX}")
    labels = {text(v, "fullName"): text(v, "label") for v in root.iter(q("value"))}
    assert labels == {"fi": "Finnish", "sv": "Swedish", "en": "English", "de": "German"}


def test_package_fields_helper_reports_activity_fields_under_task_too() -> None:
    fields = package_fields()
    assert fields["Task"] == fields["Activity"] == set(EXPECTED["Activity"])
    assert fields["Case"] == set(EXPECTED["Case"])
    assert fields["Account"] == {"SLA__c", "Language__c", "VIP__c"}
    assert {"Call_Id__c", "Queue_Wait_Time_Sec__c", "Callback_Recording_URL__c"} <= fields["Task"]


def test_record_types_and_business_process() -> None:
    assert record_types() == {"Case.Callback", "Task.Callback"}
    case_rt = parse(SOURCE_ROOT / "objects" / "Case" / "recordTypes" / "Callback.recordType-meta.xml")
    assert text(case_rt, "fullName") == "Callback"
    assert text(case_rt, "active") == "true"
    assert text(case_rt, "businessProcess") == "Callback_Process"
    task_rt = parse(SOURCE_ROOT / "objects" / "Task" / "recordTypes" / "Callback.recordType-meta.xml")
    assert text(task_rt, "fullName") == "Callback" and text(task_rt, "active") == "true"
    assert task_rt.find(q("businessProcess")) is None, "Task record types have no business process"
    process_dir = SOURCE_ROOT / "objects" / "Case" / "businessProcesses"
    process = parse(process_dir / "Callback_Process.businessProcess-meta.xml")
    assert process.tag == q("BusinessProcess")
    assert text(process, "fullName") == "Callback_Process" and text(process, "isActive") == "true"
    values = [(text(v, "fullName"), text(v, "default")) for v in process.findall(q("values"))]
    assert [v for v, _ in values] == ["New", "Working", "Escalated", "Closed"]
    assert [v for v, default in values if default == "true"] == ["New"]


@pytest.mark.parametrize("name", PERMISSION_SETS)
def test_permission_set_is_well_formed(name: str) -> None:
    root = parse(SOURCE_ROOT / "permissionsets" / f"{name}.permissionset-meta.xml")
    assert root.tag == q("PermissionSet")
    assert text(root, "label") and text(root, "description")
    visible = {text(r, "recordType") for r in root.findall(q("recordTypeVisibilities")) if text(r, "visible") == "true"}
    assert visible == record_types()
    objects = {text(o, "object") for o in root.findall(q("objectPermissions"))}
    assert "Task" not in objects and "Activity" not in objects, "Task access is the EditTask user permission"
    users = {text(u, "name") for u in root.findall(q("userPermissions")) if text(u, "enabled") == "true"}
    assert "EditTask" in users
    granted = permission_set_fields(name)
    assert not [f for f in granted if f.startswith(("Activity.", "Event."))]
    assert len(granted) == len(root.findall(q("fieldPermissions"))), "no duplicate field entries"


@pytest.mark.parametrize("name", PERMISSION_SETS)
def test_permission_sets_cover_every_package_field(name: str) -> None:
    granted = permission_set_fields(name)
    defined = {f"{perm_object(obj)}.{field}" for obj, fields in package_field_specs().items() for field in fields}
    missing = defined - set(granted)
    assert not missing, f"{name} misses {sorted(missing)}"
    assert set(granted) == defined, "grants for fields the package does not define fail the deploy"
    assert all(readable for readable, _ in granted.values())


def test_integration_permission_set() -> None:
    root = parse(SOURCE_ROOT / "permissionsets" / "Switchboard_Integration.permissionset-meta.xml")
    assert all(editable for _, editable in permission_set_fields("Switchboard_Integration").values())
    users = {text(u, "name") for u in root.findall(q("userPermissions")) if text(u, "enabled") == "true"}
    assert {"ApiEnabled", "EditTask"} <= users
    objects = {
        text(o, "object"): {
            flag: text(o, flag) == "true"
            for flag in ("allowRead", "allowCreate", "allowEdit", "allowDelete", "modifyAllRecords")
        }
        for o in root.findall(q("objectPermissions"))
    }
    assert objects["Case"] == {
        "allowRead": True,
        "allowCreate": True,
        "allowEdit": True,
        "allowDelete": False,
        "modifyAllRecords": False,
    }
    for obj in ("Account", "Contact", "Lead"):
        assert objects[obj]["allowRead"] and not objects[obj]["allowEdit"] and not objects[obj]["allowDelete"]


def test_agent_permission_set_edits_only_case_call_fields() -> None:
    granted = permission_set_fields("Switchboard_Agent")
    editable = {f for f, (_, edit) in granted.items() if edit}
    expected = {f"Case.{name}" for name in CALL_FIELDS | CASE_ONLY_FIELDS}
    assert editable == expected


def _general_info(sections: list[ET.Element], item_tag: str, name_of, value_of) -> dict[str, str]:
    general = [s for s in sections if name_of(s) == "reqGeneralInfo"]
    assert len(general) == 1
    return {name_of(i): value_of(i) for i in general[0].findall(item_tag)}


def test_call_center_metadata() -> None:
    root = parse(CALL_CENTER)
    assert root.tag == q("CallCenter")
    # The internal name (reqInternalName) is the file name; the display name is <displayName>.
    assert CALL_CENTER.name.removesuffix(".callCenter-meta.xml") == "Switchboard"
    assert text(root, "displayName") == "Switchboard"
    assert text(root, "displayNameLabel") and text(root, "internalNameLabel")
    assert text(root, "adapterUrl") == GENERAL_INFO["reqAdapterUrl"]
    sections = root.findall(q("sections"))
    info = _general_info(sections, q("items"), lambda e: text(e, "name"), lambda e: text(e, "value"))
    assert info == GENERAL_INFO
    assert info["reqAdapterUrl"].startswith("https://"), "Lightning needs an https adapter URL"
    assert {text(s, "name") for s in sections} == {"reqGeneralInfo", "reqDialingOptions"}
    custom = json.loads(text(root, "customSettings") or "{}")
    assert custom == {k: v for k, v in GENERAL_INFO.items() if k != "reqAdapterUrl"}


def test_call_center_import_file() -> None:
    root = ET.parse(CALL_CENTER_IMPORT).getroot()
    assert root.tag == "callCenter"
    sections = root.findall("section")
    assert [s.get("sortOrder") for s in sections] == [str(i) for i in range(len(sections))]
    info = _general_info(sections, "item", lambda e: e.get("name"), lambda e: (e.text or "").strip())
    assert info == {"reqInternalName": "Switchboard", "reqDisplayName": "Switchboard"} | GENERAL_INFO
    general = next(s for s in sections if s.get("name") == "reqGeneralInfo")
    orders = {i.get("name"): i.get("sortOrder") for i in general.findall("item")}
    assert orders["reqInternalName"] == "0" and orders["reqDisplayName"] == "1"
    assert sorted(int(o) for o in orders.values()) == list(range(len(orders)))
    assert {s.get("name") for s in sections} == {"reqGeneralInfo", "reqDialingOptions"}
