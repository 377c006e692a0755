"""Smart routing by a Salesforce Flow: invoke_flow's answers and errors, the plugin's output -> Decision
mapping, its per-queue flows, and the two Flow templates the Salesforce package ships."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import SalesforceExpiredSession, SalesforceMalformedRequest, SalesforceResourceNotFound

import plugins.salesforce_flow as plugin
from plugins.salesforce_flow import logic
from sfemu.auth import Credentials
from sfemu.flow_sources import PACKAGE_FLOWS, load_flow_sources
from sfemu.seed import DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME, apply_seed
from sfemu.store import Store
from switchboard.flows import FlowError, invoke_flow
from switchboard.plugins import plugin_manager
from switchboard.routing import Decision, InvalidDecision
from tests.salesforce_package import SOURCE_ROOT, parse, q, text

LANGUAGE_VIP = "Switchboard_Language_VIP_Routing"
CASE_OWNER = "Switchboard_Case_Owner_Routing"
TEMPLATES = (LANGUAGE_VIP, CASE_OWNER)
USER = "005000000000001AAA"
CALL = {"channel_id": "1700000000.1", "call_id": "1700000000.1", "caller_number": DEMO_CALLER_NUMBER,
        "caller_name": "Maija", "dialled": "+35891000001", "queue": "cs-en", "ivr": "language"}


class FakeSf:
    """simple-salesforce's ``restful`` as the actions endpoint answers it."""

    def __init__(self, answer: Any = None, raises: Exception | None = None) -> None:
        self.answer, self.raises, self.calls = answer, raises, []

    def restful(self, path: str, method: str = "GET", **kwargs: Any) -> Any:
        self.calls.append((path, method, kwargs))
        if self.raises:
            raise self.raises
        return self.answer


def ok(outputs: dict[str, Any], name: str = LANGUAGE_VIP) -> list[dict[str, Any]]:
    return [{"actionName": name, "errors": None, "isSuccess": True, "invocationId": None,
             "outputValues": {**outputs, "Flow__InterviewStatus": "Finished"}, "sortOrder": -1, "version": 1}]


# invoke_flow ----------------------------------------------------------------------------------------------
def test_invoke_flow_posts_one_interview_and_returns_its_output_values():
    sf = FakeSf(ok({"Queue": "cs-fi", "Priority": 80}))
    out = invoke_flow(sf, LANGUAGE_VIP, {"CallerNumber": "+358401234567"})  # type: ignore[arg-type]
    assert out == {"Queue": "cs-fi", "Priority": 80, "Flow__InterviewStatus": "Finished"}
    assert sf.calls == [(f"actions/custom/flow/{LANGUAGE_VIP}", "POST",
                         {"json": {"inputs": [{"CallerNumber": "+358401234567"}]}})]


def test_a_failed_interview_raises_flow_error_with_salesforces_messages():
    failed = [{"actionName": LANGUAGE_VIP, "isSuccess": False, "outputValues": None, "errors": [
        {"statusCode": "UNKNOWN_EXCEPTION", "message": "An unhandled fault has occurred in this flow", "fields": []}]}]
    for sf in (FakeSf(failed), FakeSf(raises=SalesforceMalformedRequest("u", 400, "flow", failed))):
        with pytest.raises(FlowError) as exc:
            invoke_flow(sf, LANGUAGE_VIP, {})  # type: ignore[arg-type]
        assert str(exc.value) == (f"flow {LANGUAGE_VIP} failed: UNKNOWN_EXCEPTION: "
                                  "An unhandled fault has occurred in this flow")
        assert exc.value.flow == LANGUAGE_VIP and exc.value.errors[0]["statusCode"] == "UNKNOWN_EXCEPTION"


