"""SalesforceData without Salesforce: the cache (TTL, key, copies, errors), the case query, the agent map.
The lookups themselves against the emulator: tests/integration/test_callerdata.py."""

from __future__ import annotations

import sys
import threading
import types
from typing import Any

import pytest

import switchboard
from switchboard.callerdata import SalesforceData, open_case_soql, records_of

MAIJA = {"type": "Contact", "Id": "003000000000001AAA", "Name": "Maija Virtanen", "AccountId": "001000000000001AAA",
         "Account": {"attributes": {"type": "Account"}, "SLA__c": "Gold"}}


class FakeSf:
    """A simple-salesforce stand-in: counts searches and queries."""

    def __init__(self, records: list[dict[str, Any]], cases: list[dict[str, Any]] | None = None) -> None:
        self.records = records
        self.cases = cases or []
        self.searches: list[str] = []
        self.queries: list[str] = []
        self.fail = False

    def search(self, sosl: str) -> dict[str, Any]:
        self.searches.append(sosl)
        if self.fail:
            raise ConnectionError("Salesforce is down")
        return {"searchRecords": [{"attributes": {"type": r["type"]}, **{k: v for k, v in r.items() if k != "type"}}
                                  for r in self.records]}

    def query(self, soql: str) -> dict[str, Any]:
        self.queries.append(soql)
        return {"records": [{"attributes": {"type": "Case"}, **c} for c in self.cases]}


class Runner:
    def __init__(self, sf: FakeSf) -> None:
        self.sf = sf
        self.budgets: list[float | None] = []

    def call(self, op, *, budget=None):  # noqa: ANN001, ANN201
        self.budgets.append(budget)
        return op(self.sf)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def data(sf: FakeSf, clock: Clock | None = None, linked=lambda: {}) -> tuple[SalesforceData, Runner]:  # noqa: ANN001
    runner = Runner(sf)
    return SalesforceData(runner, "FI", linked, ttl=60, clock=clock or Clock()), runner


def test_a_contact_comes_with_its_account_from_the_same_search_and_the_case_only_when_asked():
    sf = FakeSf([MAIJA], cases=[{"Id": "500000000000001AAA", "OwnerId": "005000000000002AAA"}])
    sd, runner = data(sf)
    answer = sd.caller("+358401234567", {"Account": ["SLA__c"]})
    assert answer == {"kind": "single", "case": None, "lead": None,
                      "contact": {k: v for k, v in MAIJA.items() if k != "Account"},
                      "account": {"type": "Account", "Id": "001000000000001AAA", "SLA__c": "Gold"}}
    assert "Contact(Id, Name, Phone, AccountId, Account.SLA__c LIMIT 10)" in sf.searches[0]
    assert sf.queries == [] and runner.budgets == [0]
    with_case = sd.caller("+358401234567", {"Account": ["SLA__c"], "Case": ["Priority"]})
    assert with_case["case"] == {"type": "Case", "Id": "500000000000001AAA", "OwnerId": "005000000000002AAA"}
    assert sf.queries == [
        "SELECT Id, CaseNumber, Subject, Status, OwnerId, CreatedDate, Priority FROM Case WHERE ContactId = "
        "'003000000000001AAA' AND IsClosed = false ORDER BY CreatedDate DESC LIMIT 1"]


def test_the_case_query_quotes_the_id_and_falls_back_to_the_account():
    assert "AccountId = '001\\'x'" in open_case_soql([], None, "001'x")
    assert open_case_soql([], None, None) is None


def test_a_warm_lookup_reads_no_salesforce_for_any_form_of_the_number_until_the_ttl_passes():
    clock = Clock()
    sf = FakeSf([MAIJA])
    sd, _ = data(sf, clock)
    first = sd.caller("+358401234567", {"Account": ["SLA__c"]})
    assert sd.caller("040 123 4567", {"Account": ["SLA__c"]}) == first
    assert len(sf.searches) == 1
    sd.caller("040 123 4567", {"Account": ["Language__c"]})  # other fields: another entry
    assert len(sf.searches) == 2
    clock.now += 61
    sd.caller("+358401234567", {"Account": ["SLA__c"]})
    assert len(sf.searches) == 3


