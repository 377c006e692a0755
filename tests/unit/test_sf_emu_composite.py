"""The Composite resource through Flask's test client: references, allOrNone, limits, one API request."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from sfemu.app import create_app
from sfemu.composite import ROLLED_BACK, UnresolvedReference, substitute
from sfemu.testing import bearer_headers

V = "/services/data/v59.0"


@pytest.fixture
def client() -> FlaskClient:
    return create_app("demo").test_client()


@pytest.fixture
def auth(client: FlaskClient) -> dict[str, str]:
    return bearer_headers(client)


def sub(ref: str, method: str, url: str, body: Any = None) -> dict[str, Any]:
    out = {"method": method, "url": V + url, "referenceId": ref}
    return {**out, "body": body} if body is not None else out


def composite(client: FlaskClient, auth: dict[str, str], subs: list[dict[str, Any]], **flags: Any) -> Any:
    return client.post(f"{V}/composite", json={**flags, "compositeRequest": subs}, headers=auth)


def test_references_chain_creates_queries_and_updates(client: FlaskClient, auth: dict[str, str]) -> None:
    client.post("/__emulator/reset-log")
    r = composite(client, auth, [
        sub("acc", "POST", "/sobjects/Account", {"Name": "Composite Oy", "SLA__c": "Gold"}),
        sub("con", "POST", "/sobjects/Contact/", {"LastName": "Kompo", "AccountId": "@{acc.id}"}),
        sub("q", "GET", "/query/?q=SELECT+Id,Account.SLA__c+FROM+Contact+WHERE+AccountId='@{acc.id}'"),
        sub("upd", "PATCH", "/sobjects/Contact/@{q.records[0].Id}", {"Title": "From @{q.records[0].Account.SLA__c}"}),
        sub("get", "GET", "/sobjects/Contact/@{con.id}?fields=Title,AccountId"),
    ], allOrNone=False, collateSubrequests=False)
    assert r.status_code == 200 and "Sforce-Limit-Info" in r.headers
    acc, con, q, upd, get = r.json["compositeResponse"]
    assert set(acc) == {"body", "httpHeaders", "httpStatusCode", "referenceId"}
    assert acc["httpStatusCode"] == 201 and acc["referenceId"] == "acc"
    assert acc["httpHeaders"] == {"Location": f"{V}/sobjects/Account/{acc['body']['id']}"}
    assert q["body"]["totalSize"] == 1 and q["body"]["records"][0]["Id"] == con["body"]["id"]
    assert (upd["httpStatusCode"], upd["body"], upd["httpHeaders"]) == (204, None, {})
    assert get["body"]["Title"] == "From Gold" and get["body"]["AccountId"] == acc["body"]["id"]
    log = client.get("/__emulator/requests").json
    assert [(e["path"], e["api"]) for e in log["requests"]] == [(f"{V}/composite", True)]


def test_all_or_none_rolls_back_and_halts_the_rest(client: FlaskClient, auth: dict[str, str]) -> None:
    r = composite(client, auth, [
        sub("acc", "POST", "/sobjects/Account", {"Name": "Never Oy"}),
        sub("bad", "POST", "/sobjects/Contact", {"FirstName": "no last name", "AccountId": "@{acc.id}"}),
        sub("later", "GET", "/sobjects/Account/@{acc.id}"),
    ], allOrNone=True)
    acc, bad, later = r.json["compositeResponse"]
    halted = [{"errorCode": "PROCESSING_HALTED", "message": ROLLED_BACK}]
    assert (acc["httpStatusCode"], acc["body"]) == (400, halted)
    assert bad["httpStatusCode"] == 400 and bad["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert (later["httpStatusCode"], later["body"], later["referenceId"]) == (400, halted, "later")
    q = client.get(f"{V}/query", query_string={"q": "SELECT Id FROM Account WHERE Name = 'Never Oy'"}, headers=auth)
    assert q.json["totalSize"] == 0


def test_without_all_or_none_failures_stay_local(client: FlaskClient, auth: dict[str, str]) -> None:
    r = composite(client, auth, [
        sub("bad", "POST", "/sobjects/Account", {"Phone": "1"}),
        sub("uses_bad", "GET", "/sobjects/Account/@{bad.id}"),
        sub("ok", "POST", "/sobjects/Account", {"Name": "Kept Oy"}),
        sub("missing", "GET", "/sobjects/Account/001000000000000AAA"),
        sub("coll", "POST", "/composite/sobjects", {"records": [{"attributes": {"type": "Lead"}, "LastName": "L",
                                                                 "Company": "@{ok.id}"}]}),
    ])
    bad, uses_bad, ok, missing, coll = r.json["compositeResponse"]
    assert bad["httpStatusCode"] == 400 and ok["httpStatusCode"] == 201
    assert uses_bad["httpStatusCode"] == 400 and uses_bad["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert "bad.id" in uses_bad["body"][0]["message"]
    assert missing["httpStatusCode"] == 404
    assert coll["httpStatusCode"] == 200 and coll["body"][0]["success"] is True


@pytest.mark.parametrize(("body", "code"), [
    ({"compositeRequest": [{"method": "GET", "url": f"{V}/limits", "referenceId": f"r{i}"} for i in range(26)]},
     "LIMIT_EXCEEDED"),
    ({"compositeRequest": [{"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+User", "referenceId": f"q{i}"}
                           for i in range(6)]}, "LIMIT_EXCEEDED"),
    ({"compositeRequest": [{"method": "GET", "url": f"{V}/limits"}]}, "JSON_PARSER_ERROR"),
    ({"compositeRequest": [{"method": "GET", "url": f"{V}/limits", "referenceId": "a"},
                           {"method": "GET", "url": f"{V}/limits", "referenceId": "a"}]}, "JSON_PARSER_ERROR"),
    ({"compositeRequest": [{"method": "GET", "url": "/__emulator/health", "referenceId": "a"}]}, "INVALID_INPUT"),
    ({"compositeRequest": [{"method": "POST", "url": f"{V}/composite", "referenceId": "a"}]}, "INVALID_INPUT"),
    ({"allOrNone": "yes", "compositeRequest": [{"method": "GET", "url": f"{V}/limits", "referenceId": "a"}]},
     "JSON_PARSER_ERROR"),
    ({}, "JSON_PARSER_ERROR"),
])
def test_malformed_composite_requests_are_400(client: FlaskClient, auth: dict[str, str], body: dict[str, Any],
                                              code: str) -> None:
    r = client.post(f"{V}/composite", json=body, headers=auth)
    assert r.status_code == 400 and r.json[0]["errorCode"] == code


def test_twenty_five_subrequests_with_five_queries_are_one_api_request(client: FlaskClient,
                                                                      auth: dict[str, str]) -> None:
    subs = [sub(f"q{i}", "GET", "/query?q=SELECT+Id+FROM+User") for i in range(5)]
    subs += [sub(f"t{i}", "POST", "/sobjects/Task", {"Subject": f"t{i}"}) for i in range(20)]
    before = client.get("/__emulator/health").json["apiUsage"]["used"]
    r = composite(client, auth, subs)
    assert [x["httpStatusCode"] for x in r.json["compositeResponse"]] == [200] * 5 + [201] * 20
    assert client.get("/__emulator/health").json["apiUsage"]["used"] == before + 1


def test_substitute_keeps_types_of_whole_references() -> None:
    results = {"a": {"id": "001x", "n": 3, "records": [{"Id": "003y", "Account": {"Name": "Acme"}}]}}
    assert substitute({"x": "@{a.n}", "y": "n=@{a.n}", "z": ["@{a.records[0].Account.Name}"]}, results) == \
        {"x": 3, "y": "n=3", "z": ["Acme"]}
    with pytest.raises(UnresolvedReference):
        substitute("@{a.records[1].Id}", results)
    with pytest.raises(UnresolvedReference):
        substitute("@{b.id}", results)
