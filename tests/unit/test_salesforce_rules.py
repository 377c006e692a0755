"""The salesforce_rules plugin: rule files checked with line numbers, evaluated over a caller's records,
preferred agents only when Available, first-rule-wins merging and ``stop``; wired through pluggy."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from typing import Any

import pytest

import plugins.salesforce_rules as plugin
from plugins.salesforce_rules import loading
from plugins.salesforce_rules.rules import RulesError, check_rules, evaluate, is_available, parse_rules, route
from switchboard.plugins import plugin_manager
from switchboard.routing import Decision, check

AGENT1_USER = "005000000000001AAA"
AGENT2_USER = "005000000000002AAA"
NOBODY_USER = "005000000000009AAA"
AVAILABLE = {"agent": "agent1", "status": "Available", "kind": "available", "system": None, "wrapup": None}
IN_A_CALL = {**AVAILABLE, "system": {"name": "In a Call", "kind": "busy", "since": 1.0}}
LUNCH = {**AVAILABLE, "status": "Lunch (45 min)", "kind": "busy"}
NOW = 1_000_000.0
CALL = {"call_id": "c1", "channel_id": "c1", "caller_number": "+358401234567", "caller_name": "Maija",
        "dialled": "+35891000001", "queue": "cs-en", "ivr": "language"}
DEMO = Path(plugin.__file__).parent / "demo_rules.yaml"


def caller(account: dict[str, Any] | None = None, contact: dict[str, Any] | None = None,
           case: dict[str, Any] | None = None, kind: str = "single") -> dict[str, Any]:
    return {"kind": kind, "contact": contact, "account": account, "lead": None, "case": case}


class FakeSalesforce:
    """Records what the plugin asked; answers with one caller."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.asked: list[tuple[str, dict[str, list[str]] | None]] = []

    def caller(self, number: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
        self.asked.append((number, fields))
        return self.answer

    def invoke_flow(self, api_name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("rules run no flows")

    def agent_for_user(self, user_id: str) -> str | None:
        return {AGENT1_USER: "agent1", AGENT2_USER: "agent2"}.get(user_id)


class FakePresence:
    def __init__(self, **views: dict[str, Any]) -> None:
        self.views = views

    def status(self, agent: str) -> dict[str, Any] | None:
        return self.views.get(agent)


def rules_of(text: str):  # noqa: ANN201
    return parse_rules(textwrap.dedent(text))


def run(text: str, answer: dict[str, Any], call: dict[str, Any] | None = None, **presence: dict[str, Any],
        ) -> Decision | None:
    sf = FakeSalesforce(answer)
    return evaluate(rules_of(text), call or CALL, answer, sf.agent_for_user, FakePresence(**presence).status, NOW)


# checking ---------------------------------------------------------------------------------------------------
def test_the_demo_rules_are_valid_and_name_only_queues_that_exist():
    assert check_rules(DEMO, queues={"cs-en", "cs-fi", "sales"}) == []
    assert check_rules("demo") == []


def test_each_problem_is_reported_with_its_line_and_rule():
    errors = check_rules(textwrap.dedent("""\
        rules:
          - name: finnish
            when:
              acount.Language__c: fi
            then: {queue: cs-fi}
          - name: gold
            when:
              account.SLA__c: {eq: Gold}
            then:
              priority: 101
              agent_seconds: 10
          - name: finnish
            then: {skip_ivr: yes please}
        """))
    assert errors == [
        "line 4: rule 'finnish': unknown path 'acount.Language__c'; paths are contact.<Field>, account.<Field>, "
        "case.<Field>, lead.<Field>, call.queue, call.dialled, call.caller_number, call.caller_name, call.ivr, "
        "caller.kind",
        "line 8: rule 'gold': account.SLA__c: unknown operator 'eq'; known: equals, not_equals, in, not_in, "
        "exists, gt, gte, lt, lte, starts_with, contains",
        "line 10: rule 'gold': then: priority: must be a whole number 0..100",
        "line 11: rule 'gold': agent_seconds needs agent_from",
        "line 13: rule 'finnish': then: skip_ivr: must be true or false",
    ]


def test_a_yaml_syntax_error_names_its_line():
    errors = check_rules("rules:\n  - name: a\n    then: {queue: cs-fi\n  - name: b\n")
    assert len(errors) == 1 and errors[0].startswith("line 4: not valid YAML")


def test_duplicate_names_keys_and_unknown_fields_are_refused():
    errors = check_rules(textwrap.dedent("""\
        - name: a
          then: {queue: cs-fi}
        - name: a
          then: {queue: cs-en}
          then: {queue: sales}
          queue: sales
          otherwise: {priority: 100}
        """))
    assert "line 5: rule 'a': 'then' is given twice" in errors
    assert "line 6: rule 'a': unknown key 'queue'; a rule has name, when, then, otherwise, stop" in errors
    assert ("line 7: rule 'a': 'otherwise' applies when the agent of 'agent_from' is not Available: "
            "it needs then.agent_from") in errors


def test_a_queue_that_does_not_exist_is_refused_when_the_queues_are_known():
    text = "- name: a\n  then: {queue: vip}\n"
    assert check_rules(text) == []
    assert check_rules(text, queues={"cs-en"}) == ["line 2: rule 'a': then: queue: there is no queue 'vip'"]


def test_check_rules_reads_a_file_and_reports_one_it_cannot_read(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text("- name: a\n  when: {call.queue: sales}\n  then: {priority: 200}\n")
    assert check_rules(path) == ["line 3: rule 'a': then: priority: must be a whole number 0..100"]
    assert check_rules(str(path)) == check_rules(path)
    assert check_rules(tmp_path / "missing.yaml")[0].startswith("cannot read")


def test_an_already_parsed_list_is_checked_without_line_numbers():
    with pytest.raises(RulesError) as exc:
        parse_rules([{"name": "a", "then": {"queue": "bad name"}}])
    assert exc.value.errors == ["rule 'a': then: queue: 'bad name' is not a queue name"]


def test_the_fields_asked_are_those_the_rules_read():
    rules = parse_rules(DEMO.read_text())
    assert rules.fields() == {"Account": ["Language__c", "VIP__c", "OwnerId", "SLA__c"], "Case": ["OwnerId"]}
    only_call = rules_of("- name: sales\n  when: {call.queue: sales}\n  then: {priority: 10}\n")
    assert not only_call.needs_caller()


# evaluating ---------------------------------------------------------------------------------------------------
def test_a_finnish_speaking_account_goes_to_the_finnish_queue_past_the_menu():
    d = run(DEMO.read_text(), caller(account={"Id": "001A", "Language__c": "FI", "SLA__c": "Silver"}))
    assert d is not None
    assert (d.queue, d.skip_ivr, d.priority, d.agent) == ("cs-fi", True, None, None)
    assert d.rules == ("finnish-speaking",)
    assert d.data == {"account.Language__c": "FI", "call.ivr": "language"}
    assert d.reason == "finnish-speaking: queue cs-fi, skip IVR"


def test_gold_and_platinum_accounts_get_priority_but_silver_does_not():
    for sla, priority in (("Gold", 50), ("platinum", 50), ("Silver", None)):
        d = run(DEMO.read_text(), caller(account={"Id": "001A", "Language__c": "en", "SLA__c": sla}))
        assert (d.priority if d else None) == priority


def test_the_open_case_owner_rings_first_when_available():
    answer = caller(contact={"Id": "003A"}, case={"Id": "500A", "OwnerId": AGENT2_USER})
    d = run(DEMO.read_text(), answer, agent2={**AVAILABLE, "agent": "agent2"})
    assert d is not None and (d.agent, d.agent_seconds, d.queue) == ("agent2", 15, None)
    assert d.data == {"case.OwnerId": AGENT2_USER, "presence agent2": "Available"}
    check(d, {"cs-en"})  # what the router does: the decision can be carried out


def test_the_case_owner_on_a_call_or_at_lunch_or_not_an_agent_leaves_the_queue_as_it_is():
    answer = caller(contact={"Id": "003A"}, case={"Id": "500A", "OwnerId": AGENT2_USER})
    assert run(DEMO.read_text(), answer, agent2=IN_A_CALL) is None
    assert run(DEMO.read_text(), answer, agent2=LUNCH) is None
    assert run(DEMO.read_text(), answer) is None  # no presence: an unknown agent
    assert run(DEMO.read_text(), caller(case={"Id": "500A", "OwnerId": NOBODY_USER})) is None


def test_a_vip_gets_the_account_owner_when_available_else_the_front_of_the_queue():
    vip = caller(account={"Id": "001A", "VIP__c": True, "OwnerId": AGENT1_USER, "SLA__c": "Gold",
                          "Language__c": "en"})
    owner_free = run(DEMO.read_text(), vip, agent1=AVAILABLE)
    assert owner_free is not None
    assert (owner_free.agent, owner_free.agent_seconds, owner_free.priority) == ("agent1", 20, 50)
    assert owner_free.rules == ("english-speaking", "vip", "gold-sla")
    owner_busy = run(DEMO.read_text(), vip, agent1=IN_A_CALL)
    assert owner_busy is not None and (owner_busy.agent, owner_busy.priority) == (None, 100)
    assert owner_busy.reason == ("english-speaking: queue cs-en, skip IVR; vip: agent1 is In a Call; priority 100; "
                                 "gold-sla: nothing new")
    assert owner_busy.data["presence agent1"] == "In a Call"


def test_an_agent_in_wrap_up_is_not_available_until_it_is_over():
    wrapping = {**AVAILABLE, "wrapup": {"call_id": "x", "queue": "cs-en", "until": NOW + 30, "codes": [],
                                        "required": False}}
    assert not is_available(wrapping, NOW)
    assert is_available(wrapping, NOW + 31)
    assert not is_available({**wrapping, "wrapup": {**wrapping["wrapup"], "required": True, "until": None}}, NOW)
    assert not is_available(None, NOW)


def test_the_first_rule_to_set_a_field_wins_and_later_rules_add_the_rest():
    d = run("""\
        - name: first
          when: {account.SLA__c: Gold}
          then: {priority: 80}
        - name: second
          when: {account.SLA__c: {exists: true}}
          then: {priority: 10, queue: sales, announcement: welcome/gold}
        """, caller(account={"Id": "001A", "SLA__c": "gold"}))
    assert d is not None
    assert (d.priority, d.queue, d.announcement) == (80, "sales", "welcome/gold")
    assert d.reason == "first: priority 80; second: queue sales, announcement welcome/gold"


def test_stop_ends_the_evaluation():
    d = run("""\
        - name: vip-pool
          when: {account.VIP__c: true}
          then: {queue: sales, priority: 100}
          stop: true
        - name: finnish
          when: {account.Language__c: fi}
          then: {queue: cs-fi, skip_ivr: true}
        """, caller(account={"Id": "001A", "VIP__c": True, "Language__c": "fi"}))
    assert d is not None and (d.queue, d.skip_ivr, d.rules) == ("sales", False, ("vip-pool",))


def test_a_list_of_conditions_is_an_or_and_operators_read_the_call_and_caller():
    text = """\
        - name: known-or-sales
          when:
            - {caller.kind: single, contact.Title: {contains: director}}
            - {call.queue: {in: [sales]}, call.dialled: {starts_with: "+358"}}
          then: {priority: 30}
        """
    director = caller(contact={"Id": "003A", "Title": "Creative Director"})
    assert run(text, director).priority == 30
    assert run(text, caller(kind="none")) is None
    d = run(text, caller(kind="none"), call={**CALL, "queue": "sales"})
    assert d is not None and d.data == {"call.queue": "sales", "call.dialled": "+35891000001"}


def test_no_matching_rule_and_no_caller_answer_none():
    assert run(DEMO.read_text(), caller(kind="none")) is None


def test_route_asks_salesforce_for_the_fields_of_the_rules_and_only_when_a_rule_reads_a_record():
    sf = FakeSalesforce(caller(account={"Id": "001A", "Language__c": "fi"}))
    d = route(parse_rules(DEMO.read_text()), CALL, sf, FakePresence())
    assert d is not None and d.queue == "cs-fi"
    assert sf.asked == [("+358401234567", {"Account": ["Language__c", "VIP__c", "OwnerId", "SLA__c"],
                                           "Case": ["OwnerId"]})]
    only_call = rules_of("- name: sales\n  when: {call.queue: sales}\n  then: {priority: 10}\n")
    sf.asked.clear()
    assert route(only_call, {**CALL, "queue": "sales"}, sf, None).priority == 10
    assert sf.asked == []


# the plugin ---------------------------------------------------------------------------------------------------
def hook(config: dict[str, Any], sf: FakeSalesforce, presence: FakePresence | None = None) -> Any:
    pm = plugin_manager({"salesforce_rules": config}, load_entrypoints=False)
    pm.register(plugin, name="salesforce_rules")
    return pm.hook.route_call(call=dict(CALL), salesforce=sf, presence=presence or FakePresence(), config={})


def test_the_plugin_routes_by_its_rules_file(tmp_path: Path):
    sf = FakeSalesforce(caller(account={"Id": "001A", "Language__c": "fi", "SLA__c": "Gold"}))
    d = hook({"rules_file": str(DEMO)}, sf)
    assert isinstance(d, Decision) and (d.queue, d.skip_ivr, d.priority) == ("cs-fi", True, 50)
    assert hook({"rules_file": "demo"}, sf) == d


def test_the_plugin_takes_inline_rules_as_text_or_as_a_list():
    sf = FakeSalesforce(caller(account={"Id": "001A", "Language__c": "sv"}))
    text = "- name: swedish\n  when: {account.Language__c: sv}\n  then: {queue: sales}\n"
    assert hook({"rules": text}, sf).queue == "sales"
    listed = [{"name": "swedish", "when": {"account.Language__c": "sv"}, "then": {"queue": "cs-en"}}]
    assert hook({"rules": listed}, sf).queue == "cs-en"


def test_invalid_rules_are_logged_with_their_line_once_and_route_nothing(caplog: pytest.LogCaptureFixture):
    sf = FakeSalesforce(caller(account={"Id": "001A", "Language__c": "fi"}))
    config = {"rules": "- name: broken\n  when: {account.Language__c: fi}\n  then: {queue: cs-fi, priority: high}\n"}
    with caplog.at_level(logging.ERROR, logger="plugins.salesforce_rules"):
        assert hook(config, sf) is None
        assert hook(config, sf) is None
    errors = [r.getMessage() for r in caplog.records]
    assert errors.count("salesforce_rules: inline rules: line 3: rule 'broken': then: priority: must be a whole "
                        "number 0..100") == 1
    assert sf.asked == []


def test_an_edited_rules_file_applies_to_the_next_call(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text("- name: a\n  when: {account.Language__c: fi}\n  then: {queue: cs-fi}\n")
    sf = FakeSalesforce(caller(account={"Id": "001A", "Language__c": "fi"}))
    assert hook({"rules_file": str(path)}, sf).queue == "cs-fi"
    path.write_text("- name: a\n  when: {account.Language__c: fi}\n  then: {queue: sales, priority: 5}\n")
    assert hook({"rules_file": str(path)}, sf).queue == "sales"


def test_without_rules_or_with_a_missing_file_the_plugin_routes_nothing(tmp_path: Path):
    sf = FakeSalesforce(caller(account={"Id": "001A", "Language__c": "fi"}))
    assert hook({}, sf) is None
    assert hook({"rules_file": str(tmp_path / "nope.yaml")}, sf) is None


def test_startup_checks_the_rules_once(monkeypatch: pytest.MonkeyPatch):
    book = loading.RuleBook()
    monkeypatch.setattr(plugin, "BOOK", book)
    parsed: list[Any] = []
    real = loading.parse_rules
    monkeypatch.setattr(loading, "parse_rules", lambda source: parsed.append(source) or real(source))
    plugin.startup(process="orchestrator", config={"rules_file": "demo"})
    sf = FakeSalesforce(caller(account={"Id": "001A", "Language__c": "fi"}))
    plugin.route_call(call=dict(CALL), salesforce=sf, presence=FakePresence(), config={"rules_file": "demo"})
    assert len(parsed) == 1
