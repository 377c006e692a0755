"""The default routing rule: the dialled number's queue, as the dialplan chose it."""

from __future__ import annotations

from typing import Any


def default_queue(call: dict[str, Any]) -> str | None:
    """The queue the dialplan set for this call (None when it set none)."""
    return call.get("queue") or None
