"""The emulator's HTTP surface through Flask's test client: auth, shapes, limits, paging, the log."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sfemu.app import create_app
from sfemu.auth import Credentials

CREDS = Credentials()
V = "/services/data/v59.0"


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app("demo")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def token(client: FlaskClient) -> str:
    r = client.post("/services/oauth2/token", data={"grant_type": "client_credentials",
                                                    "client_id": CREDS.client_id,
                                                    "client_secret": CREDS.client_secret})
    assert r.status_code == 200
    return str(r.json["access_token"])


@pytest.fixture
def auth(client: FlaskClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(client)}"}


def soap_body(username: str, password: str) -> str:
    return (f'<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
            f'<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>{username}</n1:username>'
            f"<n1:password>{password}</n1:password></n1:login></env:Body></env:Envelope>")


# auth -------------------------------------------------------------------------------------------------
def test_soap_login_returns_unprefixed_session_and_server_url(client: FlaskClient) -> None:
    r = client.post("/services/Soap/u/59.0", data=soap_body(CREDS.username, CREDS.password + CREDS.security_token),
                    headers={"SOAPAction": "login", "Content-Type": "text/xml"})
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "<sessionId>00D" in text and "<serverUrl>http://localhost/services/Soap/u/59.0/" in text


def test_soap_login_with_bad_password_is_invalid_login(client: FlaskClient) -> None:
    r = client.post("/services/Soap/u/59.0", data=soap_body(CREDS.username, "wrong"))
    assert r.status_code == 500
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in r.get_data(as_text=True)


def test_oauth_grants(client: FlaskClient) -> None:
    basic = base64.b64encode(f"{CREDS.client_id}:{CREDS.client_secret}".encode()).decode()
    r = client.post("/services/oauth2/token", data={"grant_type": "client_credentials"},
                    headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200
    assert set(r.json) == {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}
    r = client.post("/services/oauth2/token", data={
        "grant_type": "password", "client_id": CREDS.client_id, "client_secret": CREDS.client_secret,
        "username": CREDS.username, "password": CREDS.password})
    assert r.status_code == 200 and r.json["token_type"] == "Bearer"
    r = client.post("/services/oauth2/token", data={
        "grant_type": "password", "client_id": CREDS.client_id, "client_secret": CREDS.client_secret,
        "username": CREDS.username, "password": "nope"})
    assert (r.status_code, r.json["error"]) == (400, "invalid_grant")
    r = client.post("/services/oauth2/token", data={"grant_type": "client_credentials", "client_id": "x",
                                                    "client_secret": "y"})
    assert (r.status_code, r.json["error"]) == (400, "invalid_client")
    r = client.post("/services/oauth2/token", data={"grant_type": "authorization_code"})
    assert r.json["error"] == "unsupported_grant_type"


def test_data_needs_a_live_session(app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        r = client.get(f"{V}/limits/", headers=headers)
        assert r.status_code == 401
        assert r.json == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert client.get(f"{V}/limits/", headers=auth).status_code == 200
    assert client.post("/__emulator/expire-sessions").json["expired"] >= 1
    assert client.get(f"{V}/limits/", headers=auth).status_code == 401
    assert client.get(f"{V}/limits/", headers={"Authorization": f"Bearer {token(client)}"}).status_code == 200


# shapes -------------------------------------------------------------------------------------------------
def test_limit_header_counts_every_api_request(client: FlaskClient, auth: dict[str, str]) -> None:
    first = client.get(f"{V}/sobjects", headers=auth).headers["Sforce-Limit-Info"]
    second = client.get(f"{V}/sobjects/", headers=auth).headers["Sforce-Limit-Info"]
    used1, used2 = (int(h.split("=")[1].split("/")[0]) for h in (first, second))
    assert used2 == used1 + 1 and first.endswith("/15000")
    limits = client.get(f"{V}/limits", headers=auth).json
    assert limits["DailyApiRequests"]["Max"] == 15000
    assert limits["DailyApiRequests"]["Remaining"] == 15000 - used2 - 1


def test_api_limit_exceeded_is_403() -> None:
    client = create_app("empty", api_limit=2).test_client()
    headers = {"Authorization": f"Bearer {token(client)}"}
    assert [client.get(f"{V}/limits", headers=headers).status_code for _ in range(3)] == [200, 200, 403]
    assert client.get(f"{V}/limits", headers=headers).json[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_record_lifecycle_and_error_shapes(client: FlaskClient, auth: dict[str, str]) -> None:
    r = client.post(f"{V}/sobjects/Contact/", json={"LastName": "Test", "FirstName": "Tina"}, headers=auth)
    assert r.status_code == 201 and r.json["success"] is True and r.json["errors"] == []
    rid = r.json["id"]
    got = client.get(f"{V}/sobjects/Contact/{rid}", headers=auth).json
    assert got["attributes"] == {"type": "Contact", "url": f"{V}/sobjects/Contact/{rid}"}
    assert got["Name"] == "Tina Test" and "SystemModstamp" in got
    assert list(client.get(f"{V}/sobjects/Contact/{rid}?fields=Name,Id", headers=auth).json) \
        == ["attributes", "Name", "Id"]
    assert client.patch(f"{V}/sobjects/Contact/{rid}", json={"Title": "CTO"}, headers=auth).status_code == 204
    assert client.delete(f"{V}/sobjects/Contact/{rid}/", headers=auth).status_code == 204
    gone = client.get(f"{V}/sobjects/Contact/{rid}", headers=auth)
    assert gone.status_code == 404 and gone.json[0]["errorCode"] == "ENTITY_IS_DELETED"

    def err(method: str, path: str, **kw: Any) -> tuple[int, str]:
        r = client.open(f"{V}{path}", method=method, headers=auth, **kw)
        assert isinstance(r.json, list) and set(r.json[0]) == {"message", "errorCode", "fields"}
        return r.status_code, r.json[0]["errorCode"]

    assert err("POST", "/sobjects/Contact/", json={"FirstName": "x"}) == (400, "REQUIRED_FIELD_MISSING")
    assert err("POST", "/sobjects/Account/", json={"Name": "x", "Bogus": 1}) == (400, "INVALID_FIELD")
    assert err("POST", "/sobjects/Account/", data="{not json") == (400, "JSON_PARSER_ERROR")
    assert err("GET", "/sobjects/Nope__c/describe") == (404, "NOT_FOUND")
    assert err("GET", "/sobjects/Contact/003000000000000AAA") == (404, "NOT_FOUND")
    assert err("GET", "/query?q=SELECT+Id+FORM+Contact") == (400, "MALFORMED_QUERY")
    assert err("GET", "/query?q=SELECT+Id+FROM+Nope__c") == (400, "INVALID_TYPE")
    assert err("GET", "/nothing/here") == (404, "NOT_FOUND")
    assert err("PUT", "/sobjects/Contact/") == (405, "METHOD_NOT_ALLOWED")


def test_upsert_statuses_and_get_by_external_id(client: FlaskClient, auth: dict[str, str]) -> None:
    r = client.patch(f"{V}/sobjects/Task/Call_Id__c/1717400000.7", json={"Subject": "one"}, headers=auth)
    assert r.status_code == 201 and r.json["created"] is True and r.json["success"] is True
    r2 = client.patch(f"{V}/sobjects/Task/Call_Id__c/1717400000.7", json={"Subject": "two"}, headers=auth)
    assert r2.status_code == 200 and r2.json == {"id": r.json["id"], "success": True, "errors": [],
                                                 "created": False}
    got = client.get(f"{V}/sobjects/Task/Call_Id__c/1717400000.7", headers=auth).json
    assert got["Subject"] == "two" and got["Call_Id__c"] == "1717400000.7"
    dup = client.post(f"{V}/sobjects/Task/", json={"Call_Id__c": "1717400000.7"}, headers=auth)
    assert dup.status_code == 400 and dup.json[0]["errorCode"] == "DUPLICATE_VALUE"
    assert client.patch(f"{V}/sobjects/Task/Subject/x", json={}, headers=auth).status_code == 404
    assert client.delete(f"{V}/sobjects/Task/Call_Id__c/1717400000.7", headers=auth).status_code == 204


def test_describe_lists_fields_with_external_ids(client: FlaskClient, auth: dict[str, str]) -> None:
    body = client.get(f"{V}/sobjects/Task/describe/", headers=auth).json
    fields = {f["name"]: f for f in body["fields"]}
    assert body["keyPrefix"] == "00T"
    assert fields["Call_Id__c"]["externalId"] is True and fields["Call_Id__c"]["length"] == 255
    assert fields["Queue_Wait_Time_Sec__c"]["type"] == "double"
    assert fields["WhoId"]["referenceTo"] == ["Contact", "Lead"]
    names = {o["name"]: o["keyPrefix"] for o in client.get(f"{V}/sobjects", headers=auth).json["sobjects"]}
    assert names == {"User": "005", "Account": "001", "Contact": "003", "Lead": "00Q", "Case": "500", "Task": "00T"}


def test_queries_page_by_next_records_url_paths() -> None:
    app = create_app("empty")
    store = app.extensions["sfemu"].store
    for i in range(2100):
        store.create("Task", {"Subject": f"t{i:04d}"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token(client)}"}
    page = client.get(f"{V}/query/", query_string={"q": "SELECT Subject FROM Task ORDER BY Subject"},
                      headers=headers).json
    assert page["totalSize"] == 2100 and page["done"] is False and len(page["records"]) == 2000
    assert page["nextRecordsUrl"].startswith(f"{V}/query/01g")
    rest = client.get(page["nextRecordsUrl"], headers=headers).json
    assert rest["done"] is True and [r["Subject"] for r in rest["records"]][-1] == "t2099"
    assert len(rest["records"]) == 100 and "nextRecordsUrl" not in rest
    small = client.get(f"{V}/queryAll", query_string={"q": "SELECT Id FROM Task"},
                       headers={**headers, "Sforce-Query-Options": "batchSize=500"}).json
    assert len(small["records"]) == 500 and small["nextRecordsUrl"].endswith("-500")
    bad = client.get(f"{V}/query/01gNOPE-2000", headers=headers)
    assert bad.status_code == 400 and bad.json[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_search_endpoint(client: FlaskClient, auth: dict[str, str]) -> None:
    r = client.get(f"{V}/search/", query_string={"q": r"FIND {\+358401234567} IN PHONE FIELDS "
                                                      "RETURNING Contact(Id, Name)"}, headers=auth)
    assert r.status_code == 200 and [x["Name"] for x in r.json["searchRecords"]] == ["Maija Virtanen"]
    bad = client.get(f"{V}/search", query_string={"q": "FIND {x"}, headers=auth)
    assert bad.status_code == 400 and bad.json[0]["errorCode"] == "MALFORMED_SEARCH"


def test_request_log_records_and_resets(client: FlaskClient, auth: dict[str, str]) -> None:
    assert client.post("/__emulator/reset-log").status_code == 204
    client.get(f"{V}/limits", headers=auth)
    client.get(f"{V}/limits", headers={"Authorization": "Bearer nope"})
    log = client.get("/__emulator/requests").json
    assert [(e["method"], e["path"], e["status"], e["api"]) for e in log["requests"]] == [
        ("GET", f"{V}/limits", 200, True), ("GET", f"{V}/limits", 401, False)]
    assert client.get("/__emulator/requests?api=1").json["count"] == 1
    health = client.get("/__emulator/health")
    assert health.status_code == 200 and health.json["status"] == "ok"
