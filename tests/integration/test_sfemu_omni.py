"""The product's Omni-Channel SOQL shapes through unmodified simple-salesforce against the emulator process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce, SalesforceMalformedRequest
from simple_salesforce.format import format_soql

from sfemu.auth import Credentials
from sfemu.seed import DEMO_AGENT_USERNAMES
from sfemu.testing import emulator_control, running_emulator
from switchboard.config import Settings
from switchboard.salesforce import connect

pytestmark = pytest.mark.integration
CREDS = Credentials()
AGENT1, AGENT2, _SUPERVISOR = DEMO_AGENT_USERNAMES


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with running_emulator("empty") as url:
        yield url


@pytest.fixture(scope="module")
def sf(emulator_url: str) -> Salesforce:
    values = {"sf_auth": "password", "sf_emulator_url": emulator_url, "sf_username": CREDS.username,
              "sf_password": CREDS.password, "sf_security_token": CREDS.security_token}
    return connect(Settings(**values))  # type: ignore[arg-type]


def api_requests(url: str) -> list[dict[str, object]]:
    return list(emulator_control(url, "GET", "requests?api=1").json()["requests"])


def test_presence_and_workload_queries_through_simple_salesforce(sf: Salesforce, emulator_url: str) -> None:
    statuses = sf.query("SELECT Id, DeveloperName, MasterLabel FROM ServicePresenceStatus ORDER BY MasterLabel")
    assert [r["DeveloperName"] for r in statuses["records"]] == ["Available_Chat", "Available_Voice", "Busy", "Lunch"]
    ids = {}
    for username in (AGENT1, AGENT2):
        rows = sf.query(format_soql("SELECT Id, Username FROM User WHERE Username = {}", username))["records"]
        ids[username] = rows[0]["Id"]

    assert emulator_control(emulator_url, "POST", "omni/presence",
                            json={"user": AGENT1, "status": "Available_Voice"}).status_code == 200
    assert emulator_control(emulator_url, "POST", "omni/presence",
                            json={"user": ids[AGENT2], "status": "Busy"}).status_code == 200
    assert emulator_control(emulator_url, "POST", "omni/presence",
                            json={"user": AGENT2, "status": None}).json() == {"status": None}
    emulator_control(emulator_url, "POST", "omni/work", json={"user": AGENT1, "capacity_weight": 2})
    closed = emulator_control(emulator_url, "POST", "omni/work", json={"user": AGENT1, "capacity_weight": 5}).json()
    emulator_control(emulator_url, "PATCH", f"omni/work/{closed['id']}", json={"status": "Closed"})

    emulator_control(emulator_url, "POST", "reset-log")
    presence = sf.query(format_soql(
        "SELECT UserId, ServicePresenceStatusId, ServicePresenceStatus.DeveloperName, "
        "ServicePresenceStatus.MasterLabel, StatusStartDate FROM UserServicePresence "
        "WHERE IsCurrentState = true AND UserId IN {ids}", ids=list(ids.values())))
    assert presence["totalSize"] == 1
    row = presence["records"][0]
    assert row["UserId"] == ids[AGENT1]
    assert (row["ServicePresenceStatus"]["DeveloperName"], row["ServicePresenceStatus"]["MasterLabel"]) == (
        "Available_Voice", "Available - Voice")
    work = sf.query(format_soql("SELECT UserId, CapacityWeight FROM AgentWork WHERE Status IN ('Assigned', 'Opened') "
                                "AND UserId IN {ids}", ids=list(ids.values())))
    assert [(r["UserId"], r["CapacityWeight"]) for r in work["records"]] == [(ids[AGENT1], 2)]
    assert [e["path"] for e in api_requests(emulator_url)] == ["/services/data/v59.0/query/"] * 2

    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.UserServicePresence.create({"UserId": ids[AGENT1], "IsCurrentState": True})
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"
