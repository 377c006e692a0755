"""The caller's Salesforce data for routing plugins (``route_call``'s ``salesforce`` argument).

Routing has a hard deadline (500 ms), so every Salesforce operation is tried once (``budget=0``: no
backoff; an expired session still costs one re-login) and an error is raised to the router, which
keeps the dialplan's path. Answers are cached in this process for ``ttl`` seconds, keyed by the
caller's normalised number and the fields asked: a warm lookup reads no Salesforce and takes
microseconds.

One caller costs at most two requests:

1. a SOSL phone search (``switchboard.salesforce.find_by_phone``) returning the lookup fields plus the
   fields asked per object. A contact's account fields come in the same search as relationship fields
   (``Contact(..., Account.SLA__c)``), so ``account`` is filled for a contact caller without a second
   request; an account that matched the number itself returns its fields directly;
2. only when ``Case`` fields are asked (the key is present, even with no fields): the most recent open
   Case of the single contact, else of the account (one SOQL, ids quoted).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from cachetools import TTLCache

from switchboard.callerid import cache_key
from switchboard.config import FIELD_NAME
from switchboard.salesforce import find_by_phone, phone_returning, plain_record, soql_quote

logger = logging.getLogger(__name__)

T = TypeVar("T")
OBJECTS = ("Contact", "Account", "Lead", "Case")
CASE_FIELDS = ("Id", "CaseNumber", "Subject", "Status", "OwnerId", "CreatedDate")
DEFAULT_TTL = 60.0
AGENT_MAP_TTL = 30.0
CACHE_SIZE = 4096
Fields = Mapping[str, Sequence[str]]


class Runner(Protocol):
    """What runs a Salesforce operation (``switchboard.sfclient.SalesforceClient``)."""

    def call(self, op: Callable[[Any], T], *, budget: float | None = None) -> T:
        """Run ``op(sf)``; ``budget=0`` tries once."""


def checked_fields(fields: Fields | None) -> dict[str, tuple[str, ...]]:
    """``fields`` with known object names and valid, de-duplicated field names (ValueError otherwise)."""
    out: dict[str, tuple[str, ...]] = {}
    for sobject, names in (fields or {}).items():
        if sobject not in OBJECTS:
            raise ValueError(f"caller fields: unknown object {sobject!r}; known: {', '.join(OBJECTS)}")
        if isinstance(names, str):
            raise ValueError(f"caller fields: {sobject} must list field names, not a string")
        bad = [n for n in names if not (isinstance(n, str) and FIELD_NAME.match(n))]
        if bad:
            raise ValueError(f"caller fields: bad {sobject} field name(s) {bad}")
        out[sobject] = tuple(dict.fromkeys(names))
    return out


def search_fields(fields: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The extra RETURNING fields per object: a contact also returns its account's asked fields as
    ``Account.X`` (read in the same search)."""
    account = list(fields.get("Account", ()))
    return {"Contact": [*fields.get("Contact", ()), "AccountId", *(f"Account.{f}" for f in account if f != "Id")],
            "Account": account, "Lead": list(fields.get("Lead", ()))}


def split_account(contact: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A contact record without its nested ``Account`` relationship, and that account as a record
    (None when the contact has no account)."""
    contact = dict(contact)
    nested = contact.pop("Account", None)
    account_id = contact.get("AccountId")
    if not account_id:
        return contact, None
    fields = {k: v for k, v in (nested or {}).items() if k != "attributes"} if isinstance(nested, dict) else {}
    return contact, {"type": "Account", **fields, "Id": account_id}


def records_of(match: Mapping[str, Any]) -> dict[str, Any]:
    """The single contact, account and lead of a phone search's records (each None unless exactly one of
    its object matched; a contact's account counts as the account, as does the one account that every
    matched contact shares)."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for record in match.get("records", []):
        by_type.setdefault(str(record.get("type")), []).append(record)
    contacts = [split_account(c) for c in by_type.get("Contact", [])]
    accounts = by_type.get("Account", [])
    leads = by_type.get("Lead", [])
    contact = contacts[0][0] if len(contacts) == 1 else None
    account: dict[str, Any] | None = None
    their_accounts = {a["Id"]: a for _, a in contacts if a is not None}
    if contacts and len(their_accounts) == 1 and all(a is not None for _, a in contacts):
        account = next(iter(their_accounts.values()))
        same = [a for a in accounts if a.get("Id") == account["Id"]]
        if same:
            account = {**account, **same[0]}
    elif not contacts and len(accounts) == 1:
        account = dict(accounts[0])
    return {"contact": contact, "account": account, "lead": dict(leads[0]) if len(leads) == 1 else None}


