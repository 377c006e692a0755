"""The emulator runs Flow metadata files: the elements, operators and references it supports, what it refuses,
and the actions endpoints serving such flows (faults included)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from sfemu.app import create_app
from sfemu.auth import Credentials
from sfemu.flow_rules import FlowInputError
from sfemu.flow_sources import load_flow_sources
from sfemu.flow_xml import FlowFault, parse_flow_xml
from sfemu.seed import DEMO_ACCOUNT_NAME, DEMO_CALLER_NUMBER, apply_seed
from sfemu.store import Store
from sfemu.testing import bearer_headers

V = "/services/data/v59.0"


def flow_xml(body: str, status: str = "Active", start: str = "First") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    {body}
    <label>Test Flow</label>
    <processType>AutoLaunchedFlow</processType>
    <start><connector><targetReference>{start}</targetReference></connector></start>
    <status>{status}</status>
</Flow>"""


def var(name: str, data_type: str = "String", inp: bool = False, out: bool = False, value: str = "",
        object_type: str = "") -> str:
    return (f"<variables><name>{name}</name><dataType>{data_type}</dataType><isCollection>false</isCollection>"
            f"<isInput>{str(inp).lower()}</isInput><isOutput>{str(out).lower()}</isOutput>"
            + (f"<objectType>{object_type}</objectType>" if object_type else "")
            + (f"<value>{value}</value>" if value else "") + "</variables>")


def assign(name: str, items: list[tuple[str, str, str]], to: str = "") -> str:
    body = "".join(f"<assignmentItems><assignToReference>{t}</assignToReference><operator>{op}</operator>"
                   f"<value>{v}</value></assignmentItems>" for t, op, v in items)
    connector = f"<connector><targetReference>{to}</targetReference></connector>" if to else ""
    return f"<assignments><name>{name}</name><label>{name}</label>{body}{connector}</assignments>"


@pytest.fixture(scope="module")
def store() -> Store:
    s = Store()
    apply_seed(s, "demo", Credentials())
    return s


def outputs(text: str, store: Store, **inputs: Any) -> dict[str, Any]:
    out = parse_flow_xml(text, "Test_Flow").run(store, inputs, version="59.0")
    assert out.pop("Flow__InterviewStatus") == "Finished" and out.pop("Flow__InterviewGuid")
    return out


def test_lookups_with_custom_logic_like_operators_sorting_and_an_sobject_variable(store: Store):
    text = flow_xml(
        var("Prefix", inp=True) + var("Found", "SObject", object_type="Account")
        + var("Name", out=True) + var("Count", "Number", out=True, value="<numberValue>1.0</numberValue>")
        + var("Tag", out=True) + "<constants><name>Gold</name><dataType>String</dataType>"
        "<value><stringValue>Gold</stringValue></value></constants>"
        + assign("Count_Up", [("Count", "Add", "<numberValue>2.0</numberValue>"),
                              ("Count", "Subtract", "<numberValue>0.5</numberValue>"),
                              ("Name", "Assign", "<elementReference>Found.Name</elementReference>"),
                              ("Tag", "Add", "<stringValue>a</stringValue>"),
                              ("Tag", "Add", "<elementReference>$GlobalConstant.True</elementReference>")])
        + """<recordLookups><name>First</name><label>First</label>
            <connector><targetReference>Count_Up</targetReference></connector>
            <filterLogic>1 AND (2 OR 3) AND NOT 4</filterLogic>
            <filters><field>Name</field><operator>StartsWith</operator>
                <value><elementReference>Prefix</elementReference></value></filters>
            <filters><field>SLA__c</field><operator>EqualTo</operator>
                <value><elementReference>Gold</elementReference></value></filters>
            <filters><field>SLA__c</field><operator>IsNull</operator><value><booleanValue>true</booleanValue></value>
            </filters>
            <filters><field>Language__c</field><operator>EqualTo</operator>
                <value><stringValue>de</stringValue></value></filters>
            <getFirstRecordOnly>true</getFirstRecordOnly><object>Account</object>
            <outputReference>Found</outputReference><queriedFields>Id</queriedFields>
            <sortField>Name</sortField><sortOrder>Desc</sortOrder></recordLookups>""")
    assert outputs(text, store, Prefix="Virtanen") == {"Name": DEMO_ACCOUNT_NAME, "Count": 2.5, "Tag": "atrue"}
    assert outputs(text, store, Prefix="No such")["Name"] is None


