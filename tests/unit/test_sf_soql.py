"""SOQL parsing and execution in the emulator."""

from __future__ import annotations

import pytest

from sfemu.auth import Credentials
from sfemu.errors import ApiError
from sfemu.query import run_query
from sfemu.seed import apply_seed
from sfemu.soql import BoolOp, Comparison, Literal, Not, OrderItem, parse_soql, tokenize
from sfemu.store import Store


@pytest.fixture
def store() -> Store:
    s = Store()
    apply_seed(s, "empty", Credentials())
    acme = s.create("Account", {"Name": "Acme Oy", "SLA__c": "Gold"})
    s.create("Contact", {"FirstName": "Maija", "LastName": "Virtanen", "AccountId": acme["Id"],
                         "Phone": "+358 40 123 4567"})
    s.create("Contact", {"FirstName": "Matti", "LastName": "Korhonen", "Title": "CEO"})
    s.create("Contact", {"LastName": "O'Brien", "AccountId": acme["Id"], "Email": "ob@example.com"})
    s.create("Contact", {"LastName": "100% Sure_Thing"})
    return s


def q(store: Store, text: str, include_deleted: bool = False) -> list[dict[str, object]]:
    return run_query(store, text, version="59.0", include_deleted=include_deleted).records


def code_of(store: Store, text: str) -> str:
    with pytest.raises(ApiError) as exc:
        run_query(store, text, version="59.0")
    return exc.value.code


# parsing ----------------------------------------------------------------------------------------------
def test_parse_full_statement() -> None:
    query = parse_soql("select Id, Account.Name FROM Contact WHERE (LastName = 'a' OR LastName != null) "
                       "AND NOT Email LIKE '%@x.com' AND Id IN ('a', 'b') ORDER BY LastName DESC NULLS LAST, "
                       "Id LIMIT 5 OFFSET 2")
    assert query.fields == ("Id", "Account.Name") and query.sobject == "Contact"
    assert isinstance(query.where, BoolOp) and query.where.op == "AND"
    or_part, not_part, in_part = query.where.parts
    assert isinstance(or_part, BoolOp) and or_part.op == "OR"
    assert or_part.parts[1] == Comparison("LastName", "!=", Literal("null", None))
    assert isinstance(not_part, Not)
    assert in_part == Comparison("Id", "IN", (Literal("string", "a", "a"), Literal("string", "b", "b")))
    assert query.order_by == (OrderItem("LastName", True, True), OrderItem("Id"))
    assert (query.limit, query.offset) == (5, 2)


@pytest.mark.parametrize(("literal", "value"), [
    (r"'O\'Brien'", "O'Brien"),
    (r"'back\\slash'", "back\\slash"),
    (r"'line\nbreak\ttab'", "line\nbreak\ttab"),
    (r"'say \"hi\"'", 'say "hi"'),
    ("'ünïcödé 名前'", "ünïcödé 名前"),
    ("'{braces} and (parens)'", "{braces} and (parens)"),
])
def test_string_literal_escapes(literal: str, value: str) -> None:
    (tok, eof) = tokenize(literal)
    assert tok.kind == "STRING" and tok.value == value and eof.kind == "EOF"


@pytest.mark.parametrize("text", [
    "SELECT Id FORM Contact",
    "SELECT FROM Contact",
    "SELECT Id FROM Contact WHERE",
    "SELECT Id FROM Contact WHERE Name = 'unterminated",
    r"SELECT Id FROM Contact WHERE Name = 'bad \q escape'",
    "SELECT Id FROM Contact WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
    "SELECT Id FROM Contact LIMIT -1",
    "SELECT Id FROM Contact LIMIT 5 junk",
    "SELECT Id, (SELECT Id FROM Cases) FROM Contact",
    "SELECT Id, Id FROM Contact",
    "SELECT Id FROM Contact WHERE Name = \"double quotes\"",
    "DELETE FROM Contact",
    "",
])
def test_malformed_queries(store: Store, text: str) -> None:
    assert code_of(store, text) == "MALFORMED_QUERY"


def test_malformed_query_message_points_at_the_token(store: Store) -> None:
    with pytest.raises(ApiError) as exc:
        run_query(store, "SELECT Id FORM Contact", version="59.0")
    assert "unexpected token: 'FORM'" in exc.value.message and "Column:11" in exc.value.message


# execution ----------------------------------------------------------------------------------------------
def test_relationship_fields_are_nested(store: Store) -> None:
    rows = q(store, "SELECT Id, Name, Account.Name, Account.SLA__c FROM Contact WHERE LastName = 'virtanen'")
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == ["attributes", "Id", "Name", "Account"]
    assert row["attributes"]["type"] == "Contact"
    assert row["attributes"]["url"] == f"/services/data/v59.0/sobjects/Contact/{row['Id']}"
    assert row["Account"]["Name"] == "Acme Oy" and row["Account"]["SLA__c"] == "Gold"
    assert row["Account"]["attributes"]["type"] == "Account"
    orphan = q(store, "SELECT Account.Name FROM Contact WHERE LastName = 'Korhonen'")
    assert orphan[0]["Account"] is None