def test_a_caller_changing_the_answer_does_not_change_the_cache():
    sd, _ = data(FakeSf([MAIJA]))
    sd.caller("+358401234567")["contact"]["Name"] = "changed"
    assert sd.caller("+358401234567")["contact"]["Name"] == "Maija Virtanen"


def test_a_failed_lookup_raises_and_is_not_cached():
    sf = FakeSf([MAIJA])
    sf.fail = True
    sd, _ = data(sf)
    with pytest.raises(ConnectionError):
        sd.caller("+358401234567")
    sf.fail = False
    assert sd.caller("+358401234567")["kind"] == "single"


def test_no_number_and_bad_field_names_read_nothing():
    sf = FakeSf([MAIJA])
    sd, _ = data(sf)
    assert sd.caller("")["kind"] == "none"
    with pytest.raises(ValueError, match="bad Account field"):
        sd.caller("+358401234567", {"Account": ["SLA__c) FROM User --"]})
    with pytest.raises(ValueError, match="unknown object"):
        sd.caller("+358401234567", {"User": ["Id"]})
    assert sf.searches == []


def test_records_of_two_contacts_of_one_account_identify_the_account():
    a = {**MAIJA, "Id": "003A"}
    b = {**MAIJA, "Id": "003B"}
    found = records_of({"records": [a, b]})
    assert found["contact"] is None and found["account"]["Id"] == "001000000000001AAA"
    other = {**b, "AccountId": "001000000000002AAA"}
    assert records_of({"records": [a, other]})["account"] is None
    account = {"type": "Account", "Id": "001000000000001AAA", "VIP__c": True}
    merged = records_of({"records": [a, account]})
    assert merged["contact"]["Id"] == "003A" and merged["account"]["VIP__c"] is True
    assert merged["account"]["SLA__c"] == "Gold"


def test_concurrent_callers_share_the_cache():
    sf = FakeSf([MAIJA])
    sd, _ = data(sf)
    sd.caller("+358401234567")
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(sd.caller("+358401234567")["kind"]))
               for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == ["single"] * 20 and len(sf.searches) == 1


def test_agent_for_user_reads_the_links_at_most_every_30_seconds_and_matches_15_character_ids():
    clock = Clock()
    reads: list[int] = []
    links = {"agent1": "005000000000001AAA"}

    def linked() -> dict[str, str]:
        reads.append(1)
        return dict(links)

    sd, _ = data(FakeSf([]), clock, linked)
    assert sd.agent_for_user("005000000000001AAA") == "agent1"
    assert sd.agent_for_user("005000000000001") == "agent1"
    assert sd.agent_for_user("005000000000009AAA") is None
    links["agent2"] = "005000000000009AAA"
    clock.now += 29
    assert sd.agent_for_user("005000000000009AAA") is None and len(reads) == 1
    clock.now += 2
    assert sd.agent_for_user("005000000000009AAA") == "agent2" and len(reads) == 2


def test_invoke_flow_runs_the_flow_once_through_switchboard_flows(monkeypatch: pytest.MonkeyPatch):
    calls: list[tuple[Any, str, dict[str, Any]]] = []
    flows = types.ModuleType("switchboard.flows")
    flows.invoke_flow = lambda sf, name, inputs: calls.append((sf, name, inputs)) or {"Queue": "cs-fi"}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "switchboard.flows", flows)
    monkeypatch.setattr(switchboard, "flows", flows, raising=False)
    sf = FakeSf([])
    sd, runner = data(sf)
    assert sd.invoke_flow("Switchboard_Smart_Routing", {"CallerNumber": "+358401234567"}) == {"Queue": "cs-fi"}
    assert calls == [(sf, "Switchboard_Smart_Routing", {"CallerNumber": "+358401234567"})]
    assert runner.budgets == [0]
