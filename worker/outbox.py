"""The outbox: call activities waiting to be written to Salesforce in batches.

A record is keyed by its external id (the Asterisk linkedid), so a duplicated or retried job replaces
its own entry instead of adding one. Entries stay in Redis (append-only) until Salesforce confirmed
them, and are then removed only if nobody replaced them meanwhile: a crash anywhere means the batch is
sent again, and because it is an upsert on the external id it still makes one record.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis

PREFIX = "switchboard:sf:outbox:"
# Delete an entry only if it is still the version that was written.
_COMPARE_AND_DELETE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Entry:
    """One record waiting to be written."""

    sobject: str
    external_id_field: str
    external_id: str
    fields: dict[str, Any]
    ended_at: float
    raw: bytes = b""

    def record(self) -> dict[str, Any]:
        """The record as sObject Collections expects it."""
        return {"attributes": {"type": self.sobject}, self.external_id_field: self.external_id, **self.fields}


class Outbox:
    """Pending upserts of one sObject by one external id field."""

    def __init__(self, client: redis.Redis, sobject: str, external_id_field: str) -> None:
        self.redis = client
        self.sobject = sobject
        self.external_id_field = external_id_field
        self.items = f"{PREFIX}{sobject}"
        self.due = f"{PREFIX}{sobject}:due"
        self.dead = f"{PREFIX}{sobject}:dead"
        self._cad = client.register_script(_COMPARE_AND_DELETE)

    def put(self, external_id: str, fields: dict[str, Any], ended_at: float) -> None:
        """Add or replace the pending record for ``external_id``."""
        raw = json.dumps({"fields": fields, "ended_at": ended_at}, sort_keys=True)
        pipe = self.redis.pipeline()
        pipe.hset(self.items, external_id, raw)
        pipe.zadd(self.due, {external_id: time.time()}, nx=True)
        pipe.execute()

    def pending(self) -> int:
        """How many records wait."""
        return int(self.redis.zcard(self.due))

    def oldest_age(self) -> float | None:
        """Seconds the oldest waiting record has waited, or None."""
        first = self.redis.zrange(self.due, 0, 0, withscores=True)
        return time.time() - first[0][1] if first else None

    def take(self, limit: int) -> list[Entry]:
        """Up to ``limit`` oldest records (they stay in the outbox until ``done``)."""
        ids = [i.decode() for i in self.redis.zrange(self.due, 0, limit - 1)]
        if not ids:
            return []
        out = []
        for ext_id, raw in zip(ids, self.redis.hmget(self.items, ids), strict=True):
            if raw is None:  # removed meanwhile
                self.redis.zrem(self.due, ext_id)
                continue
            data = json.loads(raw)
            out.append(Entry(self.sobject, self.external_id_field, ext_id, data["fields"], data["ended_at"], raw))
        return out

    def done(self, entry: Entry) -> bool:
        """Remove a written record unless it was replaced meanwhile (then it is written again)."""
        return bool(self._cad(keys=[self.items, self.due], args=[entry.external_id, entry.raw]))

    def dead_letter(self, entry: Entry, errors: list[dict[str, Any]]) -> None:
        """Park a record Salesforce refused for good, with its errors, for an admin to see and retry."""
        self.redis.hset(self.dead, entry.external_id, json.dumps(
            {"fields": entry.fields, "ended_at": entry.ended_at, "errors": errors, "at": time.time()}))
        self.done(entry)

    def dead_letters(self) -> dict[str, dict[str, Any]]:
        """Every parked record with its errors."""
        return {k.decode(): json.loads(v) for k, v in self.redis.hgetall(self.dead).items()}

    def retry_dead(self) -> int:
        """Put every parked record back in the outbox; returns how many."""
        parked = self.dead_letters()
        for ext_id, data in parked.items():
            self.put(ext_id, data["fields"], data["ended_at"])
            self.redis.hdel(self.dead, ext_id)
        return len(parked)
