"""An example of a third party's Switchboard plugin, installed as its own distribution.

Configured in Switchboard's YAML config (it does nothing without configuration)::

    plugins:
      example_plugin:
        subject_prefix: "[Example]"          # put before the Subject of every call Task
        refuse:                              # statuses agents may not choose, with the reason they see
          Lunch: "Lunch breaks start at 11:00."
        log_callers: true                    # log who each queue call's caller is
        routes:                              # caller number -> a routing decision (switchboard.routing)
          "+358401110001": {agent: agent2, agent_seconds: 5, fallback_queue: cs-fi, reason: "their agent"}
        hang_numbers_ending: ["0"]           # a deliberately broken router for tests: it never answers
                                             # for callers whose number ends so (the deadline must hold)
        hang_names: ["Hang Test"]            # ... and for callers who send this name
        hang_seconds: 5                      # how long it hangs each time
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from switchboard.hookspecs import Veto, hookimpl

logger = logging.getLogger(__name__)
_never = threading.Event()  # what a hanging router waits for


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


@hookimpl(tryfirst=True)  # its explicit routes (and its hangs) come before any rule of the other plugins
def route_call(call: dict[str, Any], config: dict[str, Any]) -> dict[str, Any] | None:
    """Route the callers the configuration lists; hang for those it says to (a test of the deadline)."""
    number = str(call.get("caller_number") or "")
    if (str(call.get("caller_name") or "") in config.get("hang_names", [])
            or number and any(number.endswith(tail) for tail in config.get("hang_numbers_ending", []))):
        _never.wait(float(config.get("hang_seconds", 5)))  # the orchestrator's deadline ends the chain first
        return None
    decision = config.get("routes", {}).get(number)
    return dict(decision, rules=["example-routes"]) if decision else None
