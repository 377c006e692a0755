"""Routing decisions and their traces: what a plugin may answer, what is refused, what the dialplan is
given, how the route_call chain keeps its one deadline, and what a supervisor reads."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from control import cli
from orchestrator.routing import ask_plugins
from switchboard.hookspecs import hookimpl
from switchboard.plugins import plugin_manager
from switchboard.routing import Decision, InvalidDecision, channel_variables, check, coerce, explain
from switchboard.store import Store

QUEUES = {"cs-en", "cs-fi", "sales", "vip"}
CALL = {"channel_id": "1700000000.1", "call_id": "1700000000.1", "caller_number": "+358401234567",
        "caller_name": "Maija", "dialled": "+35891000004", "queue": "cs-en", "ivr": "language"}


def test_a_plugin_may_answer_a_decision_a_dict_or_a_queue_name():
    assert coerce("cs-fi") == Decision(queue="cs-fi")
    assert coerce({"priority": 5, "rules": ["a"]}) == Decision(priority=5, rules=("a",))
    assert coerce(None) is None and coerce("") is None
    with pytest.raises(InvalidDecision, match="unknown decision field"):
        coerce({"queeu": "cs-fi"})
    with pytest.raises(InvalidDecision, match="expected a Decision"):
        coerce(42)


@pytest.mark.parametrize("decision, problem", [
    (Decision(queue="nope"), "queue 'nope' is not a queue"),
    (Decision(fallback_queue="nope", agent="agent1"), "fallback_queue"),
    (Decision(agent="agent1;Hangup"), "not a SIP user name"),
    (Decision(priority=101), "priority"),
    (Decision(priority=-1), "priority"),
    (Decision(agent="agent1", agent_seconds=0), "agent_seconds"),
    (Decision(announcement="../../etc/passwd"), "not a sound name"),
])
def test_a_decision_that_cannot_be_carried_out_is_refused_with_the_reason(decision, problem):
    with pytest.raises(InvalidDecision, match=problem):
        check(decision, QUEUES)


def test_the_dialplan_is_given_only_what_the_decision_sets():
    assert channel_variables(Decision(queue="cs-en"), "cs-en") == {}
    assert channel_variables(Decision(queue="cs-fi", skip_ivr=True, priority=10), "cs-en") == {
        "__SB_QUEUE": "cs-fi", "SB_SKIP_IVR": "1", "SB_PRIO": "10"}
    assert channel_variables(Decision(agent="agent2", agent_seconds=8), "cs-en") == {
        "SB_AGENT": "agent2", "SB_AGENT_SECONDS": "8", "SB_FALLBACK": "cs-en"}
    assert channel_variables(Decision(agent="agent2", fallback_queue="vip"), "cs-en")["SB_FALLBACK"] == "vip"


class Answers:
    def __init__(self, answer, sleep: float = 0.0, fail: bool = False):
        self.answer, self.sleep, self.fail = answer, sleep, fail

    @hookimpl
    def route_call(self, call):
        time.sleep(self.sleep)
        if self.fail:
            raise RuntimeError("Salesforce is down")
        return self.answer


def chain(*plugins, timeout: float = 0.5):
    pm = plugin_manager(load_entrypoints=False)
    for i, p in enumerate(plugins):  # pluggy asks the last registered first
        pm.register(p, name=f"p{i}")
    return ask_plugins(pm, dict(CALL), time.monotonic() + timeout, {"salesforce": None, "presence": None})


def test_the_first_answer_wins_and_the_trace_names_the_plugin_and_every_plugin_asked():
    decision, trace = chain(Answers("sales"), Answers(None))
    assert decision == Decision(queue="sales")
    assert (trace.outcome, trace.plugin) == ("decided", "p0")
    assert [s["plugin"] for s in trace.steps] == ["p1", "p0"]


def test_a_failing_plugin_is_skipped_and_noted_and_the_next_one_decides():
    decision, trace = chain(Answers("sales"), Answers(None, fail=True))
    assert decision == Decision(queue="sales") and trace.outcome == "decided"
    assert "Salesforce is down" in trace.steps[0]["error"] and "Salesforce is down" in trace.error


def test_when_every_plugin_fails_the_outcome_is_error_and_no_decision():
    decision, trace = chain(Answers(None, fail=True))
    assert decision is None and trace.outcome == "error"


def test_a_hanging_plugin_ends_the_chain_at_the_deadline():
    t0 = time.monotonic()
    decision, trace = chain(Answers("sales"), Answers("cs-fi", sleep=2), timeout=0.3)
    assert decision is None and trace.outcome == "timeout" and trace.plugin == "p1"  # the one asked first
    assert time.monotonic() - t0 < 0.6
    assert len(trace.steps) == 1  # the plugin after it was not asked: the deadline had passed


def test_nobody_deciding_is_the_default_path():
    decision, trace = chain(Answers(None))
    assert decision is None and trace.outcome == "default"


TRACE = {"call_id": "1700000000.7", "at": 1_700_000_000.0, "caller_number": "<script>alert(1)</script>",
         "dialled": "+35891000004", "queue": "cs-en", "outcome": "decided", "plugin": "salesforce_rules",
         "took_ms": 3.2, "error": "", "steps": [{"plugin": "salesforce_rules", "answer": {}, "ms": 3.1}],
         "decision": {"queue": "cs-fi", "skip_ivr": True, "priority": None, "agent": None, "agent_seconds": 20,
                      "fallback_queue": None, "announcement": None, "reason": "contact speaks Finnish",
                      "rules": ["finnish-speakers"], "data": {"account.Language__c": "fi"}}}


def test_the_explanation_says_who_decided_where_why_and_on_which_data():
    text = explain(TRACE)
    for said in ("outcome: decided by plugin salesforce_rules in 3.2 ms", "queue: cs-fi", "skip IVR: True",
                 "reason: contact speaks Finnish", "rules matched: finnish-speakers", "data account.Language__c = fi"):
        assert said in text


def test_switchboard_route_explain_prints_the_stored_trace(database_url, monkeypatch, tmp_path):
    Store(database_url).save_trace(TRACE)
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", database_url)
    runner = CliRunner()
    base = ["--state-dir", str(tmp_path)]
    result = runner.invoke(cli.main, [*base, "route", "explain", "1700000000.7"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "rules matched: finnish-speakers" in result.output
    missing = runner.invoke(cli.main, [*base, "route", "explain", "nope"])
    assert missing.exit_code != 0 and "no routing trace for call 'nope'" in missing.output
    recent = runner.invoke(cli.main, [*base, "route", "recent"])
    assert "1700000000.7" in recent.output and "queue=cs-fi" in recent.output


def test_a_supervisor_reads_why_a_call_went_where_it_did_and_an_agent_may_not(settings, database_url):
    from tests.support.web import csrf_from
    from web import create_app

    Store(database_url).save_trace(TRACE)
    app = create_app(settings)
    app.config["TESTING"] = True

    def login(username: str, password: str):  # noqa: ANN202
        client = app.test_client()
        client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(client)})
        return client

    sam = login("sam", "pw-sam")
    page = sam.get("/admin/routing").get_data(as_text=True)
    assert "contact speaks Finnish" in page and "salesforce_rules" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    one = sam.get("/api/route/1700000000.7").get_json()
    assert one["decision"]["queue"] == "cs-fi" and "rules matched: finnish-speakers" in one["explanation"]
    assert sam.get("/api/route/unknown").status_code == 404
    alice = login("alice1", "pw1")
    assert alice.get("/admin/routing").status_code == 403
    assert alice.get("/api/route/1700000000.7").status_code == 403
