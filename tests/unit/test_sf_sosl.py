"""SOSL parsing, term escaping and phone matching in the emulator."""

from __future__ import annotations

import pytest

from sfemu.auth import Credentials
from sfemu.errors import ApiError
from sfemu.search import run_search
from sfemu.seed import apply_seed
from sfemu.sosl import parse_sosl, phone_digits, phone_digits_match
from sfemu.store import Store


@pytest.fixture
def store() -> Store:
    s = Store()
    apply_seed(s, "empty", Credentials())
    acme = s.create("Account", {"Name": "Acme Oy", "Phone": "+358 9 123 4000"})
    s.create("Contact", {"FirstName": "Maija", "LastName": "Virtanen", "Phone": "+358 40 123 4567",
                         "AccountId": acme["Id"]})
    s.create("Contact", {"FirstName": "Matti", "LastName": "Korhonen", "MobilePhone": "050-7654321",
                         "Email": "matti@example.fi"})
    s.create("Lead", {"LastName": "Lindqvist", "Company": "Bygg AB", "Phone": "+46 70 555 12 34"})
    s.create("Contact", {"LastName": "Star*Name"})
    return s


def search(store: Store, text: str) -> list[dict[str, object]]:
    return run_search(store, text, version="59.0")


def names(rows: list[dict[str, object]]) -> list[object]:
    return [r.get("Name") for r in rows]


def search_error(store: Store, text: str) -> str:
    with pytest.raises(ApiError) as exc:
        search(store, text)
    return exc.value.code


@pytest.mark.parametrize(("a", "b", "same"), [
    ("+358 40 123 4567", "040 1234567", True),
    ("+358401234567", "+358 40 123 4567", True),
    ("0401234567", "401234567", True),
    ("(415) 555-0123", "+1 415 555 0123", True),
    ("+358 40 123 4567", "+358 40 123 4568", False),
    ("4567", "+358 40 123 4567", False),  # too few digits to be a suffix match
    ("112", "112", True),
    ("", "0", False),
])
def test_phone_digits_match(a: str, b: str, same: bool) -> None:
    assert phone_digits_match(phone_digits(a), phone_digits(b)) is same


def test_phone_digits_reads_any_script() -> None:
    assert phone_digits("+358 ٤٠ 123") == "35840123"


def test_phone_search_matches_every_format_of_the_number(store: Store) -> None:
    for term in (r"\+358401234567", "0401234567", "040 123 4567", r"\+358 40 123 4567", "401234567"):
        rows = search(store, f"FIND {{{term}}} IN PHONE FIELDS RETURNING Contact(Id, Name, Phone)")
        assert names(rows) == ["Maija Virtanen"], term


def test_phone_search_covers_mobile_and_lead_phones_and_or(store: Store) -> None:
    rows = search(store, r"FIND {0507654321 OR \+46705551234} IN PHONE FIELDS "
                         "RETURNING Contact(Name), Account(Name), Lead(Name, Company)")
    assert [(r["attributes"]["type"], r["Name"]) for r in rows] == [("Contact", "Matti Korhonen"),
                                                                     ("Lead", "Lindqvist")]


def test_phone_fields_are_not_searched_as_text(store: Store) -> None:
    assert search(store, "FIND {Maija} IN PHONE FIELDS RETURNING Contact(Id)") == []
    assert names(search(store, "FIND {Maija} IN NAME FIELDS RETURNING Contact(Name)")) == ["Maija Virtanen"]


def test_name_and_email_scopes_and_wildcards(store: Store) -> None:
    assert names(search(store, "FIND {virt*} IN NAME FIELDS RETURNING Contact(Name)")) == ["Maija Virtanen"]
    assert names(search(store, r"FIND {virt\*} IN NAME FIELDS RETURNING Contact(Name)")) == []
    assert names(search(store, "FIND {matti@example.fi} IN EMAIL FIELDS RETURNING Contact(Name)")) \
        == ["Matti Korhonen"]
    assert names(search(store, r"FIND {Star\*Name} IN NAME FIELDS RETURNING Contact(Name)")) == ["Star*Name"]
    assert names(search(store, 'FIND {"Maija Virtanen"} RETURNING Contact(Name)')) == ["Maija Virtanen"]
    assert names(search(store, 'FIND {"Virtanen Maija"} RETURNING Contact(Name)')) == []
    assert names(search(store, "FIND {Maija AND NOT Virtanen} RETURNING Contact(Name)")) == []


def test_quoted_operator_words_are_literal(store: Store) -> None:
    assert names(search(store, 'FIND {Nobody OR Maija} RETURNING Contact(Name)')) == ["Maija Virtanen"]
    assert names(search(store, 'FIND {Nobody "OR" Maija} RETURNING Contact(Name)')) == []


def test_returning_restricts_objects_fields_and_limits(store: Store) -> None:
    rows = search(store, "FIND {Korhonen OR Virtanen} RETURNING Contact(Id, Name ORDER BY Name DESC LIMIT 1)")
    assert names(rows) == ["Matti Korhonen"] and list(rows[0]) == ["attributes", "Id", "Name"]
    rows = search(store, "FIND {Korhonen OR Virtanen} RETURNING Contact(Name WHERE FirstName = 'Matti')")
    assert names(rows) == ["Matti Korhonen"]
    everything = search(store, "FIND {Acme}")
    assert [(r["attributes"]["type"], list(r)) for r in everything] == [("Account", ["attributes", "Id"])]


def test_escaped_braces_cannot_inject_a_returning_clause(store: Store) -> None:
    rows = search(store, r"FIND {x\} RETURNING User\(Id\)} IN ALL FIELDS RETURNING Contact(Id)")
    assert rows == []
    # Unescaped, the term ends at the first brace and the rest does not parse.
    assert search_error(store, "FIND {x} RETURNING User(Id)} IN ALL FIELDS RETURNING Contact(Id)") \
        == "MALFORMED_SEARCH"


@pytest.mark.parametrize("text", [
    "FIND Maija",
    "FIND {Maija",
    "FIND {a}",
    "FIND {   }",
    "FIND {O'Brien}",
    "FIND {a+b}",
    "FIND {(Maija)}",
    'FIND {"Maija}',
    "FIND {OR Maija}",
    "FIND {Maija} IN EVERY FIELDS",
    "FIND {Maija} RETURNING Contact(Id",
    "FIND {Maija} RETURNING Contact(Id) LIMIT x",
])
def test_malformed_searches(store: Store, text: str) -> None:
    assert search_error(store, text) == "MALFORMED_SEARCH"


def test_unknown_objects_and_fields_in_returning(store: Store) -> None:
    assert search_error(store, "FIND {Maija} RETURNING Nope__c(Id)") == "INVALID_TYPE"
    assert search_error(store, "FIND {Maija} RETURNING Contact(Nope__c)") == "INVALID_FIELD"


def test_parse_keeps_scope_specs_and_limit() -> None:
    query = parse_sosl("find {x\\-y} in phone fields returning Contact(Id LIMIT 3), Lead limit 7")
    assert query.scope == "PHONE" and query.limit == 7
    assert [(s.sobject, s.fields, s.limit) for s in query.returning] == [("Contact", ("Id",), 3), ("Lead", (), None)]
