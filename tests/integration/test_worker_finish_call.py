# ruff: noqa: F811
"""finish_call end to end: emulator process, SQLite store, real redis-server and RQ workers."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from rq import Queue, SimpleWorker

from sfemu.seed import DEMO_ACCOUNT_NAME, DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME
from sfemu.testing import REPO_ROOT
from switchboard.callerid import cache_key
from switchboard.contracts import WARMUP_KEY, push_warmup
from switchboard.salesforce import soql_quote
from tests.support.worker import (  # noqa: F401  (fixtures)
    CREDS,
    api_paths,
    call_history,
    database_url,
    emulator,
    emulator_url,
    flush,
    make_call,
    redis_url,
    tasks_for,
    worker_env,
)
from worker import tasks
from worker.context import get_context, reset_context

pytestmark = pytest.mark.integration
def test_finish_call_twice_writes_one_task_with_the_call_fields(worker_env: dict[str, str],
                                                                database_url: str) -> None:
    call = make_call()
    assert tasks.finish_call(call) == "queued"
    assert flush() == 1
    tasks.finish_call(dict(call))  # a retried job after the Task was written: updates the same Task
    assert flush() == 1
    (task,) = tasks_for(call["call_id"])
    assert task["Id"].startswith("00T")
    assert task["Subject"] == f"Inbound call from {DEMO_CALLER_NUMBER} (Customer Service EN)"
    assert (task["Status"], task["TaskSubtype"], task["CallType"]) == ("Completed", "Call", "Inbound")
    assert (task["CallDurationInSeconds"], task["CallObject"], task["CallDisposition"], task["Call_Result__c"]) \
        == (120, call["call_id"], "answered", "answered")
    assert task["ActivityDate"] == "2024-06-03"
    assert (task["Phone_Number_2__c"], task["Service_Pool_Queue__c"]) == (DEMO_CALLER_NUMBER, "Customer Service EN")
    assert (task["Queue_Wait_Time__c"], task["Queue_Wait_Time_Sec__c"]) == ("00:00:07", 7)
    assert task["Call_End_Time__c"] == "2024-06-03T07:02:07.000+0000"
    assert task["Who"]["Name"] == DEMO_CONTACT_NAME and task["What"]["Name"] == DEMO_ACCOUNT_NAME
    (record,) = call_history(database_url, call["call_id"])
    assert record.sf_task_id == task["Id"] and record.agent == "agent1" and record.wait_seconds == 7


def test_a_batch_of_calls_costs_one_write_request_and_repeat_callers_no_lookup(
        worker_env: dict[str, str], emulator_url: str) -> None:
    get_context().client.salesforce()  # log in first: logins are not API requests
    emulator(emulator_url, "POST", "reset-log")
    for _ in range(5):
        tasks.finish_call(make_call())  # the same caller five times: one lookup
    tasks.finish_call(make_call(caller_number="+1 202 555 0199"))
    assert flush() == 6
    assert sorted(api_paths(emulator_url)) == ["composite", "search", "search"]
    snap = get_context().meter.snapshot()
    assert snap["calls_logged"] == 6 and snap["api_requests"] == 3 and snap["requests_per_call"] == 0.5
    assert snap["lookup_cache_hits"] == 4 and snap["lookup_cache_misses"] == 2
    assert snap["org_max"] > 0 and snap["org_remaining"] < snap["org_max"]


def test_metrics_expose_requests_per_call_and_the_org_budget_on_loopback_only(
        worker_env: dict[str, str], emulator_url: str) -> None:
    from web import create_app

    tasks.finish_call(make_call())
    tasks.finish_call(make_call(caller_number="+1 202 555 0199"))
    assert flush() == 2  # after one login: two lookups and one write
    usage = emulator(emulator_url, "GET", "health")["apiUsage"]
    app = create_app(dataclasses.replace(get_context().settings, secret_key="metrics-test"))
    response = app.test_client().get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = set(response.get_data(as_text=True).splitlines())
    assert {"switchboard_sf_api_requests_total 3", "switchboard_sf_logins_total 1",
            "switchboard_sf_call_activities_total 2", "switchboard_sf_requests_per_call 1.5",
            f"switchboard_sf_org_daily_requests_max {usage['max']}",
            f"switchboard_sf_org_daily_requests_remaining {usage['max'] - usage['used']}",
            "# TYPE switchboard_sf_api_requests_total counter",
            "# TYPE switchboard_sf_org_daily_requests_remaining gauge"} <= lines
    assert app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 404


def test_unknown_and_anonymous_callers_get_a_task_without_who(worker_env: dict[str, str], emulator_url: str) -> None:
    stranger = make_call(caller_number="+1 202 555 0199", direction="outbound", queue_label="", queue="")
    tasks.finish_call(stranger)
    anonymous = make_call(caller_number="anonymous", disposition="not answered", answered_at=None,
                          duration_seconds=0)
    get_context().client.salesforce()
    emulator(emulator_url, "POST", "reset-log")
    tasks.finish_call(anonymous)
    assert api_paths(emulator_url) == []  # no digits: no lookup
    flush()
    (task,) = tasks_for(stranger["call_id"])
    assert task["Who"] is None and task["Subject"] == "Outbound call to +1 202 555 0199"
    (task,) = tasks_for(anonymous["call_id"])
    assert task["CallDisposition"] == task["Call_Result__c"] == "not answered" and task["Who"] is None


@pytest.mark.parametrize("disposition", ["answered", "not answered"])
def test_a_wrap_up_code_fills_call_disposition_and_the_call_result_stays_on_the_task(
        worker_env: dict[str, str], disposition: str) -> None:
    call = make_call(disposition=disposition)
    tasks.finish_call(call)
    flush()
    assert tasks.set_wrapup_code(call["call_id"], "Manager Request") == "queued"
    flush()
    (task,) = tasks_for(call["call_id"])
    assert (task["CallDisposition"], task["Call_Result__c"]) == ("Manager Request", disposition)


def test_an_expired_session_costs_exactly_one_new_login(worker_env: dict[str, str], emulator_url: str) -> None:
    tasks.finish_call(make_call())
    flush()
    logins = emulator(emulator_url, "GET", "health")["logins"]
    emulator(emulator_url, "POST", "expire-sessions")
    calls = [make_call(caller_number=f"+35840555{i:04d}") for i in range(3)]
    for call in calls:
        tasks.finish_call(call)
    flush()
    assert emulator(emulator_url, "GET", "health")["logins"] == logins + 1
    for call in calls:
        assert len(tasks_for(call["call_id"])) == 1


def test_caller_lookup_is_cached_and_invalidated(worker_env: dict[str, str], emulator_url: str) -> None:
    result = get_context().directory.identify("040 123 4567")
    assert result["kind"] == "single" and result["records"][0]["Name"] == DEMO_CONTACT_NAME
    emulator(emulator_url, "POST", "reset-log")
    assert get_context().directory.identify("+358401234567") == result  # the same number in E.164: cached
    assert api_paths(emulator_url) == []
    get_context().directory.invalidate("+358 40 123 4567")
    get_context().directory.identify("+358401234567")
    assert api_paths(emulator_url) == ["search"]


def test_save_call_info_on_case_option_writes_one_case(worker_env: dict[str, str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_SF_CALL_INFO_ON_CASE", "true")
    monkeypatch.setenv("SWITCHBOARD_PUBLIC_URL", "https://switchboard.example.com")
    reset_context()
    call = make_call()
    tasks.finish_call(call)
    tasks.finish_call(call)
    flush()
    sf = get_context().client.salesforce()
    cases = sf.query("SELECT Id, Origin, Subject, Contact.Name, Call_Result__c, Service_Pool_Queue__c, "
                     f"Advanced_Call_Details__c FROM Case WHERE Call_Id__c = {soql_quote(call['call_id'])}")
    assert cases["totalSize"] == 1
    case = cases["records"][0]
    assert (case["Origin"], case["Call_Result__c"]) == ("Phone", "answered")
    assert case["Contact"]["Name"] == DEMO_CONTACT_NAME
    assert case["Advanced_Call_Details__c"] == f"https://switchboard.example.com/calls/{call['call_id']}"
    assert tasks_for(call["call_id"]) == []


def test_duplicate_jobs_through_rq_simple_worker_write_one_task(worker_env: dict[str, str],
                                                                 redis_url: str) -> None:
    connection = redis.from_url(redis_url)
    queue = Queue(worker_env["SWITCHBOARD_RQ_QUEUE"], connection=connection)
    call = make_call()
    first = tasks.enqueue_finish_call(queue, call)
    assert (first.retries_left, first.retry_intervals) == (8, [1, 2, 5, 10, 30, 60, 120, 300])  # as the orchestrator's
    second = queue.enqueue(tasks.finish_call, call)  # a duplicate under another job id
    assert SimpleWorker([queue], connection=connection).work(burst=True)
    first.refresh()
    second.refresh()
    assert first.is_finished and second.is_finished
    flush()
    assert len(tasks_for(call["call_id"])) == 1


def test_python_m_worker_runs_queued_jobs_in_forked_work_horses(worker_env: dict[str, str], redis_url: str,
                                                                database_url: str, tmp_path: Path) -> None:
    queue = Queue(worker_env["SWITCHBOARD_RQ_QUEUE"], connection=redis.from_url(redis_url))
    calls = [make_call(), make_call(caller_number="09 4250 1000")]
    jobs = [tasks.enqueue_finish_call(queue, c) for c in calls]
    env = {**os.environ, **worker_env, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-m", "worker", "--burst", "--fork"], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    for job, call in zip(jobs, calls, strict=True):
        job.refresh()
        assert job.is_finished, done.stderr[-3000:]
        (task,) = tasks_for(call["call_id"])
        assert call_history(database_url, call["call_id"])[0].sf_task_id == task["Id"]
    assert tasks_for(calls[1]["call_id"])[0]["Who"] is None  # two contacts share that number


def test_a_running_worker_warms_the_screen_pop_lookup_and_drops_a_stale_one(worker_env: dict[str, str],
                                                                            redis_url: str, tmp_path: Path) -> None:
    conn = redis.from_url(redis_url)
    fresh, stale = cache_key(DEMO_CALLER_NUMBER, "FI"), cache_key("09 4250 1000", "FI")
    assert fresh and stale and not conn.exists(fresh, stale)
    push_warmup(conn, "09 4250 1000", now=time.time() - 60)  # the phone rang long ago: not worth a request
    push_warmup(conn, DEMO_CALLER_NUMBER)
    env = {**os.environ, **worker_env, "PYTHONPATH": str(REPO_ROOT)}
    log = tmp_path / "worker.log"  # a file, not an unread pipe: a full pipe would block the worker's logging
    with log.open("wb") as out, subprocess.Popen([sys.executable, "-m", "worker"], env=env, cwd=REPO_ROOT,
                                                 stdout=out, stderr=subprocess.STDOUT) as proc:
        try:
            deadline = time.monotonic() + 30
            while not conn.exists(fresh) and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
            assert conn.exists(fresh), f"the warm-up did not fill the lookup cache:\n{log.read_text()[-3000:]}"
            assert json.loads(conn.get(fresh))["match"]["records"][0]["Name"] == DEMO_CONTACT_NAME
            assert conn.llen(WARMUP_KEY) == 0 and not conn.exists(stale)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                tail = log.read_text()[-3000:]
                raise AssertionError(f"the worker did not stop within 10 s of SIGTERM:\n{tail}") from None
