"""Caller identification with a Redis cache: lookups are the main cost in API requests.

One SOSL search per new number returns all the web phone shows of the caller's records: ids, names,
the contacts' account names (``Account.Name``) and the admin's result columns
(``Settings.workflow_*_columns``), so a screen pop or a match list needs no second request. A cached
entry remembers the RETURNING list that filled it: after an admin changes the columns, older entries
count as misses.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

import phonenumbers
import redis
from simple_salesforce import SalesforceMalformedRequest

from switchboard.config import FIELD_NAME, Settings
from switchboard.meter import Meter
from switchboard.salesforce import ascii_digits, find_by_phone, phone_returning
from switchboard.sfclient import SalesforceClient

logger = logging.getLogger(__name__)

PREFIX = "switchboard:sf:phone:"
NONE: dict[str, Any] = {"kind": "none", "records": []}
ACCOUNT_NAME = "Account.Name"  # a contact's account name, read in the same request
BASE_RETURNING = phone_returning({"Contact": [ACCOUNT_NAME]})  # without the admin's columns


def cache_key(number: str, region: str) -> str | None:
    """The cache key of a number: its E.164 form, or its digits when it does not parse; None for no digits."""
    try:
        parsed = phonenumbers.parse(number, region)
        if phonenumbers.is_possible_number(parsed):
            return PREFIX + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = ascii_digits(number)
    return PREFIX + digits if digits else None


def admin_columns(settings: Settings, sobject: str) -> list[str]:
    """The admin's extra result columns of Contact, Account, Lead or Case (valid field names only)."""
    setting = {"Contact": settings.workflow_contact_columns, "Account": settings.workflow_account_columns,
               "Lead": settings.workflow_lead_columns, "Case": settings.workflow_case_columns}[sobject]
    return list(dict.fromkeys(c for c in setting if FIELD_NAME.match(c)))


def lookup_returning(settings: Settings) -> str:
    """The phone lookup's RETURNING list with the contacts' account names and the admin's columns."""
    return phone_returning({"Contact": [ACCOUNT_NAME, *admin_columns(settings, "Contact")],
                            "Account": admin_columns(settings, "Account"), "Lead": admin_columns(settings, "Lead")})


def with_account_name(record: dict[str, Any]) -> dict[str, Any]:
    """A record whose nested ``Account`` relationship (from ``Account.Name``) becomes ``AccountName``."""
    if "Account" not in record:
        return record
    out = dict(record)
    account = out.pop("Account")
    out["AccountName"] = (account.get("Name") if isinstance(account, dict) else "") or ""
    return out


class CallerDirectory:
    """Finds the Salesforce records of a caller's number, from the cache when it can."""

    def __init__(self, client: SalesforceClient, cache: redis.Redis, meter: Meter, *, region: str,
                 ttl: int, negative_ttl: int, returning: Callable[[], str] = lambda: BASE_RETURNING) -> None:
        self.client = client
        self.cache = cache
        self.meter = meter
        self.region = region
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.returning = returning

    def identify(self, number: str) -> dict[str, Any]:
        """``{"kind": none|single|multiple, "records": [...]}`` for ``number``."""
        key = cache_key(number or "", self.region)
        if key is None:
            return dict(NONE)
        returning = self.returning()
        filled_by = hashlib.sha1(returning.encode()).hexdigest()[:12]
        raw = self.cache.get(key)
        if raw is not None:
            cached = json.loads(raw)
            if isinstance(cached, dict) and cached.get("returning") == filled_by:
                self.meter.count("lookup_cache_hits")
                return cached["match"]
        self.meter.count("lookup_cache_misses")
        match = self.client.call(lambda sf: self._search(sf, number, returning))
        match = {**match, "records": [with_account_name(r) for r in match["records"]]}
        self.cache.set(key, json.dumps({"returning": filled_by, "match": match}),
                       ex=self.ttl if match["records"] else self.negative_ttl)
        return match

    def _search(self, sf: Any, number: str, returning: str) -> dict[str, Any]:
        try:
            return find_by_phone(sf, number, self.region, returning)
        except SalesforceMalformedRequest as exc:
            if returning == BASE_RETURNING:
                raise
            # A column the org does not have (an admin's typo) must not cost every caller their identity.
            logger.error("Salesforce refused the lookup columns (%s); looking up without them", exc)
            return find_by_phone(sf, number, self.region, BASE_RETURNING)

    def invalidate(self, *numbers: str) -> None:
        """Forget cached lookups of these numbers (call when the product changes a phone field)."""
        keys = [k for n in numbers if (k := cache_key(n or "", self.region))]
        if keys:
            self.cache.delete(*keys)
