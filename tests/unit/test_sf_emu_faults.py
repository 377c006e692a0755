"""Fault switches, request-log kinds and the limits resource, through Flask's test client."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient

from sfemu.__main__ import parse_args
from sfemu.app import create_app
from sfemu.auth import SessionRegistry
from sfemu.faults import Faults
from sfemu.testing import bearer_headers

V = "/services/data/v59.0"
UNAVAILABLE = "SERVER_UNAVAILABLE"


@pytest.fixture
def client() -> FlaskClient:
    return create_app("empty").test_client()


def test_faults_windows_on_a_fake_clock() -> None:
    now = [100.0]
    faults = Faults(unavailable_for=5, clock=lambda: now[0])
    assert faults.unavailable() and not faults.unavailable(login=True) and not faults.limit_exceeded()
    faults.update({"limit_exceeded_for": 2, "latency": 0.5, "include_logins": True})
    assert faults.limit_exceeded() and faults.unavailable(login=True) and faults.latency(login=True) == 0.5
    now[0] = 103.0
    assert faults.as_dict() == {"latency": 0.5, "unavailable_for": 2.0, "limit_exceeded_for": 0.0,
                                "invalid_session_for": 0.0, "include_logins": True}
    faults.update({"unavailable_for": 0})
    assert not faults.unavailable()
    faults.reset()
    assert faults.as_dict() == {"latency": 0.0, "unavailable_for": 0.0, "limit_exceeded_for": 0.0,
                                "invalid_session_for": 0.0, "include_logins": False}


@pytest.mark.parametrize("body", [{"latency": -1}, {"latency": "1"}, {"unavailable_for": True}, {"nope": 1},
                                  {"include_logins": "yes"}, {"latency": float("inf")}])
def test_bad_fault_switches_are_refused(client: FlaskClient, body: dict[str, object]) -> None:
    r = client.post("/__emulator/faults", json=body)
    assert r.status_code == 400 and "error" in r.json
    assert client.post("/__emulator/faults", data="x", content_type="text/plain").status_code == 400
    assert client.get("/__emulator/faults").json["latency"] == 0.0


def test_unavailable_answers_503_but_logins_keep_working(client: FlaskClient) -> None:
    auth = bearer_headers(client)
    r = client.post("/__emulator/faults", json={"unavailable_for": 60})
    assert r.status_code == 200 and r.json["unavailable_for"] > 59
    down = client.get(f"{V}/limits", headers=auth)
    assert down.status_code == 503 and down.json[0]["errorCode"] == UNAVAILABLE and set(down.json[0]) == {
        "errorCode", "message"}
    assert "Sforce-Limit-Info" not in down.headers
    auth = bearer_headers(client)  # logins are not affected by default
    assert client.post("/__emulator/faults", json={"include_logins": True}).status_code == 200
    login = client.post("/services/oauth2/token", data={"grant_type": "client_credentials"})
    assert login.status_code == 503 and login.json["error"] == "temporarily_unavailable"
    soap = client.post("/services/Soap/u/59.0", data="<x/>")
    assert soap.status_code == 500 and f"<sf:exceptionCode>{UNAVAILABLE}</sf:exceptionCode>" in soap.text
    assert client.post("/__emulator/reset-faults").json["unavailable_for"] == 0
    assert client.get(f"{V}/limits", headers=auth).status_code == 200


def test_limit_exceeded_answers_403_and_counts_nothing(client: FlaskClient) -> None:
    auth = bearer_headers(client)
    used = client.get("/__emulator/health").json["apiUsage"]["used"]
    client.post("/__emulator/faults", json={"limit_exceeded_for": 60})
    r = client.get(f"{V}/query", query_string={"q": "SELECT Id FROM User"}, headers=auth)
    assert r.status_code == 403
    assert r.json == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert client.get("/__emulator/health").json["apiUsage"]["used"] == used
    assert bearer_headers(client)  # logins do not count against the API limit
    expired = client.get(f"{V}/limits", headers={"Authorization": "Bearer nope"})
    assert expired.status_code == 401  # the session is checked first
    client.post("/__emulator/reset-faults")
    assert client.get(f"{V}/limits", headers=auth).status_code == 200


def test_latency_delays_api_requests_not_logins(client: FlaskClient) -> None:
    client.post("/__emulator/faults", json={"latency": 0.2})
    started = time.monotonic()
    auth = bearer_headers(client)
    login_took = time.monotonic() - started
    started = time.monotonic()
    assert client.get(f"{V}/limits", headers=auth).status_code == 200
    assert time.monotonic() - started >= 0.2 > login_took


def test_faults_can_be_set_at_start() -> None:
    client = create_app("empty", unavailable_for=60, limit_exceeded_for=30, invalid_session_for=20, latency=0.01,
                        faults_include_logins=True).test_client()
    faults = client.get("/__emulator/faults").json
    assert faults["latency"] == 0.01 and faults["include_logins"] is True
    assert 59 < faults["unavailable_for"] <= 60 and 29 < faults["limit_exceeded_for"] <= 30
    assert 19 < faults["invalid_session_for"] <= 20
    args = parse_args(["--unavailable-for", "5", "--limit-exceeded-for", "7", "--latency", "0.5",
                       "--invalid-session-for", "3", "--faults-include-logins", "--flows", "demo", "--seed", "large",
                       "--session-timeout", "60"])
    assert (args.unavailable_for, args.limit_exceeded_for, args.latency, args.faults_include_logins) == (
        5.0, 7.0, 0.5, True)
    assert (args.invalid_session_for, args.session_timeout) == (3.0, 60.0)
    assert (args.flows, args.seed) == (["demo"], "large")
    assert parse_args([]).session_timeout == 7200.0  # Salesforce's default session timeout: 2 hours


def test_request_log_has_kinds_and_counts_logins_separately(client: FlaskClient) -> None:
    auth = bearer_headers(client)
    client.post("/__emulator/reset-log")
    bearer_headers(client)
    client.post("/services/oauth2/token", data={"grant_type": "password", "client_id": "x"})
    client.get(f"{V}/limits", headers=auth)
    client.get("/__emulator/health")
    default = client.get("/__emulator/requests").json
    assert [(e["kind"], e["status"], e["api"]) for e in default["requests"]] == [
        ("login", 200, False), ("login", 400, False), ("api", 200, True)]
    assert default["counts"] == {"api": 1, "login": 2, "control": 0}
    everything = client.get("/__emulator/requests?kind=all").json
    assert [e["path"] for e in everything["requests"] if e["kind"] == "control"] == [
        "/__emulator/reset-log", "/__emulator/health", "/__emulator/requests"]
    assert client.get("/__emulator/requests?kind=login").json["count"] == 2
    assert client.get("/__emulator/requests?kind=bogus").status_code == 400
    entry = default["requests"][-1]
    assert set(entry) == {"method", "path", "query", "status", "time", "duration_ms", "api", "kind"}


def test_limits_resource_agrees_with_the_limit_header() -> None:
    client = create_app("empty", api_limit=5).test_client()
    auth = bearer_headers(client)
    for _ in range(3):
        r = client.get(f"{V}/limits/", headers=auth)
        used, limit = (int(x) for x in r.headers["Sforce-Limit-Info"].removeprefix("api-usage=").split("/"))
        assert r.json["DailyApiRequests"] == {"Max": limit, "Remaining": limit - used}
    client.get(f"{V}/limits", headers=auth)
    client.get(f"{V}/limits", headers=auth)
    over = client.get(f"{V}/limits", headers=auth)
    assert over.status_code == 403 and over.json[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_invalid_session_fault_refuses_even_fresh_tokens_while_logins_work(client: FlaskClient) -> None:
    old = bearer_headers(client)
    assert client.post("/__emulator/faults", json={"invalid_session_for": 60}).json["invalid_session_for"] > 59
    fresh = bearer_headers(client)  # the login itself succeeds
    for auth in (old, fresh):
        r = client.get(f"{V}/limits", headers=auth)
        assert r.status_code == 401
        assert r.json == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert client.get("/__emulator/health").json["logins"] == 2
    client.post("/__emulator/faults", json={"invalid_session_for": 0})
    assert client.get(f"{V}/limits", headers=fresh).status_code == 200
    assert client.get(f"{V}/limits", headers=old).status_code == 200  # the tokens were never killed


def test_sessions_time_out_after_the_timeout_without_a_request() -> None:
    now = [0.0]
    sessions = SessionRegistry(timeout=7200, clock=lambda: now[0])
    token = sessions.issue("005A").token
    header = f"Bearer {token}"
    now[0] = 7000.0
    assert sessions.check(header) is not None  # used: the timeout starts again
    now[0] = 14000.0
    assert sessions.check(header) is not None
    now[0] = 21201.0
    assert sessions.check(header) is None
    now[0] = 21202.0
    assert sessions.check(header) is None  # ended for good
    assert sessions.check(f"Bearer {sessions.issue('005A').token}") is not None  # a new login works


def test_a_timed_out_session_answers_401_invalid_session_id() -> None:
    client = create_app("empty", session_timeout=0.3).test_client()
    auth = bearer_headers(client)
    assert client.get(f"{V}/limits", headers=auth).status_code == 200
    time.sleep(0.4)
    r = client.get(f"{V}/limits", headers=auth)
    assert r.status_code == 401 and r.json[0]["errorCode"] == "INVALID_SESSION_ID"
    assert client.get(f"{V}/limits", headers=bearer_headers(client)).status_code == 200


def test_hidden_fields_are_refused_as_an_org_without_them_would(client: FlaskClient) -> None:
    auth = bearer_headers(client)
    assert client.post("/__emulator/hidden-fields", json={"task": ["call_result__c"]}).json == {
        "Task": ["Call_Result__c"]}
    body = {"allOrNone": False, "records": [
        {"attributes": {"type": "Task"}, "Call_Id__c": "h.1", "Subject": "x", "Call_Result__c": "answered"}]}
    (result,) = client.patch(f"{V}/composite/sobjects/Task/Call_Id__c", json=body, headers=auth).json
    assert result["success"] is False
    assert result["errors"] == [{"statusCode": "INVALID_FIELD", "message": "No such column 'Call_Result__c' on "
                                 "sobject of type Task", "fields": ["Call_Result__c"]}]
    fields = {f["name"] for f in client.get(f"{V}/sobjects/Task/describe", headers=auth).json["fields"]}
    assert "Call_Result__c" not in fields and "Call_Id__c" in fields
    query = client.get(f"{V}/query", query_string={"q": "SELECT Call_Result__c FROM Task"}, headers=auth)
    assert query.status_code == 400 and query.json[0]["errorCode"] == "INVALID_FIELD"
    assert client.get("/__emulator/hidden-fields").json == {"Task": ["Call_Result__c"]}
    assert client.post("/__emulator/hidden-fields", json={}).json == {}
    (result,) = client.patch(f"{V}/composite/sobjects/Task/Call_Id__c", json=body, headers=auth).json
    assert result["success"] is True and result["created"] is True


@pytest.mark.parametrize("body", [{"Nope": ["X"]}, {"Task": ["Nope__c"]}, {"Task": "Call_Result__c"},
                                  {"Task": ["Id"]}, {"Contact": ["LastName"]}, ["Task"]])
def test_bad_hidden_fields_are_refused(client: FlaskClient, body: object) -> None:
    client.post("/__emulator/hidden-fields", json={"Task": ["Call_Result__c"]})
    r = client.post("/__emulator/hidden-fields", json=body)
    assert r.status_code == 400 and "error" in r.json
    assert client.get("/__emulator/hidden-fields").json == {"Task": ["Call_Result__c"]}  # nothing changed
