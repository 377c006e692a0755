"""Schema (custom fields, record types, field-level rules, describe) and the seeds."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from sfemu.app import create_app
from sfemu.auth import Credentials
from sfemu.errors import ApiError
from sfemu.seed import (
    CALLBACK_RECORD_TYPE,
    DEMO_ACCOUNT_NAME,
    DEMO_CONTACT_NAME,
    DEMO_CONTACT_PHONE,
    DEMO_LEAD_NAME,
    DEMO_SHARED_PHONE,
    apply_seed,
)
from sfemu.sosl import phone_digits, phone_digits_match
from sfemu.store import Store
from sfemu.testing import bearer_headers

V = "/services/data/v59.0"
CALL_FIELDS = {
    "Call_Id__c": ("string", 255), "Phone_Number_2__c": ("phone", 40), "Service_Pool_Queue__c": ("string", 255),
    "Queue_Wait_Time__c": ("string", 20), "Queue_Wait_Time_Sec__c": ("double", 0), "Call_End_Time__c": ("datetime", 0),
    "Advanced_Call_Details__c": ("url", 255), "Phone_From__c": ("phone", 40), "Phone_To__c": ("phone", 40),
    "Call_Date__c": ("datetime", 0), "Call_Result__c": ("string", 40),
}
CALLBACK_FIELDS = {
    "Callback_Channel_In__c": ("string", 255), "Callback_Creation_Time__c": ("datetime", 0),
    "Callback_Contact_Number__c": ("phone", 40), "Callback_Recording_URL__c": ("url", 255),
    "Callback_Contact_Message__c": ("string", 255), "RecordTypeId": ("reference", 18),
}
CASE_ONLY = {"Call_Type__c": ("picklist", 255), "Call_Duration_Sec__c": ("double", 0)}


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    return create_app("demo").test_client()


@pytest.fixture(scope="module")
def auth(client: FlaskClient) -> dict[str, str]:
    return bearer_headers(client)


def describe(client: FlaskClient, auth: dict[str, str], sobject: str) -> dict[str, dict[str, Any]]:
    body = client.get(f"{V}/sobjects/{sobject}/describe", headers=auth).json
    return {f["name"]: f for f in body["fields"]}


@pytest.mark.parametrize(("sobject", "expected"), [
    ("Task", {**CALL_FIELDS, **CALLBACK_FIELDS}), ("Case", {**CALL_FIELDS, **CALLBACK_FIELDS, **CASE_ONLY})])
def test_custom_fields_have_the_declared_types(client: FlaskClient, auth: dict[str, str], sobject: str,
                                               expected: dict[str, tuple[str, int]]) -> None:
    fields = describe(client, auth, sobject)
    assert {name: (fields[name]["type"], fields[name]["length"]) for name in expected} == expected
    call_id = fields["Call_Id__c"]
    assert (call_id["externalId"], call_id["unique"], call_id["idLookup"], call_id["nillable"]) == (
        True, True, True, True)
    assert fields["RecordTypeId"]["referenceTo"] == ["RecordType"]
    assert fields["RecordTypeId"]["relationshipName"] == "RecordType"
    assert all(fields[n]["custom"] for n in expected if n.endswith("__c"))


def test_describe_flags_of_standard_fields(client: FlaskClient, auth: dict[str, str]) -> None:
    task, case, contact = (describe(client, auth, o) for o in ("Task", "Case", "Contact"))

    def flags(f: dict[str, Any]) -> tuple[bool, bool, bool]:
        return f["createable"], f["updateable"], f["nillable"]

    assert flags(task["TaskSubtype"]) == (True, False, True)
    assert [v["value"] for v in task["TaskSubtype"]["picklistValues"]][:5] == [
        "Task", "Email", "ListEmail", "Cadence", "Call"]
    assert flags(case["CaseNumber"]) == (False, False, False) and case["CaseNumber"]["autoNumber"] is True
    assert flags(contact["Name"]) == (False, False, True)
    assert flags(contact["LastName"]) == (True, True, False)
    for name in ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp"):
        assert flags(task[name]) == (False, False, False) and task[name]["defaultedOnCreate"] is True
    assert flags(task["OwnerId"]) == (True, True, False) and task["OwnerId"]["defaultedOnCreate"] is True
    call_type = case["Call_Type__c"]
    assert call_type["restrictedPicklist"] is True
    assert [v["value"] for v in call_type["picklistValues"]] == ["Inbound", "Outbound"]
    account = describe(client, auth, "Account")
    assert {account["SLA__c"]["type"], account["Language__c"]["type"]} == {"picklist"}


def test_record_types_are_queryable_but_not_listed(client: FlaskClient, auth: dict[str, str]) -> None:
    q = "SELECT Id, Name, DeveloperName, SobjectType, IsActive FROM RecordType ORDER BY SobjectType"
    rows = client.get(f"{V}/query", query_string={"q": q}, headers=auth).json["records"]
    assert [(r["SobjectType"], r["DeveloperName"], r["IsActive"]) for r in rows] == [
        ("Case", CALLBACK_RECORD_TYPE, True), ("Task", CALLBACK_RECORD_TYPE, True)]
    assert all(r["Id"].startswith("012") for r in rows)
    info = client.get(f"{V}/sobjects/RecordType/describe", headers=auth).json
    assert info["keyPrefix"] == "012"
    cases = client.get(f"{V}/query", headers=auth, query_string={
        "q": "SELECT CaseNumber, RecordType.DeveloperName FROM Case WHERE RecordTypeId != null"}).json
    assert cases["totalSize"] > 0 and {r["RecordType"]["DeveloperName"] for r in cases["records"]} == {"Callback"}
    task = client.post(f"{V}/sobjects/Task", headers=auth, json={"Subject": "Call back", "RecordTypeId": rows[1]["Id"],
                                                                 "Callback_Contact_Number__c": "+358 40 1"})
    assert task.status_code == 201
    wrong = client.post(f"{V}/sobjects/Task", headers=auth, json={"RecordTypeId": task.json["id"]})
    assert wrong.status_code == 400 and wrong.json[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_read_only_fields_are_named_together(client: FlaskClient, auth: dict[str, str]) -> None:
    r = client.post(f"{V}/sobjects/Contact", headers=auth, json={"LastName": "x", "Name": "y", "CreatedDate": None})
    assert r.status_code == 400
    assert r.json == [{"message": "Unable to create/update fields: Name, CreatedDate. Please check the security "
                                  "settings of this field and verify that it is read/write for your profile or "
                                  "permission set.", "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
                       "fields": ["Name", "CreatedDate"]}]


def test_upsert_that_matches_refuses_task_subtype(client: FlaskClient, auth: dict[str, str]) -> None:
    url = f"{V}/sobjects/Task/Call_Id__c/1717400000.99"
    body = {"Subject": "call", "TaskSubtype": "Call", "CallType": "Inbound"}
    assert client.patch(url, headers=auth, json=body).status_code == 201
    again = client.patch(url, headers=auth, json=body)
    assert again.status_code == 400 and again.json[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert again.json[0]["fields"] == ["TaskSubtype"]
    assert again.json[0]["message"].startswith("Unable to create/update fields: TaskSubtype. ")
    body.pop("TaskSubtype")
    assert client.patch(url, headers=auth, json=body).status_code == 200


def test_restricted_picklist_refuses_other_values() -> None:
    store = Store()
    with pytest.raises(ApiError) as exc:
        store.create("Case", {"Call_Type__c": "Internal"})
    assert exc.value.code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert store.create("Case", {"Call_Type__c": "Outbound"})["Call_Type__c"] == "Outbound"


# seeds --------------------------------------------------------------------------------------------------
def _seeded(name: str) -> Store:
    store = Store()
    apply_seed(store, name, Credentials())
    return store


COUNTRY_PATTERNS = {"FI": r"^(\+358|0)", "SE": r"^(\+46|07)", "GB": r"^(\+44|0[27])", "US": r"^(\+1|\(\d{3}\)|\d{3}-)",
                    "DE": r"^(\+49|0)"}


def test_large_seed_is_deterministic_and_realistic() -> None:
    a, b = _seeded("large"), _seeded("large")
    for obj in ("Account", "Contact", "Lead", "Case", "User", "RecordType"):
        assert a.records(obj) == b.records(obj)
    contacts, accounts = a.records("Contact"), {x["Id"]: x for x in a.records("Account")}
    assert len(contacts) >= 300 and len(accounts) >= 100 and len(a.records("Lead")) >= 60
    names = {c["Name"] for c in contacts}
    assert DEMO_CONTACT_NAME in names and DEMO_LEAD_NAME in {x["Name"] for x in a.records("Lead")}
    assert DEMO_ACCOUNT_NAME in {x["Name"] for x in accounts.values()}
    assert sum(bool(c.get("MobilePhone")) for c in contacts) > 50
    assert sum(bool(c.get("HomePhone")) for c in contacts) > 30
    for c in contacts:
        acc = accounts.get(c.get("AccountId") or "")
        if acc and c["Phone"] not in (DEMO_CONTACT_PHONE, DEMO_SHARED_PHONE):
            assert re.match(COUNTRY_PATTERNS[acc["BillingCountry"]], c["Phone"]), (acc["BillingCountry"], c["Phone"])
    assert {x["SLA__c"] for x in accounts.values()} == {"Gold", "Silver", "Bronze"}
    assert {x["Language__c"] for x in accounts.values()} == {"fi", "sv", "en", "de"}
    cases = a.records("Case")
    assert {c["Status"] for c in cases} >= {"New", "Closed"} and all(c["ContactId"] for c in cases)
    phone_cases = [c for c in cases if c["Origin"] == "Phone"]
    assert phone_cases and all(c["Call_Id__c"] and c["Call_Type__c"] for c in phone_cases)


def test_seeded_numbers_never_match_each_other_by_accident() -> None:
    store = _seeded("large")
    numbers = [r[f] for obj in ("Account", "Contact", "Lead") for r in store.records(obj)
               for f in ("Phone", "MobilePhone", "HomePhone") if r.get(f)]
    shared = phone_digits(DEMO_SHARED_PHONE)
    digits = sorted({phone_digits(n) for n in numbers if phone_digits(n) != shared}, key=len)
    assert len(digits) == len([n for n in numbers if phone_digits(n) != shared])  # all distinct
    clashes = [(x, y) for i, x in enumerate(digits) for y in digits[i + 1:] if phone_digits_match(x, y)]
    assert clashes == []


def test_demo_seed_keeps_its_size_and_gains_home_numbers() -> None:
    store = _seeded("demo")
    assert [len(store.records(o)) for o in ("Account", "Contact", "Lead", "Case")] == [60, 200, 30, 80]
    assert any(c.get("HomePhone") for c in store.records("Contact"))
    assert len(_seeded("empty").records("RecordType")) == 2 and _seeded("empty").records("Contact") == []
    with pytest.raises(ValueError):
        apply_seed(Store(), "huge", Credentials())