def test_filter_on_relationship_and_polymorphic_paths(store: Store) -> None:
    rows = q(store, "SELECT LastName FROM Contact WHERE Account.Name = 'ACME OY' ORDER BY LastName")
    assert [r["LastName"] for r in rows] == ["O'Brien", "Virtanen"]
    maija = q(store, "SELECT Id FROM Contact WHERE LastName = 'Virtanen'")[0]["Id"]
    store.create("Task", {"Subject": "Call", "WhoId": maija})
    tasks = q(store, "SELECT Subject, Who.Name FROM Task WHERE Who.Name LIKE 'Maija%'")
    assert tasks[0]["Who"]["Name"] == "Maija Virtanen" and tasks[0]["Who"]["attributes"]["type"] == "Contact"


def test_like_honours_escaped_wildcards(store: Store) -> None:
    assert [r["LastName"] for r in q(store, r"SELECT LastName FROM Contact WHERE LastName LIKE '100\% Sure\_%'")] \
        == ["100% Sure_Thing"]
    assert q(store, r"SELECT LastName FROM Contact WHERE LastName LIKE '100\%_Sure'") == []
    assert len(q(store, "SELECT LastName FROM Contact WHERE LastName LIKE '%O%'")) == 2  # Korhonen, O'Brien


def test_in_not_in_and_null_comparisons(store: Store) -> None:
    names = q(store, "SELECT LastName FROM Contact WHERE LastName IN ('Virtanen', 'Korhonen') ORDER BY LastName")
    assert [r["LastName"] for r in names] == ["Korhonen", "Virtanen"]
    assert len(q(store, "SELECT Id FROM Contact WHERE Title = null")) == 3
    assert len(q(store, "SELECT Id FROM Contact WHERE Title != null")) == 1
    assert len(q(store, "SELECT Id FROM Contact WHERE Title NOT IN ('CEO')")) == 0


def test_order_by_puts_nulls_first_ascending_and_last_descending(store: Store) -> None:
    asc = [r["Title"] for r in q(store, "SELECT Title FROM Contact ORDER BY Title")]
    assert asc[0] is None and asc[-1] == "CEO"
    desc = [r["Title"] for r in q(store, "SELECT Title FROM Contact ORDER BY Title DESC")]
    assert desc[0] == "CEO" and desc[-1] is None
    nulls_last = [r["Title"] for r in q(store, "SELECT Title FROM Contact ORDER BY Title ASC NULLS LAST")]
    assert nulls_last[0] == "CEO"


def test_limit_offset_and_count(store: Store) -> None:
    assert len(q(store, "SELECT Id FROM Contact ORDER BY LastName LIMIT 2 OFFSET 1")) == 2
    result = run_query(store, "SELECT COUNT() FROM Contact WHERE AccountId != null", version="59.0")
    assert result.total_size == 2 and result.records == []


def test_typed_literals(store: Store) -> None:
    store.create("Task", {"ActivityDate": "2024-06-03", "CallDurationInSeconds": 42,
                          "Call_End_Time__c": "2024-06-03T10:00:00Z"})
    assert len(q(store, "SELECT Id FROM Task WHERE ActivityDate = 2024-06-03")) == 1
    assert len(q(store, "SELECT Id FROM Task WHERE CallDurationInSeconds >= 40")) == 1
    assert len(q(store, "SELECT Id FROM Task WHERE Call_End_Time__c > 2024-06-03T09:59:59Z")) == 1
    assert len(q(store, "SELECT Id FROM Task WHERE IsDeleted = false")) == 1


@pytest.mark.parametrize(("text", "code"), [
    ("SELECT Id FROM Nope__c", "INVALID_TYPE"),
    ("SELECT Nope__c FROM Contact", "INVALID_FIELD"),
    ("SELECT Nope.Name FROM Contact", "INVALID_FIELD"),
    ("SELECT Id FROM Contact WHERE Nope__c = 'x'", "INVALID_FIELD"),
    ("SELECT Id FROM Contact ORDER BY Nope__c", "INVALID_FIELD"),
    ("SELECT Id FROM Task WHERE ActivityDate = '2024-06-03'", "INVALID_FIELD"),
    ("SELECT Id FROM Contact WHERE LastName = 5", "INVALID_FIELD"),
    ("SELECT Id FROM Task WHERE CallDurationInSeconds = '5'", "INVALID_FIELD"),
    ("SELECT Id FROM Contact WHERE Id = 'not-an-id'", "INVALID_QUERY_FILTER_OPERATOR"),
])
def test_semantic_errors(store: Store, text: str, code: str) -> None:
    assert code_of(store, text) == code


def test_query_all_includes_deleted_records(store: Store) -> None:
    rec = store.create("Contact", {"LastName": "Deleted"})
    store.delete("Contact", rec["Id"])
    assert q(store, "SELECT Id FROM Contact WHERE LastName = 'Deleted'") == []
    rows = q(store, "SELECT Id, IsDeleted FROM Contact WHERE LastName = 'Deleted'", include_deleted=True)
    assert rows[0]["IsDeleted"] is True


def test_ids_match_in_15_and_18_character_forms(store: Store) -> None:
    rec_id = q(store, "SELECT Id FROM Contact WHERE LastName = 'Virtanen'")[0]["Id"]
    assert len(q(store, f"SELECT Id FROM Contact WHERE Id = '{rec_id[:15]}'")) == 1
    assert len(q(store, f"SELECT Id FROM Contact WHERE Id = '{rec_id}'")) == 1
