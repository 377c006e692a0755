"""Salesforce rules routing: wiring only; the rules are in ``plugins.salesforce_rules.rules``."""

from __future__ import annotations

from typing import Any

from plugins.salesforce_rules import loading, rules
from switchboard.hookspecs import Presence, SalesforceData, hookimpl
from switchboard.routing import Decision

BOOK = loading.RuleBook()


@hookimpl
def startup(process: str, config: dict[str, Any]) -> None:
    """Parse and check the rules when the orchestrator starts (problems are logged with their lines)."""
    if process == "orchestrator":
        BOOK.rules_for(config)


@hookimpl
def route_call(call: dict[str, Any], salesforce: SalesforceData, presence: Presence,
               config: dict[str, Any]) -> Decision | None:
    """Route by the configured rules over the caller's Salesforce records (None: no rule applies)."""
    ruleset = BOOK.rules_for(config)
    return None if ruleset is None else rules.route(ruleset, call, salesforce, presence)
