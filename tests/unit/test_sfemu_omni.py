"""Omni-Channel presence objects in the emulator: seed, control endpoints, the product's SOQL shapes, API refusals."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from simple_salesforce.format import format_soql

from sfemu.app import create_app
from sfemu.seed import DEMO_AGENT_USERNAMES, OMNI_PRESENCE_STATUSES
from sfemu.testing import bearer_headers

V = "/services/data/v59.0"
AGENT1, AGENT2, SUPERVISOR = DEMO_AGENT_USERNAMES

PRESENCE_SOQL = ("SELECT UserId, ServicePresenceStatusId, ServicePresenceStatus.DeveloperName, "
                 "ServicePresenceStatus.MasterLabel, StatusStartDate FROM UserServicePresence "
                 "WHERE IsCurrentState = true AND UserId IN {ids}")
WORK_SOQL = "SELECT UserId, CapacityWeight FROM AgentWork WHERE Status IN ('Assigned', 'Opened') AND UserId IN {ids}"
STATUS_SOQL = "SELECT Id, DeveloperName, MasterLabel FROM ServicePresenceStatus ORDER BY MasterLabel"


@pytest.fixture
def app() -> Flask:
    return create_app("empty")  # a fresh org per test: presence state is what these tests change


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(client: FlaskClient) -> dict[str, str]:
    return bearer_headers(client)


def query(client: FlaskClient, auth: dict[str, str], soql: str) -> dict[str, Any]:
    r = client.get(f"{V}/query/", query_string={"q": soql}, headers=auth)
    assert r.status_code == 200, r.get_data(as_text=True)
    return dict(r.json)


def user_id(client: FlaskClient, auth: dict[str, str], username: str) -> str:
    records = query(client, auth, format_soql("SELECT Id, Username FROM User WHERE Username = {}", username))["records"]
    assert len(records) == 1
    return str(records[0]["Id"])


def presence(client: FlaskClient, user: str, status: str | None) -> Any:
    r = client.post("/__emulator/omni/presence", json={"user": user, "status": status})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json


def current_rows(client: FlaskClient, auth: dict[str, str], *ids: str) -> list[dict[str, Any]]:
    return list(query(client, auth, format_soql(PRESENCE_SOQL, ids=list(ids)))["records"])


# seed --------------------------------------------------------------------------------------------------
def test_seed_has_the_four_presence_statuses_and_nobody_online(client: FlaskClient, auth: dict[str, str]) -> None:
    body = query(client, auth, STATUS_SOQL)
    rows = [(r["DeveloperName"], r["MasterLabel"]) for r in body["records"]]
    assert rows == sorted(((n, label) for n, label, _away in OMNI_PRESENCE_STATUSES), key=lambda t: t[1])
    assert [r["DeveloperName"] for r in body["records"]] == ["Available_Chat", "Available_Voice", "Busy", "Lunch"]
    assert all(r["Id"].startswith("0N5") and len(r["Id"]) == 18 for r in body["records"])
    assert set(body["records"][0]) == {"attributes", "Id", "DeveloperName", "MasterLabel"}
    assert query(client, auth, "SELECT Id FROM UserServicePresence")["totalSize"] == 0
    assert query(client, auth, "SELECT Id FROM AgentWork")["totalSize"] == 0
    users = {u["username"]: u for u in client.get("/__emulator/omni").json["users"]}
    assert {AGENT1, AGENT2, SUPERVISOR} <= set(users)
    assert all(u["status"] is None and u["workload"] == 0 for u in users.values())


def test_seeded_status_ids_are_the_same_on_every_run() -> None:
    def ids(seed: str) -> list[str]:
        return [r["Id"] for r in create_app(seed).extensions["sfemu"].store.records("ServicePresenceStatus")]
    assert ids("empty") == ids("empty") == ids("demo")


def test_describe_of_the_omni_objects(client: FlaskClient, auth: dict[str, str]) -> None:
    usp = client.get(f"{V}/sobjects/UserServicePresence/describe", headers=auth).json
    assert (usp["keyPrefix"], usp["createable"], usp["updateable"], usp["deletable"]) == ("0Hn", False, False, True)
    fields = {f["name"]: f for f in usp["fields"]}
    assert fields["UserId"]["referenceTo"] == ["User"] and fields["UserId"]["relationshipName"] == "User"
    assert fields["ServicePresenceStatusId"]["relationshipName"] == "ServicePresenceStatus"
    assert fields["IsCurrentState"]["type"] == "boolean" and fields["StatusStartDate"]["type"] == "datetime"
    assert not any(f["createable"] or f["updateable"] for f in usp["fields"])
    status = client.get(f"{V}/sobjects/ServicePresenceStatus/describe", headers=auth).json
    assert (status["keyPrefix"], status["createable"], status["updateable"]) == ("0N5", False, False)
    work = client.get(f"{V}/sobjects/AgentWork/describe", headers=auth).json
    assert (work["keyPrefix"], work["createable"]) == ("0Bz", False)
    assert {f["name"]: f for f in work["fields"]}["Status"]["picklistValues"][0]["value"] == "Assigned"


# presence ----------------------------------------------------------------------------------------------
def test_presence_change_then_query_returns_exactly_the_current_row(client: FlaskClient,
                                                                   auth: dict[str, str]) -> None:
    agent1, agent2 = user_id(client, auth, AGENT1), user_id(client, auth, AGENT2)
    first = presence(client, AGENT1, "Busy")
    assert first["status"] == "Busy" and first["IsCurrentState"] is True and first["IsAway"] is True
    assert first["UserId"] == agent1 and first["Id"].startswith("0Hn") and first["StatusEndDate"] is None
    second = presence(client, agent1, "Available_Voice")  # by Id this time
    assert second["IsAway"] is False
    presence(client, AGENT2, "Lunch")

    rows = current_rows(client, auth, agent1, agent2)
    by_user = {r["UserId"]: r for r in rows}
    assert len(rows) == 2 and set(by_user) == {agent1, agent2}
    row = by_user[agent1]
    assert list(row) == ["attributes", "UserId", "ServicePresenceStatusId", "ServicePresenceStatus",
                         "StatusStartDate"]
    assert row["attributes"]["type"] == "UserServicePresence"
    assert row["attributes"]["url"] == f"{V}/sobjects/UserServicePresence/{second['Id']}"
    assert row["ServicePresenceStatusId"] == second["ServicePresenceStatusId"]
    assert row["ServicePresenceStatus"] == {
        "attributes": {"type": "ServicePresenceStatus",
                       "url": f"{V}/sobjects/ServicePresenceStatus/{second['ServicePresenceStatusId']}"},
        "DeveloperName": "Available_Voice", "MasterLabel": "Available - Voice"}
    assert row["StatusStartDate"] == second["StatusStartDate"]
    assert row["StatusStartDate"].endswith("+0000")
    assert by_user[agent2]["ServicePresenceStatus"]["DeveloperName"] == "Lunch"
    # Only the queried user's rows come back.
    assert [r["UserId"] for r in current_rows(client, auth, agent2)] == [agent2]

    # The first period ended when the second began.
    old = query(client, auth, format_soql("SELECT IsCurrentState, StatusEndDate FROM UserServicePresence "
                                          "WHERE Id = {}", first["Id"]))["records"][0]
    assert old["IsCurrentState"] is False and old["StatusEndDate"] == second["StatusStartDate"]
    users = {u["username"]: u for u in client.get("/__emulator/omni").json["users"]}
    assert (users[AGENT1]["status"], users[AGENT2]["status"], users[SUPERVISOR]["status"]) == (
        "Available_Voice", "Lunch", None)


def test_going_offline_closes_the_row_and_leaves_no_current_one(client: FlaskClient, auth: dict[str, str]) -> None:
    agent1 = user_id(client, auth, AGENT1)
    row = presence(client, AGENT1, "Available_Chat")
    assert presence(client, AGENT1, None) == {"status": None}
    assert current_rows(client, auth, agent1) == []
    every = query(client, auth, format_soql("SELECT Id, IsCurrentState, StatusStartDate, StatusEndDate "
                                            "FROM UserServicePresence WHERE UserId = {}", agent1))["records"]
    assert len(every) == 1 and every[0]["Id"] == row["Id"]
    assert every[0]["IsCurrentState"] is False and every[0]["StatusEndDate"] is not None
    assert every[0]["StatusEndDate"] >= every[0]["StatusStartDate"]
    assert presence(client, AGENT1, None) == {"status": None}  # offline again: nothing changes
    assert query(client, auth, "SELECT COUNT() FROM UserServicePresence")["totalSize"] == 1
    assert {u["username"]: u["status"] for u in client.get("/__emulator/omni").json["users"]}[AGENT1] is None


@pytest.mark.parametrize(("body", "needle"), [
    ({"user": "nobody@switchboard.demo", "status": "Busy"}, "unknown user"),
    ({"user": "005000000000000AAA", "status": "Busy"}, "unknown user"),
    ({"user": AGENT1, "status": "Napping"}, "unknown presence status"),
    ({"user": AGENT1, "status": ""}, "status"),
    ({"user": AGENT1}, "'status' is required"),
    ({"status": "Busy"}, "'user'"),
])
def test_presence_with_unknown_user_or_status_is_400(client: FlaskClient, body: dict[str, Any], needle: str) -> None:
    r = client.post("/__emulator/omni/presence", json=body)
    assert r.status_code == 400 and needle in r.json["error"]
    assert client.post("/__emulator/omni/presence", data="nope", content_type="application/json").status_code == 400
    assert all(u["status"] is None for u in client.get("/__emulator/omni").json["users"])


# API refusals ------------------------------------------------------------------------------------------
def test_rest_api_cannot_create_or_update_presence(client: FlaskClient, auth: dict[str, str]) -> None:
    agent1 = user_id(client, auth, AGENT1)
    status_id = query(client, auth, STATUS_SOQL)["records"][0]["Id"]
    r = client.post(f"{V}/sobjects/UserServicePresence", headers=auth,
                    json={"UserId": agent1, "ServicePresenceStatusId": status_id, "IsCurrentState": True})
    assert r.status_code == 400
    assert r.json == [{"message": "entity type cannot be inserted", "errorCode": "INVALID_TYPE_FOR_OPERATION",
                       "fields": []}]
    for sobject in ("ServicePresenceStatus", "AgentWork"):
        r = client.post(f"{V}/sobjects/{sobject}", headers=auth, json={"UserId": agent1})
        assert (r.status_code, r.json[0]["errorCode"]) == (400, "INVALID_TYPE_FOR_OPERATION")
    row = presence(client, AGENT1, "Busy")
    r = client.patch(f"{V}/sobjects/UserServicePresence/{row['Id']}", headers=auth, json={"IsCurrentState": False})
    assert r.status_code == 400
    assert r.json[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"
    assert r.json[0]["message"] == "entity type cannot be updated"
    r = client.patch(f"{V}/sobjects/ServicePresenceStatus/{status_id}", headers=auth, json={"MasterLabel": "x"})
    assert r.json[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"
    r = client.delete(f"{V}/sobjects/ServicePresenceStatus/{status_id}", headers=auth)
    assert (r.status_code, r.json[0]["message"]) == (400, "entity type cannot be deleted")
    # sObject Collections refuse it per record, the same way.
    r = client.post(f"{V}/composite/sobjects", headers=auth, json={"allOrNone": False, "records": [
        {"attributes": {"type": "UserServicePresence"}, "UserId": agent1}]})
    assert r.status_code == 200 and r.json[0]["success"] is False
    assert r.json[0]["errors"][0]["statusCode"] == "INVALID_TYPE_FOR_OPERATION"
    # Retrieve and delete are supported.
    got = client.get(f"{V}/sobjects/UserServicePresence/{row['Id']}", headers=auth)
    assert got.status_code == 200 and got.json["IsCurrentState"] is True
    assert client.delete(f"{V}/sobjects/UserServicePresence/{row['Id']}", headers=auth).status_code == 204
    assert current_rows(client, auth, agent1) == []
    assert query(client, auth, "SELECT COUNT() FROM UserServicePresence")["totalSize"] == 0


# work --------------------------------------------------------------------------------------------------
def test_open_workload_through_the_agent_work_query(client: FlaskClient, auth: dict[str, str], app: Flask) -> None:
    agent1, agent2 = user_id(client, auth, AGENT1), user_id(client, auth, AGENT2)
    case = app.extensions["sfemu"].store.create("Case", {"Subject": "Routed"})
    r = client.post("/__emulator/omni/work", json={"user": AGENT1, "capacity_weight": 2, "work_item_id": case["Id"]})
    assert r.status_code == 201 and r.json["id"].startswith("0Bz")
    first = r.json
    assert first["row"]["Status"] == "Opened" and first["row"]["AcceptDateTime"] is not None
    assert first["row"]["WorkItemId"] == case["Id"]
    client.post("/__emulator/omni/work", json={"user": agent1, "capacity_weight": 1.5, "status": "Assigned"})
    closed = client.post("/__emulator/omni/work", json={"user": AGENT1, "capacity_weight": 4}).json["id"]
    client.post("/__emulator/omni/work", json={"user": AGENT2, "capacity_weight": 3, "status": "Declined"})
    client.post("/__emulator/omni/work", json={"user": SUPERVISOR, "capacity_weight": 7})

    r = client.patch(f"/__emulator/omni/work/{closed}", json={"status": "Closed"})
    assert r.status_code == 200 and r.json["Status"] == "Closed" and r.json["CloseDateTime"] is not None

    rows = query(client, auth, format_soql(WORK_SOQL, ids=[agent1, agent2]))["records"]
    assert all(list(row) == ["attributes", "UserId", "CapacityWeight"] for row in rows)
    assert sorted(row["CapacityWeight"] for row in rows if row["UserId"] == agent1) == [1.5, 2]
    assert not any(row["UserId"] == agent2 for row in rows)  # Declined work does not count
    users = {u["username"]: u for u in client.get("/__emulator/omni").json["users"]}
    assert (users[AGENT1]["workload"], users[AGENT2]["workload"], users[SUPERVISOR]["workload"]) == (3.5, 0, 7)
    # Closing the rest empties the workload.
    client.patch(f"/__emulator/omni/work/{first['id']}", json={"status": "closed"})
    assert [row["CapacityWeight"] for row in query(client, auth, format_soql(WORK_SOQL, ids=[agent1]))["records"]
            ] == [1.5]


@pytest.mark.parametrize(("body", "needle"), [
    ({"user": "ghost", "capacity_weight": 1}, "unknown user"),
    ({"user": AGENT1}, "capacity_weight"),
    ({"user": AGENT1, "capacity_weight": "2"}, "capacity_weight"),
    ({"user": AGENT1, "capacity_weight": True}, "capacity_weight"),
    ({"user": AGENT1, "capacity_weight": 1, "status": "Done"}, "'status' must be one of"),
    ({"user": AGENT1, "capacity_weight": 1, "work_item_id": "500000000000000AAA"}, "unknown work item"),
])
def test_bad_work_requests_are_400(client: FlaskClient, body: dict[str, Any], needle: str) -> None:
    r = client.post("/__emulator/omni/work", json=body)
    assert r.status_code == 400 and needle in r.json["error"]


def test_patching_unknown_work_or_bad_status(client: FlaskClient) -> None:
    assert client.patch("/__emulator/omni/work/0Bz000000000000AAA", json={"status": "Closed"}).status_code == 404
    assert client.patch("/__emulator/omni/work/garbage", json={"status": "Closed"}).status_code == 404
    work_id = client.post("/__emulator/omni/work", json={"user": AGENT1, "capacity_weight": 1}).json["id"]
    r = client.patch(f"/__emulator/omni/work/{work_id}", json={"status": "Finished"})
    assert r.status_code == 400 and "Closed" in r.json["error"]


# hostile values and metering ---------------------------------------------------------------------------
def test_hostile_in_list_value_is_rejected_never_widening(client: FlaskClient, auth: dict[str, str]) -> None:
    agent1, agent2 = user_id(client, auth, AGENT1), user_id(client, auth, AGENT2)
    presence(client, AGENT1, "Busy")
    presence(client, AGENT2, "Lunch")
    hostile = f"{agent2}') OR (IsCurrentState = true"
    # Escaped as simple-salesforce does: one literal that is not an id -> refused, as Salesforce does.
    r = client.get(f"{V}/query/", headers=auth,
                   query_string={"q": format_soql(PRESENCE_SOQL, ids=[agent1, hostile])})
    assert r.status_code == 400 and r.json[0]["errorCode"] == "INVALID_QUERY_FILTER_OPERATOR"
    r = client.get(f"{V}/query/", headers=auth, query_string={"q": format_soql(WORK_SOQL, ids=["x' OR Id != '"])})
    assert r.status_code == 400
    # Unescaped quote: malformed, not a wider filter.
    raw = f"SELECT UserId FROM UserServicePresence WHERE IsCurrentState = true AND UserId IN ('{agent1}'')"
    r = client.get(f"{V}/query/", headers=auth, query_string={"q": raw})
    assert r.status_code == 400 and r.json[0]["errorCode"] == "MALFORMED_QUERY"
    # On a text field the hostile value is matched literally: nothing, not everyone.
    soql = format_soql("SELECT Id, Username FROM User WHERE Username IN {names}",
                       names=[AGENT1 + "' OR Username != '", "%"])
    assert query(client, auth, soql)["totalSize"] == 0
    # The well-formed query still sees exactly one row per user.
    assert sorted(r["UserId"] for r in current_rows(client, auth, agent1)) == [agent1]


def test_each_query_is_one_api_request_and_control_calls_are_free(client: FlaskClient,
                                                                  auth: dict[str, str]) -> None:
    agent1 = user_id(client, auth, AGENT1)
    client.post("/__emulator/reset-log")
    presence(client, AGENT1, "Available_Voice")
    client.post("/__emulator/omni/work", json={"user": AGENT1, "capacity_weight": 1})
    client.get("/__emulator/omni")
    current_rows(client, auth, agent1)
    query(client, auth, format_soql(WORK_SOQL, ids=[agent1]))
    query(client, auth, STATUS_SOQL)
    log = client.get("/__emulator/requests?api=1").json
    assert log["count"] == 3
    assert all(e["path"] == f"{V}/query/" and e["status"] == 200 for e in log["requests"])