def test_decisions_pick_the_first_outcome_that_holds_and_text_compares_case_sensitively(store: Store):
    def decide(logic: str, conditions: str) -> str:
        return flow_xml(
            var("X", inp=True) + var("N", "Number", inp=True) + var("Out", out=True, value="<stringValue>default"
                                                                                       "</stringValue>")
            + assign("Set_A", [("Out", "Assign", "<stringValue>a</stringValue>")])
            + assign("Set_B", [("Out", "Assign", "<stringValue>b</stringValue>")])
            + f"""<decisions><name>First</name><label>First</label>
                <rules><name>A</name><conditionLogic>{logic}</conditionLogic>{conditions}
                    <connector><targetReference>Set_A</targetReference></connector><label>A</label></rules>
                <rules><name>B</name><conditionLogic>and</conditionLogic>
                    <conditions><leftValueReference>X</leftValueReference><operator>IsBlank</operator>
                    <rightValue><booleanValue>false</booleanValue></rightValue></conditions>
                    <connector><targetReference>Set_B</targetReference></connector><label>B</label></rules>
                </decisions>""")

    def cond(left: str, op: str, right: str) -> str:
        return (f"<conditions><leftValueReference>{left}</leftValueReference><operator>{op}</operator>"
                f"<rightValue>{right}</rightValue></conditions>")

    text = decide("or", cond("X", "EqualTo", "<stringValue>fi</stringValue>")
                  + cond("N", "GreaterThanOrEqualTo", "<numberValue>10.0</numberValue>"))
    assert outputs(text, store, X="fi")["Out"] == "a"
    assert outputs(text, store, X="FI")["Out"] == "b"  # case-sensitive: falls to the next outcome
    assert outputs(text, store, X="sv", N="12")["Out"] == "a"
    assert outputs(text, store)["Out"] == "default"
    text = decide("1 AND NOT (2 OR 3)", cond("X", "Contains", "<stringValue>in</stringValue>")
                  + cond("X", "EndsWith", "<stringValue>x</stringValue>")
                  + cond("N", "LessThan", "<numberValue>0.0</numberValue>"))
    assert outputs(text, store, X="inside", N=1)["Out"] == "a"
    assert outputs(text, store, X="inbox", N=1)["Out"] == "b"
    assert outputs(text, store, X="inside", N=-1)["Out"] == "b"


LOOKUP_BAD_FIELD = """<recordLookups><name>First</name><label>First</label>{fault}
    <filterLogic>and</filterLogic><filters><field>No_Such__c</field><operator>EqualTo</operator>
    <value><stringValue>x</stringValue></value></filters>
    <getFirstRecordOnly>true</getFirstRecordOnly><object>Account</object>
    <storeOutputAutomatically>true</storeOutputAutomatically></recordLookups>"""


def test_a_fault_takes_the_fault_path_or_fails_the_interview(store: Store):
    fault_message = "<elementReference>$Flow.FaultMessage</elementReference>"
    handled = flow_xml(var("Error", out=True) + assign("Note", [("Error", "Assign", fault_message)])
                       + LOOKUP_BAD_FIELD.format(fault="<faultConnector><targetReference>Note</targetReference>"
                                                       "</faultConnector>"))
    assert "First: INVALID_FIELD: No such column 'No_Such__c'" in outputs(handled, store)["Error"]
    unhandled = flow_xml(var("Error", out=True) + LOOKUP_BAD_FIELD.format(fault=""))
    with pytest.raises(FlowFault) as exc:
        outputs(unhandled, store)
    assert exc.value.error["statusCode"] == "UNKNOWN_EXCEPTION"
    assert exc.value.error["message"].startswith("An unhandled fault has occurred in this flow (Test_Flow). First: "
                                                 "INVALID_FIELD")


