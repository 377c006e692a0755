"""sObject Collections through Flask's test client: shapes, allOrNone, limits, field rules, API counting."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sfemu.app import create_app
from sfemu.sobject_collections import ROLLED_BACK_MESSAGE
from sfemu.testing import bearer_headers

V = "/services/data/v59.0"
C = f"{V}/composite/sobjects"


@pytest.fixture
def app() -> Flask:
    return create_app("empty")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(client: FlaskClient) -> dict[str, str]:
    return bearer_headers(client)


def rec(sobject: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": sobject}, **fields}


def used(response: Any) -> int:
    return int(response.headers["Sforce-Limit-Info"].split("=")[1].split("/")[0])


def rolled_back() -> dict[str, Any]:
    return {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": ROLLED_BACK_MESSAGE, "fields": []}


def test_create_mixed_types_partial_success_counts_one_request(client: FlaskClient, auth: dict[str, str]) -> None:
    before = used(client.get(f"{V}/limits", headers=auth))
    r = client.post(C, json={"allOrNone": False, "records": [
        rec("Account", Name="Acme Oy"), rec("Contact", FirstName="No Last Name"), rec("Contact", LastName="Ok")]},
        headers=auth)
    assert r.status_code == 200 and used(r) == before + 1
    first, second, third = r.json
    assert first["success"] is True and first["errors"] == [] and first["id"].startswith("001")
    assert list(first) == ["id", "success", "errors"]
    assert second == {"success": False, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING",
                                                    "message": "Required fields are missing: [LastName]",
                                                    "fields": ["LastName"]}]}
    assert third["success"] is True and third["id"].startswith("003")
    log = client.get("/__emulator/requests?api=1").json["requests"]
    assert [e["path"] for e in log].count(C) == 1


def test_create_all_or_none_rolls_back_everything(client: FlaskClient, auth: dict[str, str]) -> None:
    r = client.post(C, json={"allOrNone": True, "records": [
        rec("Account", Name="Rollback Oy"), rec("Account", Phone="1"), rec("Nope__c", Name="x")]}, headers=auth)
    assert r.status_code == 200
    assert r.json[0] == {"success": False, "errors": [rolled_back()]}
    assert r.json[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert r.json[2]["errors"][0]["statusCode"] == "INVALID_TYPE"
    q = client.get(f"{V}/query", query_string={"q": "SELECT Id FROM Account WHERE Name = 'Rollback Oy'"}, headers=auth)
    assert q.json["totalSize"] == 0


def test_create_refuses_ids_and_read_only_fields_per_record(client: FlaskClient, auth: dict[str, str]) -> None:
    acc = client.post(C, json={"records": [rec("Account", Name="A")]}, headers=auth).json[0]["id"]
    r = client.post(C, json={"records": [rec("Account", Name="B", Id=acc), rec("Case", CaseNumber="1", Subject="x"),
                                         rec("Contact", LastName="x", Name="y")]}, headers=auth)
    errors = [x["errors"][0] for x in r.json]
    assert errors[0] == {"statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
                         "message": "cannot specify Id in an insert call", "fields": ["Id"]}
    assert errors[1]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE" and errors[1]["fields"] == ["CaseNumber"]
    assert errors[1]["message"].startswith("Unable to create/update fields: CaseNumber. Please check")
    assert errors[2]["fields"] == ["Name"]


def test_more_than_200_records_is_exceeded_id_limit(client: FlaskClient, auth: dict[str, str]) -> None:
    expected = [{"message": "record limit reached. cannot submit more than 200 records into this call",
                 "errorCode": "EXCEEDED_ID_LIMIT", "fields": []}]
    r = client.post(C, json={"records": [rec("Task", Subject=f"t{i}") for i in range(201)]}, headers=auth)
    assert (r.status_code, r.json) == (400, expected)
    r = client.patch(C, json={"records": [rec("Task", Id="00T000000000000AAA")] * 201}, headers=auth)
    assert (r.status_code, r.json) == (400, expected)
    r = client.patch(f"{C}/Task/Call_Id__c", json={"records": [rec("Task", Call_Id__c=str(i)) for i in range(201)]},
                     headers=auth)
    assert (r.status_code, r.json) == (400, expected)
    r = client.delete(C, query_string={"ids": ",".join(["00T000000000000AAA"] * 201)}, headers=auth)
    assert (r.status_code, r.json) == (400, expected)
    ok = client.post(C, json={"records": [rec("Task", Subject=f"t{i}") for i in range(200)]}, headers=auth)
    assert ok.status_code == 200 and all(x["success"] for x in ok.json)


def test_update_by_id_with_errors_and_all_or_none(client: FlaskClient, auth: dict[str, str]) -> None:
    ids = [x["id"] for x in client.post(C, json={"records": [rec("Contact", LastName=f"U{i}") for i in range(3)]},
                                        headers=auth).json]
    r = client.patch(C, json={"allOrNone": False, "records": [
        rec("Contact", Id=ids[0], Title="CEO"), rec("Contact", Title="no id"), rec("Contact", Id="001bogus"),
        rec("Contact", Id=ids[1], Email="not an email")]}, headers=auth)
    assert r.json[0] == {"id": ids[0], "success": True, "errors": []}
    assert r.json[1]["errors"][0]["statusCode"] == "MISSING_ARGUMENT" and "id" not in r.json[1]
    assert r.json[2]["errors"][0] == {"statusCode": "MALFORMED_ID",
                                      "message": "Contact ID: id value of incorrect type: 001bogus", "fields": ["Id"]}
    assert r.json[3]["id"] == ids[1] and r.json[3]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    r = client.patch(C, json={"allOrNone": True, "records": [
        rec("Contact", Id=ids[2], Title="Rolled back"), rec("Contact", Id=ids[1], LastName=None)]}, headers=auth)
    assert r.json[0] == {"id": ids[2], "success": False, "errors": [rolled_back()]}
    assert r.json[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    got = client.get(f"{C}/Contact", query_string={"ids": ",".join(ids), "fields": "Id,Title"}, headers=auth).json
    assert [g["Title"] for g in got] == ["CEO", None, None]


def test_task_subtype_is_set_at_create_and_refused_on_update(client: FlaskClient, auth: dict[str, str]) -> None:
    created = client.post(C, json={"records": [rec("Task", Subject="call", TaskSubtype="Call")]}, headers=auth).json
    tid = created[0]["id"]
    r = client.patch(C, json={"records": [rec("Task", Id=tid, TaskSubtype="Call", Subject="x")]}, headers=auth)
    assert r.json == [{"id": tid, "success": False, "errors": [{
        "statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
        "message": "Unable to create/update fields: TaskSubtype. Please check the security settings of this field "
                   "and verify that it is read/write for your profile or permission set.",
        "fields": ["TaskSubtype"]}]}]
    single = client.patch(f"{V}/sobjects/Task/{tid}", json={"TaskSubtype": "Email"}, headers=auth)
    assert single.status_code == 400 and single.json[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_upsert_by_external_id(client: FlaskClient, auth: dict[str, str]) -> None:
    url = f"{C}/Task/Call_Id__c"
    first = client.patch(url, json={"allOrNone": False, "records": [
        rec("Task", Call_Id__c="c1", Subject="one", TaskSubtype="Call"),
        rec("Task", Call_Id__c="c2", Subject="two", TaskSubtype="Call")]}, headers=auth)
    assert [(x["success"], x["created"]) for x in first.json] == [(True, True), (True, True)]
    assert list(first.json[0]) == ["id", "success", "errors", "created"]
    again = client.patch(url, json={"records": [
        rec("Task", Call_Id__c="c1", Subject="one again"),
        rec("Task", Call_Id__c="c2", Subject="two", TaskSubtype="Call"),
        rec("Task", Call_Id__c="c3", Subject="three", TaskSubtype="Call"),
        rec("Task", Subject="no key"),
        rec("Task", Call_Id__c="dup", Subject="a"), rec("Task", Call_Id__c="DUP", Subject="b")]}, headers=auth)
    res = again.json
    assert res[0] == {"id": first.json[0]["id"], "success": True, "errors": [], "created": False}
    assert res[1]["success"] is False and res[1]["created"] is False and res[1]["id"] == first.json[1]["id"]
    assert res[1]["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert res[2]["created"] is True  # TaskSubtype is fine when the upsert creates
    assert res[3]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert {r["errors"][0]["statusCode"] for r in res[4:]} == {"DUPLICATE_EXTERNAL_ID"}
    missing = client.patch(f"{C}/Task/Subject", json={"records": []}, headers=auth)
    assert missing.status_code == 404 and missing.json[0]["errorCode"] == "NOT_FOUND"


def test_upsert_all_or_none_keeps_ids_of_matched_records(client: FlaskClient, auth: dict[str, str]) -> None:
    url = f"{C}/Case/Call_Id__c"
    old = client.patch(url, json={"records": [rec("Case", Call_Id__c="k1", Subject="s")]}, headers=auth).json[0]
    r = client.patch(url, json={"allOrNone": True, "records": [
        rec("Case", Call_Id__c="k1", Subject="changed"), rec("Case", Call_Id__c="k2", Subject="new"),
        rec("Case", Call_Id__c="k3", Call_Type__c="Sideways")]}, headers=auth).json
    assert r[0] == {"id": old["id"], "success": False, "errors": [rolled_back()], "created": False}
    assert r[1] == {"success": False, "errors": [rolled_back()], "created": False}
    assert r[2]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    q = client.get(f"{V}/query", query_string={"q": "SELECT Subject FROM Case WHERE Call_Id__c IN ('k1','k2')"},
                   headers=auth).json
    assert [x["Subject"] for x in q["records"]] == ["s"]


def test_delete_and_retrieve(client: FlaskClient, auth: dict[str, str]) -> None:
    ids = [x["id"] for x in client.post(C, json={"records": [rec("Lead", LastName=f"L{i}", Company="C")
                                                             for i in range(3)]}, headers=auth).json]
    r = client.delete(C, query_string={"ids": f"{ids[0]},{ids[1]},nope"}, headers=auth)
    assert r.status_code == 200
    assert r.json[:2] == [{"id": ids[0], "success": True, "errors": []}, {"id": ids[1], "success": True, "errors": []}]
    assert r.json[2]["errors"][0]["statusCode"] == "MALFORMED_ID"
    again = client.delete(C, query_string={"ids": f"{ids[0]},{ids[2]}", "allOrNone": "true"}, headers=auth).json
    assert again[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert again[1] == {"id": ids[2], "success": False, "errors": [rolled_back()]}
    got = client.get(f"{C}/Lead", query_string={"ids": ",".join(ids), "fields": "Id,LastName"}, headers=auth)
    assert got.status_code == 200 and got.json[:2] == [None, None]
    assert got.json[2] == {"attributes": {"type": "Lead", "url": f"{V}/sobjects/Lead/{ids[2]}"}, "Id": ids[2],
                           "LastName": "L2"}
    posted = client.post(f"{C}/Lead", json={"ids": [ids[2]], "fields": ["Company"]}, headers=auth).json
    assert posted[0]["Company"] == "C"
    bad = client.get(f"{C}/Lead", query_string={"ids": ids[2], "fields": "Shoe__c"}, headers=auth)
    assert bad.status_code == 400 and bad.json[0]["errorCode"] == "INVALID_FIELD"


def test_malformed_bodies_are_400(client: FlaskClient, auth: dict[str, str]) -> None:
    for body in ("{nope", "[]", '{"records": 5}'):
        r = client.post(C, data=body, headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 400 and r.json[0]["errorCode"] == "JSON_PARSER_ERROR"
    no_type = client.post(C, json={"records": [{"Name": "x"}]}, headers=auth).json
    assert no_type[0]["errors"][0]["statusCode"] == "INVALID_TYPE"
