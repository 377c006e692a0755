"""Unmodified simple-salesforce over real HTTP against an emulator process: JWT bearer login, sObject Collections,
Composite, field rules, invocable flows, paging past 2,000 records, limits, fault switches and the request log."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import (
    Salesforce,
    SalesforceAuthenticationFailed,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sfemu.auth import Credentials
from sfemu.seed import DEMO_AGENT_USERNAMES, DEMO_CALLER_NUMBER
from sfemu.testing import emulator_control, generate_rsa_key_pair, running_emulator
from switchboard.transport import make_session

pytestmark = pytest.mark.integration
CREDS = Credentials()
ROUTING = "actions/custom/flow/Switchboard_Smart_Routing"


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_rsa_key_pair()


@pytest.fixture(scope="module")
def emulator_url(keys: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    public_key = tmp_path_factory.mktemp("jwt") / "connected-app.pem"
    public_key.write_text(keys[1])
    with running_emulator("large", args=["--flows", "demo", "--jwt-public-key", str(public_key)]) as url:
        yield url


def jwt_login(url: str, private_key: str, username: str = CREDS.username, domain: str = "login") -> Salesforce:
    return Salesforce(username=username, consumer_key=CREDS.client_id, privatekey=private_key, domain=domain,
                      session=make_session(url))


@pytest.fixture(scope="module")
def sf(emulator_url: str, keys: tuple[str, str]) -> Salesforce:
    return jwt_login(emulator_url, keys[0])


@pytest.fixture(autouse=True)
def no_faults_left(emulator_url: str) -> Iterator[None]:
    yield
    emulator_control(emulator_url, "POST", "reset-faults")


def api_log(url: str, kind: str = "api,login") -> list[dict[str, Any]]:
    return list(emulator_control(url, "GET", f"requests?kind={kind}").json()["requests"])


def reset_log(url: str) -> None:
    emulator_control(url, "POST", "reset-log")


def used(sf: Salesforce) -> int:
    return int(sf.api_usage["api-usage"].used)


def rec(sobject: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": sobject}, **fields}


# JWT bearer ---------------------------------------------------------------------------------------------
def test_jwt_bearer_login_with_unmodified_simple_salesforce(sf: Salesforce, emulator_url: str,
                                                            keys: tuple[str, str]) -> None:
    assert sf.base_url.startswith("https://127.0.0.1:")
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] >= 300
    sandbox = jwt_login(emulator_url, keys[0], username=DEMO_AGENT_USERNAMES[1], domain="test")
    me = sandbox.query(f"SELECT Id FROM User WHERE Username = '{DEMO_AGENT_USERNAMES[1]}'")["records"][0]["Id"]
    task = sandbox.Task.create({"Subject": "agent task"})
    assert sandbox.Task.get(task["id"])["OwnerId"] == me


def test_jwt_bearer_login_errors(emulator_url: str, keys: tuple[str, str]) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as unknown_user, pytest.warns(UserWarning):
        jwt_login(emulator_url, keys[0], username="nobody@example.com")
    assert (unknown_user.value.code, unknown_user.value.auth_message) == (
        "invalid_grant", "user hasn't approved this consumer")
    with pytest.raises(SalesforceAuthenticationFailed) as wrong_key:
        jwt_login(emulator_url, generate_rsa_key_pair()[0])
    assert (wrong_key.value.code, wrong_key.value.auth_message) == ("invalid_grant", "invalid assertion")
    with pytest.raises(SalesforceAuthenticationFailed) as audience:
        jwt_login(emulator_url, keys[0], domain="acme.my")  # aud would be https://acme.my.salesforce.com
    assert audience.value.auth_message == "audience is invalid"


# sObject Collections and field rules ------------------------------------------------------------------------
def test_collections_are_one_api_request_each(sf: Salesforce, emulator_url: str) -> None:
    sf.query("SELECT Id FROM User LIMIT 1")
    reset_log(emulator_url)
    before = used(sf)
    created = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        rec("Account", Name="Collections Oy", SLA__c="Gold"), rec("Contact", FirstName="No Last Name"),
        rec("Lead", LastName="Lead", Company="Collections Oy")]})
    assert [r["success"] for r in created] == [True, False, True]
    assert created[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert used(sf) == before + 1
    ids = [created[0]["id"], created[2]["id"]]
    updated = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": True, "records": [
        rec("Account", Id=ids[0], Phone="+358 9 000 0000"), rec("Lead", Id=ids[1], Email="broken")]})
    assert updated[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert updated[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    got = sf.restful("composite/sobjects/Account", params={"ids": ids[0], "fields": "Name,Phone"})
    assert got[0]["Name"] == "Collections Oy" and got[0]["Phone"] is None
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(ids), "allOrNone": "false"})
    assert [d["success"] for d in deleted] == [True, True]
    assert used(sf) == before + 4
    api = [e for e in api_log(emulator_url) if e["api"]]
    assert [(e["method"], e["path"].rsplit("/v59.0/", 1)[1]) for e in api] == [
        ("POST", "composite/sobjects"), ("PATCH", "composite/sobjects"), ("GET", "composite/sobjects/Account"),
        ("DELETE", "composite/sobjects")]
    with pytest.raises(SalesforceMalformedRequest) as too_many:
        sf.restful("composite/sobjects", method="POST", json={"records": [rec("Task")] * 201})
    assert too_many.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_task_upsert_by_call_id_and_the_task_subtype_rule(sf: Salesforce) -> None:
    call_id = f"{uuid.uuid4().int % 10**10}.7"
    fields = {"Subject": "Inbound call", "TaskSubtype": "Call", "CallType": "Inbound", "Status": "Completed"}
    first = sf.restful("composite/sobjects/Task/Call_Id__c", method="PATCH",
                       json={"records": [rec("Task", Call_Id__c=call_id, **fields)]})
    assert first[0]["created"] is True and first[0]["success"] is True
    again = sf.restful("composite/sobjects/Task/Call_Id__c", method="PATCH",
                       json={"records": [rec("Task", Call_Id__c=call_id, **fields)]})
    assert again == [{"id": first[0]["id"], "success": False, "created": False, "errors": [{
        "statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
        "message": "Unable to create/update fields: TaskSubtype. Please check the security settings of this field "
                   "and verify that it is read/write for your profile or permission set.",
        "fields": ["TaskSubtype"]}]}]
    with pytest.raises(SalesforceMalformedRequest) as single:
        sf.Task.upsert(f"Call_Id__c/{call_id}", fields)
    assert single.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    fields.pop("TaskSubtype")
    assert sf.Task.upsert(f"Call_Id__c/{call_id}", fields) == 200
    with pytest.raises(SalesforceMalformedRequest) as case_number:
        sf.Case.create({"Subject": "x", "CaseNumber": "1"})
    assert case_number.value.content[0]["fields"] == ["CaseNumber"]


def test_case_call_fields_and_record_types(sf: Salesforce) -> None:
    rt = sf.query("SELECT Id FROM RecordType WHERE SobjectType = 'Case' AND DeveloperName = 'Callback'")
    callback_type = rt["records"][0]["Id"]
    call_id = f"case-{uuid.uuid4().hex[:8]}"
    created = sf.Case.upsert(f"Call_Id__c/{call_id}", {
        "Subject": "Callback request", "Origin": "Phone", "RecordTypeId": callback_type, "Call_Type__c": "Inbound",
        "Call_Duration_Sec__c": 42, "Callback_Contact_Number__c": "+358 40 765 4321",
        "Callback_Creation_Time__c": "2024-06-03T10:00:00+03:00"}, raw_response=True)
    assert created.status_code == 201
    row = sf.query(f"SELECT CaseNumber, RecordType.DeveloperName, Callback_Creation_Time__c FROM Case "
                   f"WHERE Call_Id__c = '{call_id}'")["records"][0]
    assert row["RecordType"]["DeveloperName"] == "Callback"
    assert row["Callback_Creation_Time__c"] == "2024-06-03T07:00:00.000+0000"
    with pytest.raises(SalesforceMalformedRequest) as picklist:
        sf.Case.update(created.json()["id"], {"Call_Type__c": "Sideways"})
    assert picklist.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


# Composite -------------------------------------------------------------------------------------------------
def test_composite_with_references_is_one_api_request(sf: Salesforce) -> None:
    sf.query("SELECT Id FROM User LIMIT 1")
    before = used(sf)
    v = f"/services/data/v{sf.sf_version}"
    result = sf.restful("composite", method="POST", json={"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": f"{v}/sobjects/Account", "referenceId": "acc", "body": {"Name": "Composite AB"}},
        {"method": "POST", "url": f"{v}/sobjects/Contact", "referenceId": "con",
         "body": {"LastName": "Svensson", "AccountId": "@{acc.id}"}},
        {"method": "GET", "url": f"{v}/query/?q=SELECT+Id+FROM+Contact+WHERE+AccountId='@{{acc.id}}'",
         "referenceId": "q"},
        {"method": "PATCH", "url": f"{v}/sobjects/Contact/@{{q.records[0].Id}}", "referenceId": "upd",
         "body": {"Title": "Buyer"}},
    ]})
    assert used(sf) == before + 1
    statuses = [(r["referenceId"], r["httpStatusCode"]) for r in result["compositeResponse"]]
    assert statuses == [("acc", 201), ("con", 201), ("q", 200), ("upd", 204)]
    contact = result["compositeResponse"][1]["body"]["id"]
    assert sf.Contact.get(contact)["Title"] == "Buyer"


# Flows -------------------------------------------------------------------------------------------------------
def test_smart_routing_flow(sf: Salesforce) -> None:
    listed = sf.restful("actions/custom/flow")["actions"]
    assert [a["name"] for a in listed] == ["Switchboard_Smart_Routing"]
    out = sf.restful(ROUTING, method="POST", json={"inputs": [
        {"CallerNumber": DEMO_CALLER_NUMBER, "Queue": "cs-en"}, {"CallerNumber": "+1 202 555 0199", "Queue": "cs-en"}]})
    assert [(r["isSuccess"], r["outputValues"]["Queue"], r["outputValues"]["Priority"]) for r in out] == [
        (True, "cs-fi", 10), (True, "cs-en", 0)]
    assert out[0]["actionName"] == "Switchboard_Smart_Routing" and out[0]["errors"] is None and out[0]["version"] == 1
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.restful("actions/custom/flow/No_Such_Flow", method="POST", json={"inputs": [{}]})
    assert missing.value.content[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.restful(ROUTING, method="POST", json={"inputs": [{"CallerNumber": "1"}]})
    assert bad.value.content[0]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"


# paging, queryAll, limits ------------------------------------------------------------------------------------
def test_query_all_pages_past_2000_records_and_sees_deleted_ones(sf: Salesforce, emulator_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    ids: list[str] = []
    for start in range(0, 2100, 200):
        batch = sf.restful("composite/sobjects", method="POST", json={"records": [
            rec("Task", Subject=f"bulk-{tag}-{i:04d}") for i in range(start, min(start + 200, 2100))]})
        ids += [r["id"] for r in batch]
    assert len(ids) == 2100
    soql = f"SELECT Id, Subject FROM Task WHERE Subject LIKE 'bulk-{tag}-%' ORDER BY Subject"
    reset_log(emulator_url)
    everything = sf.query_all(soql)
    assert everything["totalSize"] == 2100 and len(everything["records"]) == 2100
    assert everything["records"][-1]["Subject"] == f"bulk-{tag}-2099"
    assert len([e for e in api_log(emulator_url) if e["api"]]) == 2  # 2000 + 100
    reset_log(emulator_url)
    small = sf.query_all(soql, headers={"Sforce-Query-Options": "batchSize=500"})
    assert len({r["Id"] for r in small["records"]}) == 2100
    assert len([e for e in api_log(emulator_url) if e["api"]]) == 5
    sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(ids[:150])})
    assert sf.query_all(soql)["totalSize"] == 1950
    with_deleted = sf.query_all(f"SELECT Id, IsDeleted FROM Task WHERE Subject LIKE 'bulk-{tag}-%'",
                                include_deleted=True)
    assert with_deleted["totalSize"] == 2100
    assert sum(r["IsDeleted"] for r in with_deleted["records"]) == 150


def test_limits_agree_with_the_limit_header(sf: Salesforce) -> None:
    limits = sf.limits()
    usage = sf.api_usage["api-usage"]
    assert limits["DailyApiRequests"] == {"Max": usage.total, "Remaining": usage.total - usage.used}


# faults and the request log ------------------------------------------------------------------------------------
def test_outage_answers_503_while_logins_keep_working(sf: Salesforce, emulator_url: str,
                                                      keys: tuple[str, str]) -> None:
    assert emulator_control(emulator_url, "POST", "faults", json={"unavailable_for": 30}).status_code == 200
    with pytest.raises(SalesforceGeneralError) as down:
        sf.query("SELECT Id FROM User LIMIT 1")
    assert down.value.status == 503 and down.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    fresh = jwt_login(emulator_url, keys[0])
    emulator_control(emulator_url, "POST", "faults", json={"include_logins": True})
    with pytest.raises(SalesforceAuthenticationFailed) as login_down:
        jwt_login(emulator_url, keys[0])
    assert login_down.value.code == "temporarily_unavailable"
    emulator_control(emulator_url, "POST", "reset-faults")
    assert fresh.query("SELECT Id FROM User LIMIT 1")["totalSize"] == 1


def test_request_limit_fault_is_403(sf: Salesforce, emulator_url: str) -> None:
    emulator_control(emulator_url, "POST", "faults", json={"limit_exceeded_for": 30})
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.Contact.describe()
    assert refused.value.content == [{"message": "TotalRequests Limit exceeded.",
                                      "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def test_latency_is_added_to_api_requests(sf: Salesforce, emulator_url: str) -> None:
    emulator_control(emulator_url, "POST", "faults", json={"latency": 0.3})
    started = time.monotonic()
    sf.query("SELECT Id FROM User LIMIT 1")
    assert time.monotonic() - started >= 0.3


def test_expired_sessions_cost_exactly_one_login(emulator_url: str, keys: tuple[str, str]) -> None:
    client = jwt_login(emulator_url, keys[0])
    reset_log(emulator_url)
    emulator_control(emulator_url, "POST", "expire-sessions")
    for _ in range(3):
        client.query("SELECT Id FROM User LIMIT 1")
    log = api_log(emulator_url)
    assert [(e["kind"], e["status"]) for e in log] == [("api", 401), ("login", 200), ("api", 200), ("api", 200),
                                                       ("api", 200)]
    counts = emulator_control(emulator_url, "GET", "requests").json()["counts"]
    assert counts == {"api": 4, "login": 1, "control": 0}


def test_faults_set_by_cli_flags(tmp_path: Path) -> None:
    with running_emulator("empty", args=["--unavailable-for", "60", "--latency", "0.05"]) as url:
        faults = emulator_control(url, "GET", "faults").json()
        assert faults["unavailable_for"] > 50 and faults["latency"] == 0.05
        sf = Salesforce(username=CREDS.username, password=CREDS.password, security_token=CREDS.security_token,
                        session=make_session(url))  # SOAP login is not affected
        with pytest.raises(SalesforceGeneralError) as down:
            sf.query("SELECT Id FROM User")
        assert down.value.status == 503
        emulator_control(url, "POST", "reset-faults")
        assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 4