def test_inputs_are_checked_against_the_declared_input_variables(store: Store):
    text = flow_xml(var("N", "Number", inp=True) + var("Out", "Number", out=True)
                    + assign("First", [("Out", "Assign", "<elementReference>N</elementReference>")]))
    assert outputs(text, store, N="7") == {"Out": 7}
    with pytest.raises(FlowInputError, match="Unknown input parameter"):
        outputs(text, store, Out=1)
    with pytest.raises(FlowInputError, match="must be of type Number"):
        outputs(text, store, N="seven")


@pytest.mark.parametrize(("body", "start", "message"), [
    (assign("First", [("Nope", "Assign", "<stringValue>x</stringValue>")]), "First", "assigns to 'Nope'"),
    (assign("First", [], to="Missing"), "First", "leads to 'Missing'"),
    (assign("First", []), "Elsewhere", "leads to 'Elsewhere'"),
    (var("X") + assign("First", [("X", "Assign", "<elementReference>Ghost.Name</elementReference>")]), "First",
     "reference 'Ghost.Name' names no variable"),
    ("<formulas><name>F</name></formulas>", "First", "element <formulas> is not supported"),
    (var("X") + assign("First", [("X", "AssignCount", "<stringValue>x</stringValue>")]), "First",
     "operator 'AssignCount' is not supported"),
    (var("L", "String").replace("<isCollection>false", "<isCollection>true") + assign("First", []), "First",
     "collection"),
])
def test_flows_the_emulator_cannot_run_are_refused_when_loaded(body: str, start: str, message: str):
    with pytest.raises(ValueError, match=message):
        parse_flow_xml(flow_xml(body, start=start), "Test_Flow")


def test_only_active_flows_are_served_and_a_name_is_defined_once(tmp_path: Path):
    (tmp_path / "Draft_Flow.flow-meta.xml").write_text(flow_xml(assign("First", []), status="Draft"))
    (tmp_path / "Live_Flow.flow-meta.xml").write_text(flow_xml(assign("First", [])))
    assert list(load_flow_sources(tmp_path).flows) == ["Live_Flow"]
    with pytest.raises(ValueError, match="defined twice"):
        load_flow_sources([tmp_path, tmp_path])
    with pytest.raises(ValueError, match="no such file or folder"):
        load_flow_sources(tmp_path / "nope")


def test_the_actions_endpoints_serve_the_package_templates_and_honour_the_latency_fault():
    client = create_app("demo", flows=["demo", "package"]).test_client()
    auth = bearer_headers(client)
    names = {a["name"] for a in client.get(f"{V}/actions/custom/flow", headers=auth).json["actions"]}
    assert names == {"Switchboard_Smart_Routing", "Switchboard_Language_VIP_Routing",
                     "Switchboard_Case_Owner_Routing"}
    desc = client.get(f"{V}/actions/custom/flow/Switchboard_Case_Owner_Routing", headers=auth).json
    assert {(i["name"], i["type"]) for i in desc["inputs"]} >= {("CallerNumber", "STRING"), ("ContactId", "STRING")}
    assert {o["name"] for o in desc["outputs"]} >= {"AgentUserId", "Priority", "SkipIvr", "Reason"}
    assert client.post("/__emulator/faults", json={"latency": 0.2}).status_code == 200
    started = time.monotonic()
    r = client.post(f"{V}/actions/custom/flow/Switchboard_Language_VIP_Routing", headers=auth,
                    json={"inputs": [{"CallerNumber": DEMO_CALLER_NUMBER, "Queue": "cs-en"}]})
    assert time.monotonic() - started >= 0.2
    assert r.status_code == 200 and r.json[0]["isSuccess"] is True
    assert r.json[0]["outputValues"]["Reason"] == "Caller not identified."  # E.164 does not equal "+358 40 ..."
    client.post("/__emulator/reset-faults")
    bad = client.post(f"{V}/actions/custom/flow/Switchboard_Language_VIP_Routing", headers=auth,
                      json={"inputs": [{"Colour": "red"}]})
    assert bad.status_code == 400 and bad.json[0]["errors"][0]["statusCode"] == "INVALID_INPUT"
