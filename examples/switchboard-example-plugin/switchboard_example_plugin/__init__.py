"""An example of a third party's Switchboard plugin, installed as its own distribution.

Configured in Switchboard's YAML config (it does nothing without configuration)::

    plugins:
      example_plugin:
        subject_prefix: "[Example]"          # put before the Subject of every call Task
        refuse:                              # statuses agents may not choose, with the reason they see
          Lunch: "Lunch breaks start at 11:00."
        log_callers: true                    # log who each queue call's caller is
"""

from __future__ import annotations

import logging
from typing import Any

from switchboard.hookspecs import Veto, hookimpl

logger = logging.getLogger(__name__)


@hookimpl
def startup(process: str, config: dict[str, Any]) -> None:
    """Say what the plugin will do in this process."""
    logger.info("example plugin ready in the %s: subject prefix %r, refusing %s", process,
                config.get("subject_prefix", ""), ", ".join(config.get("refuse", {})) or "nothing")


@hookimpl
def caller_identified(call_id: str, caller_number: str, match: dict[str, Any], config: dict[str, Any]) -> None:
    """Log who the caller of a queue call is, when configured to."""
    if config.get("log_callers"):
        names = [r.get("Name", "?") for r in match.get("records", [])]
        logger.info("example plugin: call %s from %s is %s %s", call_id, caller_number, match.get("kind"), names)


@hookimpl
def call_activity(sobject: str, fields: dict[str, Any], config: dict[str, Any]) -> dict[str, Any] | None:
    """Put the configured prefix before a call Task's Subject."""
    prefix = config.get("subject_prefix")
    if sobject != "Task" or not prefix:
        return None
    return {"Subject": f"{prefix} {fields.get('Subject', '')}"}


@hookimpl
def status_change_requested(status: dict[str, Any], config: dict[str, Any]) -> Veto | None:
    """Refuse the statuses the configuration lists, with their reason."""
    reason = config.get("refuse", {}).get(status["name"])
    return Veto(str(reason)) if reason else None
