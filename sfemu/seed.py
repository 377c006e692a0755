"""Seed data: the integration user, record types, Omni-Channel presence statuses and the deterministic demo org
(accounts, contacts, leads, cases).

Seeds: "empty" (users, record types and presence statuses only), "demo" (60 accounts, 200 contacts, 30 leads,
80 cases) and "large" (100 accounts, 400 contacts, 60 leads, 160 cases). Both populated seeds hold the named demo
records below; phone numbers are formatted as people type them in FI, SE, GB, US and DE, some contacts also have
mobile and home numbers, and phone cases carry the call-detail fields (a few are Callback cases).
"""

from __future__ import annotations

import logging
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sfemu.auth import Credentials
from sfemu.sosl import phone_digits, phone_digits_match
from sfemu.store import Store

logger = logging.getLogger(__name__)

SEEDS = ("demo", "large", "empty")
DEMO_RANDOM_SEED = 20240603
DETAIL_RANDOM_SEED = 20240604  # a second stream, so extra details leave the original demo values unchanged
DEMO_BASE_TIME = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)

# Known demo records other tests and the demo script can rely on.
DEMO_CONTACT_NAME = "Maija Virtanen"
DEMO_CONTACT_PHONE = "+358 40 123 4567"
DEMO_CALLER_NUMBER = "+358401234567"
DEMO_ACCOUNT_NAME = "Virtanen Design Oy"
DEMO_SHARED_PHONE = "+358 9 4250 1000"  # two contacts of one company: a "multiple matches" caller
DEMO_LEAD_NAME = "Erik Lindqvist"
DEMO_LEAD_PHONE = "+46 70 555 12 34"
DEMO_AGENT_USERNAMES = ("agent1@switchboard.demo", "agent2@switchboard.demo", "supervisor@switchboard.demo")
CALLBACK_RECORD_TYPE = "Callback"  # DeveloperName of the Case and Task record types for callback requests
RECORD_TYPES = (("Case", CALLBACK_RECORD_TYPE, "Callback"), ("Task", CALLBACK_RECORD_TYPE, "Callback"))
DEMO_QUEUES = ("cs-en", "cs-fi", "sales")
# Omni-Channel presence statuses (ServicePresenceStatus): (DeveloperName, MasterLabel, away). An "away" status is
# a busy one (no service channels): UserServicePresence.IsAway is true while a user is in it.
OMNI_PRESENCE_STATUSES = (
    ("Available_Voice", "Available - Voice", False),
    ("Available_Chat", "Available - Chat only", False),
    ("Busy", "Busy", True),
    ("Lunch", "Lunch", True),
)


@dataclass(frozen=True)
class SeedSize:
    """How many records a populated seed creates, and the share of contacts with a home number."""

    accounts: int
    contacts: int
    leads: int
    cases: int
    home_phone_share: float = 0.15


SEED_SIZES = {"demo": SeedSize(60, 200, 30, 80), "large": SeedSize(100, 400, 60, 160)}

COUNTRIES = ("FI", "SE", "GB", "US", "DE")
LANGUAGE = {"FI": "fi", "SE": "sv", "GB": "en", "US": "en", "DE": "de"}
COMPANY_SUFFIX = {"FI": "Oy", "SE": "AB", "GB": "Ltd", "US": "Inc.", "DE": "GmbH"}
EMAIL_DOMAIN = {"FI": "example.fi", "SE": "example.se", "GB": "example.co.uk", "US": "example.com",
                "DE": "example.de"}
FIRST_NAMES = {
    "FI": ["Matti", "Liisa", "Juha", "Anna", "Mikko", "Sanna", "Timo", "Laura", "Jari", "Elina", "Antti", "Heidi"],
    "SE": ["Erik", "Anna", "Lars", "Karin", "Johan", "Maria", "Anders", "Eva", "Per", "Sofia", "Björn", "Åsa"],
    "GB": ["Oliver", "Amelia", "Harry", "Olivia", "George", "Emily", "Jack", "Isla", "Charlie", "Sophie"],
    "US": ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Susan"],
    "DE": ["Lukas", "Anna", "Jonas", "Lena", "Felix", "Marie", "Paul", "Laura", "Leon", "Jürgen"],
}
LAST_NAMES = {
    "FI": ["Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen", "Koskinen",
           "Järvinen", "Lehtonen"],
    "SE": ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
           "Svensson", "Lindström"],
    "GB": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "O'Brien", "Davies", "Thomas"],
    "US": ["Johnson", "Miller", "Garcia", "Rodriguez", "Martinez", "Anderson", "Jackson", "White", "Harris"],
    "DE": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz"],
}
COMPANY_WORDS = (
    ["Nordic", "Aurora", "Baltic", "Polar", "Northwind", "Sisu", "Fjord", "Granite", "Harbor", "Lumen", "Summit",
     "Evergreen", "Blue Lake", "Silver Birch", "Iron Bridge"],
    ["Freight", "Software", "Logistics", "Energy", "Robotics", "Analytics", "Foods", "Health", "Retail", "Media",
     "Insurance", "Telecom"],
)
INDUSTRIES = ["Technology", "Transportation", "Energy", "Retail", "Healthcare", "Media", "Insurance", "Finance"]
TITLES = ["CEO", "CFO", "Buyer", "Office Manager", "IT Manager", "Logistics Coordinator", "Sales Director", None]
CASE_SUBJECTS = ["Invoice question", "Delivery delayed", "Cannot log in", "Change of address", "Broken device",
                 "Contract renewal", "Refund request", "Password reset", "Service outage", "Upgrade inquiry"]
LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _phone_fi(rng: random.Random) -> str:
    p, d = rng.choice(["40", "41", "44", "45", "50"]), _digits(rng, 7)
    return rng.choice([f"+358 {p} {d[:3]} {d[3:]}", f"0{p} {d[:3]} {d[3:]}", f"+358{p}{d}", f"0{p}-{d}"])


def _phone_se(rng: random.Random) -> str:
    p, d = rng.choice(["70", "72", "73", "76"]), _digits(rng, 7)
    return rng.choice([f"+46 {p} {d[:3]} {d[3:5]} {d[5:]}", f"0{p}-{d[:3]} {d[3:5]} {d[5:]}", f"+46{p}{d}"])


def _phone_gb(rng: random.Random) -> str:
    d = _digits(rng, 3)
    return rng.choice([f"+44 7700 900{d}", f"07700 900{d}", f"+44 20 7946 0{d}", f"020 7946 0{d}"])


def _phone_us(rng: random.Random) -> str:
    area, d = rng.choice(["415", "212", "312", "617", "206"]), _digits(rng, 2)
    return rng.choice([f"({area}) 555-01{d}", f"+1 {area} 555 01{d}", f"{area}-555-01{d}", f"+1{area}55501{d}"])


def _phone_de(rng: random.Random) -> str:
    d = _digits(rng, 8)
    return rng.choice([f"+49 30 {d}", f"030 {d}", f"+49 151 {d}", f"0151 {d}"])


PHONE_MAKERS: dict[str, Callable[[random.Random], str]] = {
    "FI": _phone_fi, "SE": _phone_se, "GB": _phone_gb, "US": _phone_us, "DE": _phone_de,
}


class _PhoneBook:
    """Hands out random phone numbers no other seeded number matches (books may share ``taken``)."""

    def __init__(self, rng: random.Random, reserved: list[str], taken: list[str] | None = None) -> None:
        self.rng = rng
        self.taken = taken if taken is not None else []
        self.taken.extend(phone_digits(p) for p in reserved)

    def new(self, country: str) -> str:
        while True:
            number = PHONE_MAKERS[country](self.rng)
            digits = phone_digits(number)
            if not any(phone_digits_match(digits, other) for other in self.taken):
                self.taken.append(digits)
                return number


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace("'", "").lower()


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def seed_users(store: Store, credentials: Credentials) -> str:
    """Create the integration user (and demo agents); returns the integration user's id."""
    user = store.create("User", {"Username": credentials.username, "FirstName": "Switchboard",
                                 "LastName": "Integration", "Email": "integration@example.com"},
                        created_at=DEMO_BASE_TIME - timedelta(days=365))
    for i, username in enumerate(DEMO_AGENT_USERNAMES, start=1):
        first, last = ("Sari", "Supervisor") if username.startswith("supervisor") else ("Agent", str(i))
        store.create("User", {"Username": username, "FirstName": first, "LastName": last,
                              "Email": username.replace("switchboard.demo", "example.com")},
                     created_at=DEMO_BASE_TIME - timedelta(days=300))
    return str(user["Id"])


def seed_record_types(store: Store) -> dict[tuple[str, str], str]:
    """Create the Case and Task record types; their ids by (SobjectType, DeveloperName)."""
    out = {}
    for sobject, developer_name, label in RECORD_TYPES:
        rec = store.create("RecordType", {"Name": label, "DeveloperName": developer_name, "SobjectType": sobject,
                                          "Description": f"{label} requests ({sobject})"},
                           created_at=DEMO_BASE_TIME - timedelta(days=365))
        out[(sobject, developer_name)] = str(rec["Id"])
    return out