def test_a_flow_salesforce_cannot_run_is_a_flow_error_and_session_errors_are_left_to_the_caller():
    missing = SalesforceResourceNotFound("u", 404, "flow", [{"errorCode": "NOT_FOUND",
                                                             "message": "The requested resource does not exist"}])
    with pytest.raises(FlowError, match="NOT_FOUND: no active autolaunched flow Nope"):
        invoke_flow(FakeSf(raises=missing), "Nope", {})  # type: ignore[arg-type]
    with pytest.raises(FlowError, match="UNEXPECTED_RESPONSE"):
        invoke_flow(FakeSf({"not": "a list"}), "Nope", {})  # type: ignore[arg-type]
    with pytest.raises(SalesforceExpiredSession):
        invoke_flow(FakeSf(raises=SalesforceExpiredSession("u", 401, "flow", "")), "Nope", {})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "1Flow", "My Flow", "a/../b", "Flow;DROP", "x" * 81, None])
def test_a_bad_api_name_is_refused_before_any_request(name):
    sf = FakeSf(ok({}))
    with pytest.raises(ValueError, match="not a flow API name"):
        invoke_flow(sf, name, {})  # type: ignore[arg-type]
    assert sf.calls == []


# outputs -> Decision -----------------------------------------------------------------------------------
def test_every_output_maps_to_its_decision_field():
    outputs = {"Queue": "cs-fi", "Priority": 80.0, "SkipIvr": True, "AgentUserId": USER, "AgentSeconds": 15,
               "FallbackQueue": "cs-en", "Announcement": "custom/vip-welcome", "Reason": " VIP caller ",
               "Flow__InterviewStatus": "Finished", "Flow__InterviewGuid": "abc"}
    decision = logic.decision_from_outputs(LANGUAGE_VIP, outputs, {}, agent="agent1")
    assert decision == Decision(
        queue="cs-fi", priority=80, skip_ivr=True, agent="agent1", agent_seconds=15, fallback_queue="cs-en",
        announcement="custom/vip-welcome", reason="VIP caller", rules=(LANGUAGE_VIP,),
        data={"flow": LANGUAGE_VIP, "outputs": {k: v for k, v in outputs.items() if not k.startswith("Flow__")}})


def test_empty_outputs_give_the_flow_name_as_reason_and_change_nothing():
    decision = logic.decision_from_outputs(CASE_OWNER, {"Queue": "cs-en", "Priority": None, "SkipIvr": False,
                                                        "Reason": None}, {})
    assert (decision.reason, decision.agent_seconds, decision.rules) == (f"Flow {CASE_OWNER}", 20, (CASE_OWNER,))
    assert logic.changes_nothing(decision, CALL)
    assert not logic.changes_nothing(decision, {**CALL, "queue": "sales"})


def test_output_names_are_configurable():
    config = {"outputs": {"priority": "Caller_Priority", "queue": "Target_Queue"}}
    decision = logic.decision_from_outputs("F", {"Caller_Priority": 5, "Target_Queue": "sales", "Priority": 99,
                                                 "Queue": "cs-en"}, config)
    assert (decision.queue, decision.priority) == ("sales", 5)


def test_a_user_the_flow_names_but_no_agent_has_is_said_in_the_reason():
    decision = logic.decision_from_outputs("F", {"AgentUserId": USER, "Priority": 100, "Reason": "VIP"}, {})
    assert decision.agent is None and decision.reason == f"VIP (user {USER} is not linked to an agent)"


@pytest.mark.parametrize(("outputs", "message"), [
    ({"Priority": 150}, "output Priority must be a whole number 0..100, got 150"),
    ({"Priority": 2.5}, "output Priority must be a whole number 0..100, got 2.5"),
    ({"Priority": "high"}, "output Priority must be a whole number 0..100, got 'high'"),
    ({"Priority": True}, "output Priority must be a whole number 0..100, got True"),
    ({"AgentSeconds": 0}, "output AgentSeconds must be a whole number 1..120, got 0"),
    ({"SkipIvr": "yes"}, "output SkipIvr must be true or false, got 'yes'"),
    ({"Queue": 5}, "output Queue must be text, got 5"),
    ({"AgentUserId": "bob"}, "output AgentUserId must be a user id (005…), got 'bob'"),
    ({"AgentUserId": "00G000000000001AAA"}, "must be a user id"),
])
def test_bad_outputs_are_refused_naming_the_flow_and_the_output(outputs, message):
    with pytest.raises(InvalidDecision, match="^flow F: .*" + message.replace("(", r"\(").replace(")", r"\)")):
        logic.decision_from_outputs("F", outputs, {})


