"""Unmodified simple-salesforce against the emulator process, through switchboard.salesforce.connect."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from simple_salesforce import (
    Salesforce,
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from sfemu.auth import Credentials
from sfemu.seed import DEMO_ACCOUNT_NAME, DEMO_CALLER_NUMBER, DEMO_CONTACT_NAME, DEMO_LEAD_NAME, DEMO_LEAD_PHONE
from sfemu.testing import running_emulator
from switchboard.config import Settings
from switchboard.salesforce import connect, find_by_phone
from switchboard.transport import make_session

pytestmark = pytest.mark.integration
CREDS = Credentials()


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with running_emulator("demo") as url:
        yield url


def password_settings(url: str, **overrides: str) -> Settings:
    values = {"sf_auth": "password", "sf_emulator_url": url, "sf_username": CREDS.username,
              "sf_password": CREDS.password, "sf_security_token": CREDS.security_token, **overrides}
    return Settings(**values)  # type: ignore[arg-type]


def client_credentials_settings(url: str, **overrides: str) -> Settings:
    values = {"sf_auth": "client_credentials", "sf_emulator_url": url, "sf_domain": "switchboard-demo.my",
              "sf_client_id": CREDS.client_id, "sf_client_secret": CREDS.client_secret, **overrides}
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sf(emulator_url: str) -> Salesforce:
    return connect(password_settings(emulator_url))


def emulator_log(url: str) -> list[dict[str, object]]:
    with requests.Session() as http:
        http.trust_env = False
        return list(http.get(f"{url}/__emulator/requests?api=1", timeout=5).json()["requests"])


def reset_log(url: str) -> None:
    with requests.Session() as http:
        http.trust_env = False
        http.post(f"{url}/__emulator/reset-log", timeout=5)


# login ------------------------------------------------------------------------------------------------
def test_soap_password_login_builds_https_urls_that_travel_as_http(sf: Salesforce, emulator_url: str) -> None:
    assert sf.base_url.startswith("https://127.0.0.1:") and sf.sf_version == "59.0"
    reset_log(emulator_url)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] >= 200
    assert [e["path"] for e in emulator_log(emulator_url)] == ["/services/data/v59.0/query/"]


def test_soap_login_with_a_wrong_password_fails(emulator_url: str) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as exc:
        connect(password_settings(emulator_url, sf_password="wrong"))
    assert exc.value.code == "INVALID_LOGIN"


def test_client_credentials_login(emulator_url: str) -> None:
    sf = connect(client_credentials_settings(emulator_url))
    rows = sf.query(f"SELECT Id, Name FROM Contact WHERE Name = '{DEMO_CONTACT_NAME}'")["records"]
    assert [r["Name"] for r in rows] == [DEMO_CONTACT_NAME]
    with pytest.raises(SalesforceAuthenticationFailed) as exc:
        connect(client_credentials_settings(emulator_url, sf_client_secret="wrong"))
    assert exc.value.code == "invalid_client"


def test_client_credentials_token_goes_to_the_instance_url_when_set(emulator_url: str) -> None:
    sf = connect(client_credentials_settings(emulator_url, sf_instance_url="https://acme.my.salesforce.com"))
    assert sf.limits()["DailyApiRequests"]["Max"] == 15000


# records ----------------------------------------------------------------------------------------------
def test_create_get_update_delete(sf: Salesforce) -> None:
    created = sf.Contact.create({"FirstName": "Olli", "LastName": "Testinen", "Phone": "+358 50 000 0001"})
    assert created["success"] is True and created["id"].startswith("003") and len(created["id"]) == 18
    rid = created["id"]
    assert sf.Contact.get(rid)["Name"] == "Olli Testinen"
    assert sf.Contact.get(rid[:15])["Id"] == rid
    assert sf.Contact.update(rid, {"Title": "Tester"}) == 204
    assert sf.Contact.get(rid)["Title"] == "Tester"
    assert sf.Contact.delete(rid) == 204
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Contact.get(rid)
    assert exc.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"
    deleted = sf.query_all(f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{rid}'", include_deleted=True)
    assert deleted["records"][0]["IsDeleted"] is True


def test_upsert_creates_with_201_then_updates_with_200(sf: Salesforce) -> None:
    call_id = f"{uuid.uuid4().int % 10**10}.1"
    first = sf.Task.upsert(f"Call_Id__c/{call_id}", {"Subject": "first"}, raw_response=True)
    assert first.status_code == 201 and first.json()["created"] is True
    second = sf.Task.upsert(f"Call_Id__c/{call_id}", {"Subject": "second"}, raw_response=True)
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert sf.Task.get_by_custom_id("Call_Id__c", call_id)["Subject"] == "second"
    rows = sf.query(f"SELECT Id FROM Task WHERE Call_Id__c = '{call_id}'")
    assert rows["totalSize"] == 1


def test_query_with_relationship_fields(sf: Salesforce) -> None:
    rows = sf.query(f"SELECT Id, Name, Account.Name, Account.SLA__c FROM Contact WHERE Name = '{DEMO_CONTACT_NAME}'")
    record = rows["records"][0]
    assert record["Account"]["Name"] == DEMO_ACCOUNT_NAME and record["Account"]["SLA__c"] == "Gold"
    assert record["attributes"]["type"] == "Contact"
    cases = sf.query("SELECT CaseNumber, Status, Contact.Name FROM Case WHERE Status != 'Closed' "
                     "ORDER BY CaseNumber LIMIT 5")
    assert cases["totalSize"] == 5 and cases["records"][0]["CaseNumber"] == "00001000"


def test_query_all_follows_next_records_url_paths(sf: Salesforce) -> None:
    for i in range(3):
        sf.Contact.create({"LastName": f"Paging {i}"})
    total = sf.query("SELECT COUNT() FROM Contact")["totalSize"]
    assert total > 200
    first = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"})
    assert first["done"] is False and first["nextRecordsUrl"].startswith("/services/data/v59.0/query/")
    everything = sf.query_all("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"})
    assert everything["totalSize"] == total and len({r["Id"] for r in everything["records"]}) == total


# errors -----------------------------------------------------------------------------------------------
def test_error_shapes(sf: Salesforce, emulator_url: str) -> None:
    stale = Salesforce(session_id="00Dbogus!token", instance="127.0.0.1:1", session=make_session(emulator_url))
    with pytest.raises(SalesforceExpiredSession) as expired:
        stale.query("SELECT Id FROM Contact")
    assert expired.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]

    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.query("SELECT Id FORM Contact")
    assert malformed.value.content[0]["errorCode"] == "MALFORMED_QUERY"

    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Contact.get("0035g00009ZZZZZAAA")
    assert missing.value.content[0]["errorCode"] == "NOT_FOUND"

    with pytest.raises(SalesforceResourceNotFound):
        sf.Nope__c.describe()

    with pytest.raises(SalesforceMalformedRequest) as bad_field:
        sf.Contact.create({"LastName": "x", "Shoe_Size__c": 42})
    assert bad_field.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert bad_field.value.content[0]["fields"] == ["Shoe_Size__c"]

    with pytest.raises(SalesforceMalformedRequest) as bad_column:
        sf.query("SELECT Shoe_Size__c FROM Contact")
    assert bad_column.value.content[0]["errorCode"] == "INVALID_FIELD"

    with pytest.raises(SalesforceMalformedRequest) as bad_type:
        sf.query("SELECT Id FROM Shoe__c")
    assert bad_type.value.content[0]["errorCode"] == "INVALID_TYPE"

    with pytest.raises(SalesforceMalformedRequest) as required:
        sf.Account.create({"Phone": "1"})
    assert required.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"

    call_id = f"dup-{uuid.uuid4().hex}"
    sf.Task.create({"Call_Id__c": call_id})
    with pytest.raises(SalesforceMalformedRequest) as duplicate:
        sf.Task.create({"Call_Id__c": call_id})
    assert duplicate.value.content[0]["errorCode"] == "DUPLICATE_VALUE"


def test_limit_info_header_is_read_into_api_usage(sf: Salesforce) -> None:
    sf.query("SELECT Id FROM User LIMIT 1")
    before = sf.api_usage["api-usage"]
    sf.restful("sobjects/Contact/describe")
    after = sf.api_usage["api-usage"]
    assert after.total == 15000 and after.used == before.used + 1
    contact = sf.Contact  # record calls keep their own usage on the SFType
    contact.describe()
    assert contact.api_usage["api-usage"].used == after.used + 1
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Remaining"] == 15000 - sf.api_usage["api-usage"].used


# SOSL -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("number", [DEMO_CALLER_NUMBER, "040 123 4567", "+358 40 123 4567", "0401234567"])
def test_sosl_phone_lookup_finds_the_demo_contact(sf: Salesforce, number: str) -> None:
    result = find_by_phone(sf, number, "FI")
    assert result["kind"] == "single"
    (record,) = result["records"]
    assert record["type"] == "Contact" and record["Name"] == DEMO_CONTACT_NAME
    assert record["AccountId"].startswith("001")


def test_sosl_phone_lookup_of_leads_shared_numbers_and_strangers(sf: Salesforce, emulator_url: str) -> None:
    lead = find_by_phone(sf, DEMO_LEAD_PHONE, "FI")
    assert lead["kind"] == "single" and lead["records"][0]["Name"] == DEMO_LEAD_NAME
    assert lead["records"][0]["type"] == "Lead" and lead["records"][0]["Company"]
    shared = find_by_phone(sf, "09 4250 1000", "FI")
    assert shared["kind"] == "multiple" and {r["type"] for r in shared["records"]} == {"Contact"}
    assert find_by_phone(sf, "+1 202 555 0199", "FI") == {"kind": "none", "records": []}
    reset_log(emulator_url)
    assert find_by_phone(sf, "anonymous", "FI") == {"kind": "none", "records": []}
    assert emulator_log(emulator_url) == []  # no digits: no request
