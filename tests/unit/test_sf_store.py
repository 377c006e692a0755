"""The emulator's ids, schema validation, store and demo seed."""

from __future__ import annotations

import pytest

from sfemu.auth import Credentials
from sfemu.errors import ApiError
from sfemu.ids import IdGenerator, case_safe_suffix, normalize_id, to18
from sfemu.seed import DEMO_CONTACT_PHONE, DEMO_SHARED_PHONE, apply_seed
from sfemu.sosl import phone_digits, phone_digits_match
from sfemu.store import MultipleMatches, Store


@pytest.fixture
def store() -> Store:
    s = Store()
    apply_seed(s, "empty", Credentials())
    return s


def error_code(exc_info: pytest.ExceptionInfo[ApiError]) -> str:
    return exc_info.value.code


# ids ----------------------------------------------------------------------------------------------------
def test_case_safe_suffix_matches_salesforce_algorithm() -> None:
    assert case_safe_suffix("00570000001ZwTi") == "AAK"
    assert to18("00570000001ZwTi") == "00570000001ZwTiAAK"


def test_given_generated_ids_then_they_are_unique_18_chars_with_the_key_prefix() -> None:
    gen = IdGenerator()
    ids = [gen.new_id("003") for _ in range(5000)]
    assert len(set(ids)) == 5000
    assert all(len(i) == 18 and i.startswith("003") and normalize_id(i) == i for i in ids)
    assert len({i.lower() for i in ids}) == 5000  # case-safe: unique even case-insensitively


def test_normalize_id_accepts_15_and_18_and_rejects_the_rest() -> None:
    full = IdGenerator().new_id("001")
    assert normalize_id(full[:15]) == full
    assert normalize_id(full) == full
    assert normalize_id(full[:15] + "ZZZ") is None
    assert normalize_id("001") is None
    assert normalize_id("001'; DROP--x") is None


# validation -----------------------------------------------------------------------------------------------
def test_contact_needs_last_name_and_gets_a_computed_name(store: Store) -> None:
    with pytest.raises(ApiError) as exc:
        store.create("Contact", {"FirstName": "Maija"})
    assert error_code(exc) == "REQUIRED_FIELD_MISSING" and exc.value.fields == ["LastName"]
    rec = store.create("Contact", {"FirstName": "Maija", "LastName": "Virtanen"})
    assert rec["Name"] == "Maija Virtanen"
    store.update("Contact", rec["Id"], {"FirstName": "Liisa"})
    assert store.get("Contact", rec["Id"])["Name"] == "Liisa Virtanen"


def test_task_needs_nothing_and_gets_defaults(store: Store) -> None:
    rec = store.create("Task", {}, owner_id="0055g00002LKcb1AAD")
    assert rec["Status"] == "Not Started" and rec["Priority"] == "Normal"
    assert rec["OwnerId"] == "0055g00002LKcb1AAD"
    assert rec["CreatedDate"].endswith("+0000") and rec["IsDeleted"] is False