@pytest.mark.parametrize(("config", "message"), [
    ({"flw": "X"}, "unknown setting"),
    ({"flow": "Bad Name"}, "not a flow API name"),
    ({"flows": ["cs-en"]}, "'flows' must map queue names"),
    ({"flows": {"cs-en": "x-y"}}, "not a flow API name"),
    ({"outputs": {"prio": "P"}}, "unknown output field"),
    ({"outputs": {"priority": "has space"}}, "not a flow variable name"),
])
def test_a_bad_config_is_refused_clearly(config, message):
    with pytest.raises(logic.FlowConfigError, match=message):
        logic.check_config(config)


# the hook ---------------------------------------------------------------------------------------------------
class FakeSalesforceData:
    """The ``salesforce`` argument: a caller, a flow's outputs (or an error), and linked users."""

    def __init__(self, outputs: dict[str, Any] | Exception, contact: dict[str, Any] | None = None) -> None:
        self.outputs, self.contact = outputs, contact
        self.flows: list[tuple[str, dict[str, Any]]] = []
        self.callers: list[str] = []

    def caller(self, number: str, fields: Any = None) -> dict[str, Any]:
        self.callers.append(number)
        return {"kind": "single" if self.contact else "none", "contact": self.contact, "account": None,
                "lead": None, "case": None}

    def invoke_flow(self, api_name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        self.flows.append((api_name, inputs))
        if isinstance(self.outputs, Exception):
            raise self.outputs
        return self.outputs

    def agent_for_user(self, user_id: str) -> str | None:
        return {USER[:15]: "agent1"}.get(user_id[:15])


class FakePresence:
    """The ``presence`` argument: every agent Available unless listed otherwise."""

    def __init__(self, views: dict[str, dict[str, Any]] | None = None) -> None:
        self.views = views or {}

    def status(self, agent: str) -> dict[str, Any] | None:
        return self.views.get(agent, {"kind": "available", "status": "Available", "system": None, "wrapup": None})


def route(data: FakeSalesforceData, config: dict[str, Any], presence: FakePresence | None = None,
          **call: Any) -> Decision | None:
    return plugin.route_call(call={**CALL, **call}, salesforce=data,  # type: ignore[arg-type]
                             presence=presence or FakePresence(), config=config)


def test_the_dialled_queues_flow_runs_with_the_calls_inputs_and_the_identified_caller():
    data = FakeSalesforceData({"Queue": "cs-fi", "SkipIvr": True, "AgentUserId": USER, "Reason": "Finnish VIP"},
                              contact={"Id": "003000000000001AAA", "AccountId": "001000000000001AAA"})
    config = {"flow": CASE_OWNER, "flows": {"cs-en": LANGUAGE_VIP}}
    decision = route(data, config)
    assert data.flows == [(LANGUAGE_VIP, {
        "CallerNumber": DEMO_CALLER_NUMBER, "CallerName": "Maija", "DialledNumber": "+35891000001",
        "Queue": "cs-en", "CallId": "1700000000.1", "ContactId": "003000000000001AAA",
        "AccountId": "001000000000001AAA"})]
    assert decision is not None
    assert (decision.queue, decision.skip_ivr, decision.agent, decision.reason) == ("cs-fi", True, "agent1",
                                                                                    "Finnish VIP")
    route(data, config, queue="sales")
    assert data.flows[-1][0] == CASE_OWNER  # ``flow`` is every other queue's


def test_without_identify_only_the_calls_own_inputs_go_and_nobody_is_looked_up():
    data = FakeSalesforceData({"Priority": 10}, contact={"Id": "003000000000001AAA"})
    assert route(data, {"flow": LANGUAGE_VIP, "identify": False}, caller_name="") is not None
    assert data.callers == [] and set(data.flows[0][1]) == {"CallerNumber", "DialledNumber", "Queue", "CallId"}


def test_no_flow_for_the_queue_or_no_change_lets_the_next_plugin_decide():
    data = FakeSalesforceData({"Queue": "cs-en", "Reason": "Caller not identified."})
    assert route(data, {}) is None and data.flows == []
    assert route(data, {"flows": {"sales": CASE_OWNER}}) is None and data.flows == []
    assert route(data, {"flows": {"cs-en": None}, "flow": CASE_OWNER}) is None and data.flows == []
    assert route(data, {"flow": CASE_OWNER}) is None and data.flows[0][0] == CASE_OWNER


def test_a_failing_flow_or_bad_outputs_raise_so_the_call_takes_the_default_path():
    with pytest.raises(FlowError):
        route(FakeSalesforceData(FlowError(LANGUAGE_VIP, [{"statusCode": "X", "message": "boom"}])),
              {"flow": LANGUAGE_VIP})
    with pytest.raises(InvalidDecision, match="Priority"):
        route(FakeSalesforceData({"Priority": "urgent"}), {"flow": LANGUAGE_VIP})


def test_the_plugin_is_installed_as_an_entry_point_and_its_answer_reaches_the_router():
    pm = plugin_manager({"salesforce_flow": {"enabled": True, "flow": LANGUAGE_VIP}})
    status = {s.name: s for s in pm.statuses}["salesforce_flow"]
    assert status.status == "loaded" and status.hooks == ("route_call", "startup")
    impl = next(i for i in pm.hook.route_call.get_hookimpls() if i.plugin_name == "salesforce_flow")
    data = FakeSalesforceData({"Priority": 50})
    decision = impl.function(CALL, data, FakePresence(), {"flow": LANGUAGE_VIP})  # in the spec's order
    assert isinstance(decision, Decision) and decision.priority == 50


# the templates ------------------------------------------------------------------------------------------
INPUTS = {"CallerNumber", "CallerName", "DialledNumber", "Queue", "CallId", "ContactId", "AccountId"}


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_is_an_active_autolaunched_flow_declaring_what_the_plugin_sends_and_reads(name):
    path = SOURCE_ROOT / "flows" / f"{name}.flow-meta.xml"
    assert path.parent == PACKAGE_FLOWS
    root = parse(path)  # raises when not well formed
    assert root.tag == q("Flow")
    assert (text(root, "processType"), text(root, "status"), text(root, "isTemplate")) == (
        "AutoLaunchedFlow", "Active", "true")
    assert text(root, "label") and text(root, "description") and text(root, "apiVersion") == "62.0"
    variables = {text(v, "name"): v for v in root.findall(q("variables"))}
    inputs = {n for n, v in variables.items() if text(v, "isInput") == "true"}
    outputs = {n for n, v in variables.items() if text(v, "isOutput") == "true"}
    assert inputs == INPUTS
    assert outputs == set(logic.DEFAULT_OUTPUTS.values())
    types = {n: text(v, "dataType") for n, v in variables.items()}
    assert (types["Priority"], types["AgentSeconds"], types["SkipIvr"]) == ("Number", "Number", "Boolean")
    assert all(types[n] == "String" for n in INPUTS)
    assert {text(e, "object") for e in root.findall(q("recordLookups"))} >= {"Contact"}
    assert root.findall(q("decisions")) and root.findall(q("assignments"))
    tags = [child.tag for child in root]
    assert tags == sorted(tags, key=lambda t: t.lower()), "Metadata API order: element kinds alphabetically"


def test_the_integration_permission_set_may_run_flows():
    root = parse(SOURCE_ROOT / "permissionsets" / "Switchboard_Integration.permissionset-meta.xml")
    assert "RunFlow" in {text(u, "name") for u in root.findall(q("userPermissions")) if text(u, "enabled") == "true"}


@pytest.fixture(scope="module")
def demo() -> Store:
    store = Store()
    apply_seed(store, "demo", Credentials())
    return store


def run(store: Store, name: str, **inputs: Any) -> dict[str, Any]:
    flow = load_flow_sources("package").get(name)
    assert flow is not None
    out = flow.run(store, {"Queue": "cs-en", **inputs}, version="59.0")
    return {k: v for k, v in out.items() if v is not None and not k.startswith("Flow__")}


def maija(store: Store) -> dict[str, Any]:
    return next(c for c in store.records("Contact") if f"{c['FirstName']} {c['LastName']}" == DEMO_CONTACT_NAME)


def test_language_template_sends_a_known_finnish_gold_caller_past_the_menu_to_cs_fi(demo):
    out = run(demo, LANGUAGE_VIP, ContactId=maija(demo)["Id"])
    assert out == {"Queue": "cs-fi", "SkipIvr": True, "Priority": 80,
                   "Reason": "Language fi: cs-fi without the language menu. Gold SLA: priority 80. "}
    decision = logic.decision_from_outputs(LANGUAGE_VIP, out, {})
    assert (decision.queue, decision.skip_ivr, decision.priority, decision.agent) == ("cs-fi", True, 80, None)
    # The flow's own lookup matches the number exactly as stored, as Salesforce's Get Records does.
    assert run(demo, LANGUAGE_VIP, CallerNumber=maija(demo)["Phone"])["Queue"] == "cs-fi"
    assert run(demo, LANGUAGE_VIP, CallerNumber="+1 555 0100") == {"Queue": "cs-en", "SkipIvr": False,
                                                                   "Reason": "Caller not identified."}


def test_case_owner_template_names_the_owner_of_the_contacts_most_recent_open_case(demo):
    contact = maija(demo)
    case = max((c for c in demo.records("Case") if c["ContactId"] == contact["Id"] and c["Status"] != "Closed"),
               key=lambda c: c["CreatedDate"])
    out = run(demo, CASE_OWNER, ContactId=contact["Id"])
    assert out == {"Queue": "cs-en", "SkipIvr": False, "AgentUserId": case["OwnerId"], "AgentSeconds": 20,
                   "FallbackQueue": "cs-en", "Reason": f"Open case {case['CaseNumber']}: its owner first."}
    assert run(demo, CASE_OWNER)["Reason"] == "Caller not identified."


def test_package_flows_load_from_the_folder_and_the_emulator_refuses_what_it_cannot_run(tmp_path: Path):
    assert set(load_flow_sources(PACKAGE_FLOWS).flows) == set(TEMPLATES)
    source = (PACKAGE_FLOWS / f"{CASE_OWNER}.flow-meta.xml").read_text()
    bad = tmp_path / "Bad.flow-meta.xml"
    bad.write_text(source.replace("<decisions>", "<loops><name>L</name></loops><decisions>", 1))
    with pytest.raises(ValueError, match="element <loops> is not supported"):
        load_flow_sources(bad)


def test_a_preferred_agent_who_cannot_answer_is_not_rung_and_the_caller_goes_to_the_fallback_queue():
    data = FakeSalesforceData({"Queue": "cs-en", "AgentUserId": USER, "FallbackQueue": "cs-fi", "Reason": "Owner"})
    in_a_call = {"kind": "available", "status": "Available", "system": {"name": "In a Call", "kind": "busy"},
                 "wrapup": None}
    decision = route(data, {"flow": CASE_OWNER}, FakePresence({"agent1": in_a_call}))
    assert decision is not None
    assert (decision.agent, decision.queue) == (None, "cs-fi")
    assert decision.reason == "Owner (agent agent1 is not available)"
    assert route(data, {"flow": CASE_OWNER}).agent == "agent1"  # Available: rung first