def seed_omni_statuses(store: Store) -> dict[str, str]:
    """Create the Omni-Channel presence statuses (every user starts Offline: no UserServicePresence); their ids
    by DeveloperName."""
    out = {}
    for developer_name, label, _away in OMNI_PRESENCE_STATUSES:
        rec = store.create("ServicePresenceStatus", {"DeveloperName": developer_name, "MasterLabel": label,
                                                     "Language": "en_US"},
                           created_at=DEMO_BASE_TIME - timedelta(days=365), system=True)
        out[developer_name] = str(rec["Id"])
    return out


def _call_details(rng: random.Random, n: int, phone: str | None, start: datetime) -> dict[str, Any]:
    """The call-detail fields of a phone case (the second random stream only)."""
    wait, talk = rng.randint(0, 240), rng.randint(30, 1500)
    inbound = rng.random() < 0.8
    call_id = f"{int(start.timestamp())}.{n}"
    return {
        "Call_Id__c": call_id, "Call_Type__c": "Inbound" if inbound else "Outbound",
        "Call_Date__c": start.isoformat(), "Call_End_Time__c": (start + timedelta(seconds=wait + talk)).isoformat(),
        "Call_Duration_Sec__c": talk, "Queue_Wait_Time_Sec__c": wait, "Queue_Wait_Time__c": _hms(wait),
        "Service_Pool_Queue__c": rng.choice(DEMO_QUEUES), "Call_Result__c": "answered",
        "Phone_Number_2__c": phone, ("Phone_From__c" if inbound else "Phone_To__c"): phone,
        "Advanced_Call_Details__c": f"https://switchboard.demo/calls/{call_id}",
    }


def _callback_details(n: int, phone: str | None, start: datetime, record_type_id: str) -> dict[str, Any]:
    return {
        "RecordTypeId": record_type_id, "Callback_Channel_In__c": "IVR",
        "Callback_Creation_Time__c": start.isoformat(), "Callback_Contact_Number__c": phone,
        "Callback_Recording_URL__c": f"https://recordings.switchboard.demo/callbacks/{n}.wav",
        "Callback_Contact_Message__c": "Please call me back about my case.",
    }