@pytest.mark.parametrize(("values", "code"), [
    ({"LastName": "x", "Nope__c": 1}, "INVALID_FIELD"),
    ({"LastName": "x", "Name": "y"}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
    ({"LastName": "x" * 81}, "STRING_TOO_LONG"),
    ({"LastName": "x", "Email": "not an email"}, "INVALID_EMAIL_ADDRESS"),
    ({"LastName": "x", "AccountId": "nope"}, "MALFORMED_ID"),
    ({"LastName": "x", "AccountId": "0035g00002LKcb1AAD"}, "FIELD_INTEGRITY_EXCEPTION"),
    ({"LastName": "x", "AccountId": to18("0015g00009ZZZZZ")}, "INVALID_CROSS_REFERENCE_KEY"),
    ({"LastName": None}, "REQUIRED_FIELD_MISSING"),
])
def test_invalid_contact_values_are_refused(store: Store, values: dict[str, object], code: str) -> None:
    with pytest.raises(ApiError) as exc:
        store.create("Contact", values)
    assert error_code(exc) == code


def test_values_are_kept_in_canonical_form(store: Store) -> None:
    rec = store.create("Task", {"Call_End_Time__c": "2024-06-03T10:00:07+03:00", "ActivityDate": "2024-06-03",
                                "CallDurationInSeconds": "42", "Queue_Wait_Time_Sec__c": 7, "Subject": ""})
    assert rec["Call_End_Time__c"] == "2024-06-03T07:00:07.000+0000"
    assert rec["CallDurationInSeconds"] == 42 and rec["Queue_Wait_Time_Sec__c"] == 7
    assert rec["Subject"] is None  # Salesforce stores "" as null
    with pytest.raises(ApiError) as exc:
        store.create("Task", {"ActivityDate": "03.06.2024"})
    assert error_code(exc) == "JSON_PARSER_ERROR"


def test_case_numbers_are_auto_numbered_and_read_only(store: Store) -> None:
    assert [store.create("Case", {})["CaseNumber"] for _ in range(2)] == ["00001000", "00001001"]
    with pytest.raises(ApiError) as exc:
        store.create("Case", {"CaseNumber": "1"})
    assert error_code(exc) == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_unique_external_id_clash_is_duplicate_value(store: Store) -> None:
    first = store.create("Task", {"Call_Id__c": "1717400000.1"})
    with pytest.raises(ApiError) as exc:
        store.create("Task", {"Call_Id__c": "1717400000.1"})
    assert error_code(exc) == "DUPLICATE_VALUE" and first["Id"] in exc.value.message


def test_upsert_creates_then_updates_the_same_record(store: Store) -> None:
    rec, created = store.upsert("Task", "Call_Id__c", "c-1", {"Subject": "one"})
    assert created and rec["Call_Id__c"] == "c-1"
    again, created_again = store.upsert("Task", "call_id__C", "c-1", {"Subject": "two"})
    assert not created_again and again["Id"] == rec["Id"] and again["Subject"] == "two"
    assert len(store.match_field("Task", "Call_Id__c", "c-1")) == 1


def test_upsert_refuses_non_external_fields_and_conflicting_bodies(store: Store) -> None:
    with pytest.raises(ApiError) as exc:
        store.upsert("Task", "Subject", "x", {})
    assert exc.value.status == 404
    with pytest.raises(ApiError) as exc:
        store.upsert("Task", "Call_Id__c", "a", {"Call_Id__c": "b"})
    assert error_code(exc) == "INVALID_FIELD"


def test_upsert_on_a_non_unique_external_id_with_two_matches_is_multiple() -> None:
    from dataclasses import replace

    from sfemu.schema import FieldDef, ObjectDef, standard_objects

    objects = standard_objects()
    task = objects["Task"]
    fields = tuple(replace(f, unique=False) if f.name == "Call_Id__c" else f for f in task.fields)
    objects["Task"] = ObjectDef(task.name, task.key_prefix, task.label, fields + (FieldDef("X__c", "string", 5),))
    store = Store(objects)
    store.create("Task", {"Call_Id__c": "dup"})
    store.create("Task", {"Call_Id__c": "dup"})
    with pytest.raises(MultipleMatches) as exc:
        store.upsert("Task", "Call_Id__c", "dup", {})
    assert len(exc.value.ids) == 2


def test_deleted_records_go_to_the_recycle_bin(store: Store) -> None:
    rec = store.create("Account", {"Name": "Gone Oy"})
    store.delete("Account", rec["Id"])
    with pytest.raises(ApiError) as exc:
        store.get("Account", rec["Id"])
    assert error_code(exc) == "ENTITY_IS_DELETED"
    assert rec not in store.records("Account")
    assert rec in store.records("Account", include_deleted=True)


def test_get_with_a_wrong_prefix_or_unknown_object_is_not_found(store: Store) -> None:
    rec = store.create("Account", {"Name": "A"})
    with pytest.raises(ApiError) as exc:
        store.get("Contact", rec["Id"])
    assert exc.value.status == 404
    with pytest.raises(ApiError) as exc:
        store.get("Nope__c", rec["Id"])
    assert error_code(exc) == "NOT_FOUND"


# seed ---------------------------------------------------------------------------------------------------
def _seeded() -> Store:
    s = Store()
    apply_seed(s, "demo", Credentials())
    return s


def test_demo_seed_is_deterministic_and_sized_as_documented() -> None:
    a, b = _seeded(), _seeded()
    for obj in ("Account", "Contact", "Lead", "Case", "User"):
        assert a.records(obj) == b.records(obj)
    assert len(a.records("Contact")) == 200
    assert len(a.records("Account")) == 60
    assert len(a.records("Lead")) == 30
    cases = a.records("Case")
    assert len(cases) == 80 and sum(c["Status"] == "Closed" for c in cases) == 40
    assert {acc["SLA__c"] for acc in a.records("Account")} == {"Gold", "Silver", "Bronze"}
    assert {acc["BillingCountry"] for acc in a.records("Account")} == {"FI", "SE", "GB", "US", "DE"}


def test_demo_seed_has_maija_and_no_accidental_phone_collisions() -> None:
    s = _seeded()
    maija = [c for c in s.records("Contact") if c["Name"] == "Maija Virtanen"]
    assert len(maija) == 1 and maija[0]["Phone"] == DEMO_CONTACT_PHONE and maija[0]["AccountId"]
    numbers = [r[f] for obj in ("Account", "Contact", "Lead") for r in s.records(obj)
               for f in ("Phone", "MobilePhone") if r.get(f)]
    shared = phone_digits(DEMO_SHARED_PHONE)
    digits = [phone_digits(n) for n in numbers if phone_digits(n) != shared]
    clashes = [(x, y) for i, x in enumerate(digits) for y in digits[i + 1:] if phone_digits_match(x, y)]
    assert clashes == []
    assert sum(phone_digits(n) == shared for n in numbers) == 2
