"""Hostile text through sosl_escape / find_by_phone / soql_quote against the running emulator."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from simple_salesforce import Salesforce

from sfemu.auth import Credentials
from sfemu.sosl import RESERVED, phone_digits_match
from sfemu.testing import running_emulator
from switchboard.config import Settings
from switchboard.salesforce import (
    SOSL_MAX_TERM,
    ascii_digits,
    connect,
    find_by_phone,
    phone_search_terms,
    soql_quote,
    sosl_escape,
)

pytestmark = pytest.mark.integration
CREDS = Credentials()
PHONE_FIELDS = ("Phone", "MobilePhone", "HomePhone", "OtherPhone")

RESERVED_HEAVY = st.text(alphabet=st.sampled_from(sorted(RESERVED) + list(" xZ09\n\t\x00é名%_")), max_size=80)
PHONE_LIKE = st.from_regex(r"\A[+]?[0-9 ()./-]{0,20}\Z")
KNOWN_NUMBERS = st.sampled_from(["+358401234567", "040 123 4567", "+46 70 555 12 34", "09 4250 1000"])
HOSTILE = (st.text() | RESERVED_HEAVY | PHONE_LIKE | st.text(min_size=200, max_size=3000)
           | st.builds(lambda n, junk: n + junk, KNOWN_NUMBERS, RESERVED_HEAVY))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def sf() -> Iterator[Salesforce]:
    with running_emulator("demo") as url:
        yield connect(Settings(sf_emulator_url=url, sf_username=CREDS.username, sf_password=CREDS.password,
                               sf_security_token=CREDS.security_token))


@FAST
@given(HOSTILE)
@example("x} RETURNING User(Id)")
@example("+358401234567} RETURNING User(Id), Contact(Id")
@example("0401234567 OR 1")
@example("4567")
def test_find_by_phone_never_errors_or_over_matches(sf: Salesforce, text: str) -> None:
    result = find_by_phone(sf, text, "FI")
    records = result["records"]
    assert result["kind"] == ("none" if not records else "single" if len(records) == 1 else "multiple")
    assert {r["type"] for r in records} <= {"Contact", "Account", "Lead"}
    if not ascii_digits(text):
        assert records == []
    wanted = [ascii_digits(t) for t in phone_search_terms(text, "FI")]
    for record in records:
        full = getattr(sf, record["type"]).get(record["Id"])
        phones = [ascii_digits(full[f]) for f in PHONE_FIELDS if full.get(f)]
        assert any(phone_digits_match(w, p) for w in wanted for p in phones), (text, full)


@FAST
@given(HOSTILE)
@example("x} RETURNING User(Id)")
@example("Maija OR Virtanen")
@example("* OR *")
@example('" OR Maija "')
@example("\\} OR {Maija")
def test_escaped_text_only_narrows_a_search(sf: Salesforce, text: str) -> None:
    marker = "zq" + uuid.uuid4().hex  # in no record: every result would be an over-match
    term = sosl_escape(f"{marker} {text}")
    result = sf.search(f"FIND {{{term}}} IN ALL FIELDS RETURNING Contact(Id, Name), Lead(Id, Name)")
    assert result["searchRecords"] == []


@FAST
@given(HOSTILE)
@example("x} RETURNING User(Id)")
def test_escaped_text_cannot_add_objects_to_a_search(sf: Salesforce, text: str) -> None:
    literal = re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text)[:SOSL_MAX_TERM]
    if sum(1 for c in literal if not c.isspace()) < 2:
        return  # Salesforce refuses one-character terms; callers must not send them
    term = sosl_escape(text)
    result = sf.search(f"FIND {{{term}}} IN ALL FIELDS RETURNING Contact(Id, Name)")
    assert {r["attributes"]["type"] for r in result["searchRecords"]} <= {"Contact"}


@FAST
@given(st.text(max_size=60) | RESERVED_HEAVY)
@example("O'Brien \\' OR '1'='1")
@example("' OR Name != '")
@example("\\")
def test_soql_quote_finds_exactly_the_record_named_by_hostile_text(sf: Salesforce, text: str) -> None:
    last_name = ("zq" + uuid.uuid4().hex[:10] + text)[:80]
    created = sf.Contact.create({"LastName": last_name})
    rows = sf.query(f"SELECT Id, LastName FROM Contact WHERE LastName = {soql_quote(last_name)}")["records"]
    assert [(r["Id"], r["LastName"]) for r in rows] == [(created["id"], last_name)]
