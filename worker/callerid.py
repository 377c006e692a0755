"""Caller identification with a Redis cache: lookups are the main cost in API requests."""

from __future__ import annotations

import json
import logging
from typing import Any

import phonenumbers
import redis

from worker.client import SalesforceClient
from worker.meter import Meter
from worker.salesforce import ascii_digits, find_by_phone

logger = logging.getLogger(__name__)

PREFIX = "switchboard:sf:phone:"
NONE: dict[str, Any] = {"kind": "none", "records": []}


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


class CallerDirectory:
    """Finds the Salesforce records of a caller's number, from the cache when it can."""

    def __init__(self, client: SalesforceClient, cache: redis.Redis, meter: Meter, *, region: str,
                 ttl: int, negative_ttl: int) -> None:
        self.client = client
        self.cache = cache
        self.meter = meter
        self.region = region
        self.ttl = ttl
        self.negative_ttl = negative_ttl

    def identify(self, number: str) -> dict[str, Any]:
        """``{"kind": none|single|multiple, "records": [...]}`` for ``number``."""
        key = cache_key(number or "", self.region)
        if key is None:
            return dict(NONE)
        raw = self.cache.get(key)
        if raw is not None:
            self.meter.count("lookup_cache_hits")
            return json.loads(raw)
        self.meter.count("lookup_cache_misses")
        match = self.client.call(lambda sf: find_by_phone(sf, number, self.region))
        self.cache.set(key, json.dumps(match), ex=self.ttl if match["records"] else self.negative_ttl)
        return match

    def invalidate(self, *numbers: str) -> None:
        """Forget cached lookups of these numbers (call when the product changes a phone field)."""
        keys = [k for n in numbers if (k := cache_key(n or "", self.region))]
        if keys:
            self.cache.delete(*keys)
