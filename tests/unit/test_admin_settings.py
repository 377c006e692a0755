"""Admin settings and what they drive, without I/O: validation, the live overlay, the lookup's RETURNING
list and its cache, the workflow's view of a match, the work-number include and LIKE escaping."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from orchestrator.provisioning import render_work_numbers
from switchboard.callerid import BASE_RETURNING, CallerDirectory, lookup_returning, with_account_name
from switchboard.config import ConfigError, Settings, check_admin_setting, with_overrides
from switchboard.salesforce import soql_like
from switchboard.store.live import LiveSettings
from web.identity import workflow_match


def test_admin_settings_are_checked_and_coerced():
    assert check_admin_setting("workflow_contact_columns", "Title, Email,Title") == ("Title", "Email")
    assert check_admin_setting("workflow_search_in", "all") == "ALL"
    assert check_admin_setting("outbound_other_object", "RELATE") == "relate"
    for name, value in [("workflow_contact_columns", "Name) FROM User"), ("workflow_search_in", "SIDEBAR"),
                        ("outbound_other_object", "always"), ("secret_key", "x"), ("workflow_case_columns", "a.b")]:
        with pytest.raises(ConfigError):
            check_admin_setting(name, value)


def test_stored_overrides_win_and_a_bad_stored_value_is_left_out():
    live = with_overrides(Settings(), {"workflow_lead_columns": ["Email"], "workflow_search_in": "nowhere"})
    assert live.workflow_lead_columns == ("Email",) and live.workflow_search_in == Settings().workflow_search_in


class FakeStore:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.reads = 0
        self.broken = False

    def admin_settings(self) -> dict[str, Any]:
        self.reads += 1
        if self.broken:
            raise OSError("database is locked")
        return dict(self.values)


def test_live_settings_are_read_again_after_the_ttl_and_kept_when_the_database_fails():
    store, now = FakeStore(), [0.0]
    live = LiveSettings(store, Settings(), ttl=2.0, clock=lambda: now[0])  # type: ignore[arg-type]
    assert live.get().outbound_other_object == "ignore"
    store.values = {"outbound_other_object": "relate"}
    now[0] = 1.9
    assert live.get().outbound_other_object == "ignore" and store.reads == 1
    now[0] = 2.0
    assert live.get().outbound_other_object == "relate"
    store.broken, now[0] = True, 4.5
    assert live.get().outbound_other_object == "relate"


def test_the_lookup_returns_account_names_and_the_admins_valid_columns():
    returning = lookup_returning(Settings(workflow_contact_columns=("Email", "bad name"),
                                          workflow_account_columns=("Industry",), workflow_lead_columns=()))
    assert returning == ("Contact(Id, Name, Phone, AccountId, Account.Name, Email LIMIT 10), "
                         "Account(Id, Name, Phone, Industry LIMIT 10), Lead(Id, Name, Phone, Company LIMIT 10)")
    assert with_account_name({"Id": "003x", "Account": {"attributes": {}, "Name": "Oy"}}) == {
        "Id": "003x", "AccountName": "Oy"}
    assert with_account_name({"Id": "003y", "Account": None}) == {"Id": "003y", "AccountName": ""}


class FakeCache(dict):
    def get(self, key: str) -> Any:  # type: ignore[override]
        return super().get(key)

    def set(self, key: str, value: str, ex: int | None = None) -> None:
        self[key] = value

    def delete(self, *keys: str) -> None:
        for k in keys:
            self.pop(k, None)


class FakeClient:
    def __init__(self) -> None:
        self.searches: list[str] = []

    def call(self, op: Any) -> Any:
        def search(sosl: str) -> dict[str, Any]:
            self.searches.append(sosl)
            return {"searchRecords": [{"attributes": {"type": "Contact"}, "Id": "003A", "Name": "Maija",
                                       "Account": {"attributes": {"type": "Account"}, "Name": "Design Oy"}}]}

        return op(SimpleNamespace(search=search))


def test_a_cached_lookup_filled_with_other_columns_is_a_miss():
    client, cache, columns = FakeClient(), FakeCache(), ["Title"]
    meter = SimpleNamespace(count=lambda _name: None)
    directory = CallerDirectory(client, cache, meter, region="FI", ttl=60, negative_ttl=10,  # type: ignore[arg-type]
                                returning=lambda: lookup_returning(Settings(workflow_contact_columns=tuple(columns))))
    first = directory.identify("040 123 4567")
    assert first["records"][0]["AccountName"] == "Design Oy" and "Account" not in first["records"][0]
    assert directory.identify("+358401234567") == first and len(client.searches) == 1  # one E.164 key
    columns.append("Email")
    directory.identify("+358401234567")
    assert len(client.searches) == 2 and "Email" in client.searches[-1]
    cache["switchboard:sf:phone:+358401234567"] = json.dumps(first)  # an entry of the old format
    directory.identify("+358401234567")
    assert len(client.searches) == 3
    directory.invalidate("+358 40 123 4567", "")
    assert cache == {}
    assert "Account.Name" in BASE_RETURNING


def test_a_workflow_sees_contacts_with_accounts_or_with_leads():
    match = {"kind": "multiple", "records": [{"type": "Contact", "Id": "003A"}, {"type": "Lead", "Id": "00QA"}]}
    assert workflow_match(match, "contact_account") == {"kind": "single", "records": [match["records"][0]]}
    assert workflow_match(match, "contact_lead") == match
    only_lead = {"kind": "single", "records": [match["records"][1]]}
    assert workflow_match(only_lead, "case_dialog") == {"kind": "none", "records": []}
    assert workflow_match({"kind": "error", "records": []}, "case")["kind"] == "error"


def agent(name: str, number: str) -> Any:
    user = SimpleNamespace(display_name=name, work_number=number)
    return SimpleNamespace(sip_username=name, sip_md5_cred="0" * 32, user=user)


def test_work_numbers_render_only_e164_numbers_once_each():
    text = render_work_numbers([agent("anna", "+358501234567"), agent("ben", ""), agent("carl", "+358501234567"),
                                agent("dora", "+35850,1,Hangup()"), agent("bad]name", "+358507654321")])
    lines = [ln for ln in text.splitlines() if not ln.startswith(";")]
    assert lines == ["exten => +358501234567,1,Goto(sb-work-number,anna,1)"]


def test_soql_like_keeps_wildcards_of_the_text_literal():
    assert soql_like("100%_x'y") == "'%100\\%\\_x\\'y%'"
    assert soql_like("1026", after="") == "'%1026'"