def seed_demo(store: Store, owner_id: str, *, rng_seed: int = DEMO_RANDOM_SEED, size: SeedSize = SEED_SIZES["demo"],
              record_types: dict[tuple[str, str], str] | None = None) -> None:
    """Create a demo org of ``size`` (default: ~60 accounts, ~200 contacts, ~30 leads, ~80 cases), the same on
    every run; the named demo records come first."""
    rng = random.Random(rng_seed)
    detail_rng = random.Random(DETAIL_RANDOM_SEED)
    phones = _PhoneBook(rng, [DEMO_CONTACT_PHONE, DEMO_SHARED_PHONE, DEMO_LEAD_PHONE])
    home_phones = _PhoneBook(detail_rng, [], phones.taken)
    callback_type = (record_types or {}).get(("Case", CALLBACK_RECORD_TYPE))

    def when() -> datetime:
        return DEMO_BASE_TIME - timedelta(minutes=rng.randint(60, 60 * 24 * 90))

    def account(name: str, country: str) -> dict[str, object]:
        return store.create("Account", {
            "Name": name, "Phone": phones.new(country), "Type": rng.choice(["Customer", "Customer", "Partner"]),
            "Industry": rng.choice(INDUSTRIES), "BillingCountry": country,
            "SLA__c": rng.choice(["Gold", "Silver", "Silver", "Bronze", "Bronze"]), "Language__c": LANGUAGE[country],
        }, owner_id=owner_id, created_at=when())

    def contact(first: str, last: str, country: str, acc: dict[str, object] | None, phone: str | None = None,
                ) -> dict[str, object]:
        values: dict[str, object] = {
            "FirstName": first, "LastName": last, "Phone": phone or phones.new(country),
            "Email": f"{_ascii(first)}.{_ascii(last)}@{EMAIL_DOMAIN[country]}", "Title": rng.choice(TITLES),
            "AccountId": acc["Id"] if acc else None,
        }
        if rng.random() < 0.3:
            values["MobilePhone"] = phones.new(country)
        if detail_rng.random() < size.home_phone_share:
            values["HomePhone"] = home_phones.new(country)
        return store.create("Contact", values, owner_id=owner_id, created_at=when())

    maija_account = store.create("Account", {
        "Name": DEMO_ACCOUNT_NAME, "Phone": phones.new("FI"), "Type": "Customer", "Industry": "Media",
        "BillingCountry": "FI", "SLA__c": "Gold", "Language__c": "fi"}, owner_id=owner_id, created_at=when())
    korhonen = store.create("Account", {
        "Name": "Korhonen Kuljetus Oy", "Phone": phones.new("FI"), "Type": "Customer",
        "Industry": "Transportation", "BillingCountry": "FI", "SLA__c": "Silver", "Language__c": "fi"},
        owner_id=owner_id, created_at=when())
    accounts = [maija_account, korhonen]
    words = [f"{a} {b}" for a in COMPANY_WORDS[0] for b in COMPANY_WORDS[1]]
    rng.shuffle(words)
    for stem in words[:size.accounts - 2]:
        country = rng.choice(COUNTRIES)
        accounts.append(account(f"{stem} {COMPANY_SUFFIX[country]}", country))

    contacts = [
        store.create("Contact", {"FirstName": "Maija", "LastName": "Virtanen", "Phone": DEMO_CONTACT_PHONE,
                                 "Email": "maija.virtanen@example.fi", "Title": "Creative Director",
                                 "AccountId": maija_account["Id"]}, owner_id=owner_id, created_at=when()),
        # The shared number sits on two contacts; the account's own line differs.
        contact("Matti", "Korhonen", "FI", korhonen, DEMO_SHARED_PHONE),
        contact("Liisa", "Korhonen", "FI", korhonen, DEMO_SHARED_PHONE),
    ]
    while len(contacts) < size.contacts:
        acc = rng.choice(accounts[2:]) if rng.random() < 0.85 else None
        country = str(acc["BillingCountry"]) if acc else rng.choice(COUNTRIES)
        contacts.append(contact(rng.choice(FIRST_NAMES[country]), rng.choice(LAST_NAMES[country]), country, acc))

    store.create("Lead", {"FirstName": "Erik", "LastName": "Lindqvist", "Company": "Lindqvist Bygg AB",
                          "Phone": DEMO_LEAD_PHONE, "Email": "erik.lindqvist@example.se"},
                 owner_id=owner_id, created_at=when())
    for _ in range(size.leads - 1):
        country = rng.choice(COUNTRIES)
        first, last = rng.choice(FIRST_NAMES[country]), rng.choice(LAST_NAMES[country])
        values: dict[str, object] = {
            "FirstName": first, "LastName": last, "Phone": phones.new(country),
            "Company": f"{rng.choice(COMPANY_WORDS[0])} {rng.choice(COMPANY_WORDS[1])} {COMPANY_SUFFIX[country]}",
            "Email": f"{_ascii(first)}.{_ascii(last)}@{EMAIL_DOMAIN[country]}", "Status": rng.choice(LEAD_STATUSES),
        }
        if rng.random() < 0.3:
            values["MobilePhone"] = phones.new(country)
        store.create("Lead", values, owner_id=owner_id, created_at=when())

    for i in range(size.cases):
        who = contacts[0] if i == 0 else rng.choice(contacts)
        is_open = i < size.cases // 2
        case: dict[str, Any] = {
            "Subject": rng.choice(CASE_SUBJECTS), "Origin": rng.choice(["Phone", "Phone", "Email", "Web"]),
            "Status": rng.choice(["New", "Working", "Escalated"]) if is_open else "Closed",
            "Priority": rng.choice(["Low", "Medium", "Medium", "High"]), "ContactId": who["Id"],
            "AccountId": who.get("AccountId"), "SuppliedPhone": who.get("Phone"),
            "Description": "Created by the sfemu demo seed.",
        }
        created_at = when()
        if case["Origin"] == "Phone":
            case.update(_call_details(detail_rng, i, case["SuppliedPhone"], created_at))
            if callback_type and i % 10 == 3:
                case.update(_callback_details(i, case["SuppliedPhone"], created_at, callback_type))
        store.create("Case", case, owner_id=owner_id, created_at=created_at)
    logger.debug("seeded demo org with %s accounts and %s contacts", len(accounts), len(contacts))


def apply_seed(store: Store, seed: str | None, credentials: Credentials) -> str:
    """Load the named seed ("demo", "large", "empty" or None = empty) into ``store``; returns the integration
    user id."""
    if seed not in (None, *SEEDS):
        raise ValueError(f"unknown seed {seed!r}; choose one of {', '.join(SEEDS)}")
    user_id = seed_users(store, credentials)
    record_types = seed_record_types(store)
    seed_omni_statuses(store)
    if seed in SEED_SIZES:
        seed_demo(store, user_id, size=SEED_SIZES[seed], record_types=record_types)
    return user_id
