"""SOSL/SOQL escaping, phone search terms and the call-to-Task mapping (no network)."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sfemu.soql import tokenize
from sfemu.sosl import RESERVED, parse_term, scan_term
from switchboard.contracts import finish_call_job_id
from switchboard.salesforce import SOSL_MAX_TERM, phone_search_sosl, phone_search_terms, soql_quote, sosl_escape
from worker.activity import call_subject, case_fields, hms, related_ids, task_fields
from worker.tasks import call_record_columns

HOSTILE = st.text(alphabet=st.sampled_from(sorted(RESERVED) + list(" aZ0\n\t\x00é名'%_")), max_size=60) | st.text()


@pytest.mark.parametrize(("raw", "escaped"), [
    ("x} RETURNING User(Id)", r"x\} RETURNING User\(Id\)"),
    ("+358 40-123", r"\+358 40\-123"),
    ("a\\b", r"a\\b"),
    ('say "hi" & \'bye\'', r'say \"hi\" \& \'bye\''),
    ("cats or dogs", 'cats "or" dogs'),
    ("line\nbreak\x00", "line break"),
])
def test_sosl_escape_examples(raw: str, escaped: str) -> None:
    assert sosl_escape(raw) == escaped


@given(HOSTILE)
@example("x} RETURNING User(Id)")
@example("\\")
@example("a" * 5000)
def test_sosl_escape_yields_one_literal_term(text: str) -> None:
    escaped = sosl_escape(text)
    chars, end = scan_term("{" + escaped + "}", 0)
    assert end == len(escaped) + 2  # the term never ends early
    literal = "".join(c for c, _ in chars if c != '"' or _)
    expected = re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text)[:SOSL_MAX_TERM].strip()
    assert literal == expected
    assert all(escaped_flag for c, escaped_flag in chars if c in RESERVED and c != '"') or not chars
    if sum(1 for c, _ in chars if not c.isspace()) >= 2:
        term = parse_term(chars)
        assert len(term.alternatives) == 1 and not any(a.negate for a in term.alternatives[0])


@given(HOSTILE)
@example("O'Brien \\ \"x\" \n %_")
def test_soql_quote_round_trips_through_the_emulator_lexer(text: str) -> None:
    tokens = tokenize(soql_quote(text))
    assert [t.kind for t in tokens] == ["STRING", "EOF"]
    assert tokens[0].value == text


@pytest.mark.parametrize(("number", "terms"), [
    ("+358401234567", ["+358401234567", "0401234567", "401234567"]),
    ("040 123 4567", ["+358401234567", "0401234567", "401234567"]),
    ("+44 7700 900123", ["+447700900123", "07700900123", "7700900123"]),
    ("112", ["112"]),
    ("", []),
    ("anonymous", []),
    ("12", []),
    ("1" * 25, []),
])
def test_phone_search_terms(number: str, terms: list[str]) -> None:
    assert phone_search_terms(number, "FI") == terms


def test_phone_search_sosl_escapes_every_term() -> None:
    sosl = phone_search_sosl(["+358401234567", "0401234567"])
    assert sosl.startswith(r"FIND {\+358401234567 OR 0401234567} IN PHONE FIELDS RETURNING Contact(")


CALL = {
    "call_id": "1717400000.42", "direction": "inbound", "caller_number": "+358401234567", "caller_name": "",
    "queue": "cs-en", "queue_label": "Customer Service EN", "agent": "agent1", "disposition": "answered",
    "started_at": "2024-06-03T10:00:00+03:00", "answered_at": "2024-06-03T10:00:07+03:00",
    "ended_at": "2024-06-03T10:02:07+03:00", "wait_seconds": 7, "duration_seconds": 120,
}


def test_task_fields_for_an_identified_inbound_call() -> None:
    match = {"kind": "single", "records": [{"type": "Contact", "Id": "003A", "AccountId": "001A"}]}
    fields = task_fields({**CALL, "dialed": "+35891000001"}, match)
    assert fields == {
        "Subject": "Inbound call from +358401234567 (Customer Service EN)", "Status": "Completed",
        "TaskSubtype": "Call", "CallType": "Inbound", "CallDurationInSeconds": 120, "CallObject": "1717400000.42",
        "CallDisposition": "answered", "ActivityDate": "2024-06-03", "Phone_Number_2__c": "+358401234567",
        "Service_Pool_Queue__c": "Customer Service EN", "Queue_Wait_Time__c": "00:00:07",
        "Queue_Wait_Time_Sec__c": 7, "Call_End_Time__c": "2024-06-03T07:02:07Z",
        "Call_Date__c": "2024-06-03T07:00:00Z", "Phone_To__c": "+35891000001", "Call_Result__c": "answered",
        "Description": "Queue: Customer Service EN\nAgent: agent1\nResult: answered\nWaited 7 s, talked 120 s",
        "WhoId": "003A", "WhatId": "001A",
    }


@pytest.mark.parametrize("disposition", ["answered", "not answered"])
def test_a_wrap_up_code_goes_in_call_disposition_and_the_call_result_stays(disposition: str) -> None:
    fields = task_fields({**CALL, "disposition": disposition, "wrapup_code": "Manager Request"})
    assert (fields["CallDisposition"], fields["Call_Result__c"]) == ("Manager Request", disposition)
    assert case_fields({**CALL, "disposition": disposition})["Call_Result__c"] == disposition


def test_task_fields_for_an_outbound_call_with_odd_values() -> None:
    call = {**CALL, "direction": "outbound", "caller_number": "9" * 60, "queue_label": "", "queue": "",
            "display_number": "8" * 60}
    fields = task_fields(call, {"kind": "multiple", "records": [{}, {}]})
    assert fields["Subject"] == "Outbound call to " + "9" * 60
    assert fields["CallType"] == "Outbound" and len(fields["Phone_Number_2__c"]) == 40
    assert len(fields["Phone_From__c"]) == 40  # our display number, cut to the field's length
    assert "WhoId" not in fields and "Phone_To__c" not in fields


def test_helpers() -> None:
    assert hms(3725) == "01:02:05" and hms(-3) == "00:00:00"
    assert call_subject({"direction": "inbound", "caller_number": ""}) == "Inbound call from Hidden number"
    assert related_ids({"kind": "single", "records": [{"type": "Lead", "Id": "00QA"}]}) == {"WhoId": "00QA"}
    assert related_ids({"kind": "single", "records": [{"type": "Account", "Id": "001A"}]}) == {"WhatId": "001A"}
    assert related_ids(None) == {}


def test_job_ids_are_deterministic_and_valid_for_rq() -> None:
    job_id = finish_call_job_id("1717400000.42")
    assert job_id == finish_call_job_id("1717400000.42") != finish_call_job_id("1717400000_42")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", job_id)
    assert set(call_record_columns()) == {"call_id", "direction", "caller_number", "caller_name", "queue", "agent",
                                          "disposition", "started_at", "answered_at", "ended_at", "wait_seconds",
                                          "duration_seconds", "wrapup_code"}


@settings(max_examples=50)
@given(st.text(max_size=40))
def test_phone_search_terms_never_fail_and_stay_short(text: str) -> None:
    terms = phone_search_terms(text, "FI")
    assert all(3 <= len(re.sub(r"\D", "", t)) <= 20 for t in terms)