def open_case_soql(fields: Sequence[str], contact_id: str | None, account_id: str | None) -> str | None:
    """The SOQL reading the most recent open Case of the contact, else of the account; None for neither."""
    if contact_id:
        where = f"ContactId = {soql_quote(contact_id)}"
    elif account_id:
        where = f"AccountId = {soql_quote(account_id)}"
    else:
        return None
    select = ", ".join(dict.fromkeys([*CASE_FIELDS, *fields]))
    return f"SELECT {select} FROM Case WHERE {where} AND IsClosed = false ORDER BY CreatedDate DESC LIMIT 1"


def _copy(answer: Mapping[str, Any]) -> dict[str, Any]:
    """A cached answer for one caller: its records are flat, so copying each record is a deep copy."""
    return {k: dict(v) if isinstance(v, dict) else v for k, v in answer.items()}


class SalesforceData:
    """The ``SalesforceData`` of ``switchboard.hookspecs``: cached caller lookups, flows, agent links.
    Thread-safe: plugins call it from the plugin threads."""

    def __init__(self, runner: Runner, region: str, linked_agents: Callable[[], Mapping[str, str]], *,
                 ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        """``linked_agents`` gives agent (SIP user name) -> Salesforce user id, as ``Store.linked_agents``."""
        self.runner = runner
        self.region = region
        self.linked_agents = linked_agents
        self.clock = clock
        self._cache: TTLCache[tuple[Any, ...], dict[str, Any]] = TTLCache(CACHE_SIZE, ttl, timer=clock)
        self._lock = threading.Lock()  # the caller cache
        self._agents_lock = threading.Lock()  # the agent map (its refresh reads the database)
        self._agents: dict[str, str] = {}
        self._agents_read_at: float | None = None

    # callers --------------------------------------------------------------------------------------------
    def caller(self, number: str, fields: Fields | None = None) -> dict[str, Any]:
        """The records ``number`` identifies: ``{"kind", "contact", "account", "lead", "case"}``."""
        asked = checked_fields(fields)
        normalised = cache_key(number or "", self.region)
        if normalised is None:
            return {"kind": "none", "contact": None, "account": None, "lead": None, "case": None}
        key = (normalised, tuple(sorted(asked.items())))
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return _copy(cached)
        answer = self.runner.call(lambda sf: self._lookup(sf, number, asked), budget=0)
        with self._lock:
            self._cache[key] = answer
        return _copy(answer)

    def _lookup(self, sf: Any, number: str, asked: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        match = find_by_phone(sf, number, self.region, phone_returning(search_fields(asked)))
        answer: dict[str, Any] = {"kind": match["kind"], **records_of(match), "case": None}
        if "Case" in asked:
            contact, account = answer["contact"], answer["account"]
            soql = open_case_soql(asked["Case"], contact and contact.get("Id"), account and account.get("Id"))
            if soql:
                rows = sf.query(soql).get("records", [])
                answer["case"] = plain_record(rows[0]) if rows else None
        logger.debug("caller %s: %s (case %s)", number, answer["kind"], bool(answer["case"]))
        return answer

    def forget(self) -> None:
        """Drop every cached caller (e.g. after records changed)."""
        with self._lock:
            self._cache.clear()

    # flows ----------------------------------------------------------------------------------------------
    def invoke_flow(self, api_name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run the autolaunched Flow ``api_name`` with ``inputs`` (once, no retries); its outputs."""
        from switchboard import flows  # noqa: PLC0415 - written alongside; only routing plugins need it

        return self.runner.call(lambda sf: flows.invoke_flow(sf, api_name, inputs), budget=0)

    # agents ---------------------------------------------------------------------------------------------
    def agent_for_user(self, user_id: str) -> str | None:
        """The agent linked to Salesforce user ``user_id`` (15 or 18 characters), or None."""
        if not user_id:
            return None
        return self._user_agents().get(str(user_id)[:15])

    def _user_agents(self) -> dict[str, str]:
        with self._agents_lock:
            now = self.clock()
            if self._agents_read_at is not None and now - self._agents_read_at < AGENT_MAP_TTL:
                return self._agents
            try:
                linked = self.linked_agents()
            except Exception:  # a database hiccup: keep the last map, try again later
                logger.exception("cannot read the agents' Salesforce users; using the last known")
            else:
                agents: dict[str, str] = {}
                for agent, user in sorted(linked.items()):
                    if user:
                        agents.setdefault(str(user)[:15], agent)  # two agents of one user: the first by name
                self._agents = agents
            self._agents_read_at = now
            return self._agents
