"""Invocable flows: the rules engine, its file validation, and the actions endpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from sfemu.app import create_app
from sfemu.auth import Credentials
from sfemu.flow_rules import FlowInputError, load_flows, parse_flows, soql_literal, sosl_literal
from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_SHARED_PHONE, apply_seed
from sfemu.store import Store
from sfemu.testing import bearer_headers

V = "/services/data/v59.0"
ROUTING = "Switchboard_Smart_Routing"


@pytest.fixture(scope="module")
def store() -> Store:
    s = Store()
    apply_seed(s, "demo", Credentials())
    return s


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    return create_app("demo", flows="demo").test_client()


@pytest.fixture(scope="module")
def auth(client: FlaskClient) -> dict[str, str]:
    return bearer_headers(client)


def route(store: Store, number: str, queue: str) -> dict[str, Any]:
    flow = load_flows("demo").get(ROUTING)
    assert flow is not None
    out = flow.run(store, {"CallerNumber": number, "Queue": queue}, version="59.0")
    return {k: v for k, v in out.items() if not k.startswith("Flow__")}


def test_demo_routing_rules(store: Store) -> None:
    # Maija: Gold SLA, Finnish account.
    assert route(store, DEMO_CALLER_NUMBER, "cs-en") == {"Queue": "cs-fi", "Priority": 10}
    assert route(store, "040 123 4567", "sales") == {"Queue": "sales", "Priority": 10}
    # The Korhonens share a number: Silver SLA, Finnish.
    assert route(store, DEMO_SHARED_PHONE, "cs-en") == {"Queue": "cs-fi", "Priority": 0}
    assert route(store, "+1 202 555 0199", "cs-en") == {"Queue": "cs-en", "Priority": 0}
    assert route(store, "", "cs-en") == {"Queue": "cs-en", "Priority": 0}


def test_gold_non_finnish_contacts_get_priority_but_keep_their_queue(store: Store) -> None:
    rows = [c for c in store.records("Contact") if c.get("AccountId") and c.get("Phone")]
    accounts = {a["Id"]: a for a in store.records("Account")}
    gold_sv = next(c for c in rows if accounts[c["AccountId"]]["SLA__c"] == "Gold"
                   and accounts[c["AccountId"]]["Language__c"] != "fi")
    assert route(store, gold_sv["Phone"], "cs-en") == {"Queue": "cs-en", "Priority": 10}


def test_operators_stop_and_soql_lookups(store: Store, tmp_path: Path) -> None:
    spec = {"flows": {"Test_Flow": {
        "inputs": {"Email": {}, "Minutes": {"type": "Number", "required": True}, "Vip": {"type": "Boolean"}},
        "outputs": {"Tier": {"default": "none"}, "Name": {"default": "$who.Name"}, "Hits": {"default": "$who.count"},
                    "Literal": {"default": "$$5"}},
        "lookups": [{"name": "who", "soql": "SELECT Name, Account.SLA__c FROM Contact WHERE Email = :Email"}],
        "rules": [
            {"when": [{"input.Vip": True}, {"input.Minutes": {"gte": 30}}], "set": {"Tier": "long-or-vip"}},
            {"when": {"who.Account.SLA__c": {"in": ["gold", "Silver"]}}, "set": {"Tier": "sla"}, "stop": True},
            {"when": {"who.found": False}, "set": {"Tier": "unknown"}},
        ]}}}
    path = tmp_path / "flows.json"
    path.write_text(json.dumps(spec))
    flow = load_flows(str(path)).get("test_flow")
    assert flow is not None

    def run(**inputs: Any) -> dict[str, Any]:
        assert flow is not None
        return flow.run(store, inputs, version="59.0")

    maija = run(Email="maija.virtanen@example.fi", Minutes="45")
    assert (maija["Tier"], maija["Name"], maija["Hits"], maija["Literal"]) == ("sla", "Maija Virtanen", 1, "$5")
    assert run(Email="o'brien\\@x", Minutes=5)["Tier"] == "unknown"  # quoted safely, finds nobody
    assert run(Minutes=1, Vip="true")["Tier"] == "unknown"
    assert run(Minutes=31)["Tier"] == "unknown"  # later rules override earlier ones
    with pytest.raises(FlowInputError) as missing:
        run(Email="x")
    assert missing.value.error == {"statusCode": "REQUIRED_FIELD_MISSING",
                                   "message": "Missing required input parameter: Minutes", "fields": ["Minutes"]}
    with pytest.raises(FlowInputError):
        run(Minutes="many")


@pytest.mark.parametrize(("doc", "needle"), [
    ({}, "'flows'"),
    ({"flows": [{"name": "bad name"}]}, "bad flow name"),
    ({"flows": [{"name": "F", "inputs": {"X": {"type": "Blob"}}}]}, "type must be one of"),
    ({"flows": [{"name": "F", "rules": [{"when": {"caller.Name": "x"}}]}]}, "must start with 'input'"),
    ({"flows": [{"name": "F", "rules": [{"when": {"input.X": {"like": "x"}}}]}]}, "unknown operator"),
    ({"flows": [{"name": "F", "rules": [{"set": {"Out": 1}}]}]}, "undeclared outputs"),
    ({"flows": [{"name": "F", "lookups": [{"name": "x"}]}]}, "exactly one of soql, search"),
    ({"flows": [{"name": "F"}, {"name": "F"}]}, "defined twice"),
    ({"flows": [{"name": "F", "colour": "red"}]}, "unknown keys"),
])
def test_bad_rule_files_are_refused_with_a_reason(doc: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_flows(doc)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read flows file"):
        load_flows(str(tmp_path / "nope.yaml"))


def test_bind_escaping() -> None:
    assert soql_literal("o'b\\x") == "'o\\'b\\\\x'"
    assert soql_literal(3) == "3"
    assert sosl_literal("+358 40 (123)") == "\\+358 40 \\(123\\)"


# endpoints ------------------------------------------------------------------------------------------------
def test_list_and_describe(client: FlaskClient, auth: dict[str, str]) -> None:
    listing = client.get(f"{V}/actions/custom/flow", headers=auth).json
    assert listing == {"actions": [{"label": "Switchboard Smart Routing", "name": ROUTING, "type": "FLOW",
                                    "url": f"{V}/actions/custom/flow/{ROUTING}"}]}
    desc = client.get(f"{V}/actions/custom/flow/{ROUTING}", headers=auth).json
    assert [(i["name"], i["type"], i["required"]) for i in desc["inputs"]] == [
        ("CallerNumber", "STRING", False), ("Queue", "STRING", True)]
    assert [o["name"] for o in desc["outputs"]] == ["Queue", "Priority"]
    assert client.get(f"{V}/actions/custom", headers=auth).json == {"flow": f"{V}/actions/custom/flow"}


def test_run_returns_one_result_per_interview(client: FlaskClient, auth: dict[str, str]) -> None:
    r = client.post(f"{V}/actions/custom/flow/{ROUTING}", headers=auth, json={"inputs": [
        {"CallerNumber": DEMO_CALLER_NUMBER, "Queue": "cs-en"}, {"CallerNumber": "+44 20 0000 0000", "Queue": "x"}]})
    assert r.status_code == 200 and "Sforce-Limit-Info" in r.headers
    first, second = r.json
    assert set(first) == {"actionName", "errors", "invocationId", "isSuccess", "outputValues", "sortOrder", "version"}
    assert (first["actionName"], first["errors"], first["isSuccess"], first["version"]) == (ROUTING, None, True, 1)
    assert first["outputValues"]["Queue"] == "cs-fi" and first["outputValues"]["Priority"] == 10
    assert first["outputValues"]["Flow__InterviewStatus"] == "Finished"
    assert second["outputValues"]["Queue"] == "x"


def test_run_errors(client: FlaskClient, auth: dict[str, str]) -> None:
    r = client.post(f"{V}/actions/custom/flow/{ROUTING}", headers=auth, json={"inputs": [{"CallerNumber": "1"}]})
    assert r.status_code == 400
    assert r.json[0]["isSuccess"] is False and r.json[0]["outputValues"] is None
    assert r.json[0]["errors"] == [{"statusCode": "REQUIRED_FIELD_MISSING",
                                    "message": "Missing required input parameter: Queue", "fields": ["Queue"]}]
    unknown = client.post(f"{V}/actions/custom/flow/No_Such_Flow", headers=auth, json={"inputs": [{}]})
    assert unknown.status_code == 404 and unknown.json[0]["errorCode"] == "NOT_FOUND"
    bad = client.post(f"{V}/actions/custom/flow/{ROUTING}", headers=auth, json={"input": []})
    assert bad.status_code == 400 and bad.json[0]["errorCode"] == "JSON_PARSER_ERROR"
    no_flows = create_app("empty").test_client()
    assert no_flows.get(f"{V}/actions/custom/flow", headers=bearer_headers(no_flows)).json == {"actions": []}
