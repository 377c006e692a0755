"""The rules a ``salesforce_rules`` config section names, parsed once per content and shared by every call.

The section gives ``rules_file`` (a path, or ``demo`` for ``demo_rules.yaml``) or ``rules`` (YAML text or
an already parsed list). A file is read again only when its modification time or size changes (one
``stat`` per call), so edited rules apply to the next call without a restart. Invalid rules are logged
as errors, each with its line, once per content; the plugin then routes nothing.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from plugins.salesforce_rules.rules import DEMO_RULES, RulesError, RuleSet, parse_rules, read_source

logger = logging.getLogger(__name__)


def fingerprint(config: Mapping[str, Any]) -> tuple[Any, ...]:
    """What identifies the rules of a section: the file's path, mtime and size, or the inline rules."""
    if config.get("rules_file") is not None:
        source = str(config["rules_file"])
        path = DEMO_RULES if source == "demo" else source
        try:
            st = os.stat(path)
        except OSError:
            return ("file", source, None, None)
        return ("file", source, st.st_mtime_ns, st.st_size)
    rules = config.get("rules")
    return ("inline", rules if isinstance(rules, str) else json.dumps(rules, sort_keys=True, default=str))


class RuleBook:
    """Parsed rules by their section's fingerprint (thread-safe); None for a section whose rules are unusable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parsed: dict[tuple[Any, ...], RuleSet | None] = {}

    def rules_for(self, config: Mapping[str, Any]) -> RuleSet | None:
        """The section's rules, parsed the first time this content is seen (errors logged then)."""
        key = fingerprint(config)
        with self._lock:
            if key in self._parsed:
                return self._parsed[key]
            parsed = self._parse(config)
            if key[0] == "file":  # keep one version per file
                for old in [k for k in self._parsed if k[:2] == key[:2]]:
                    del self._parsed[old]
            self._parsed[key] = parsed
            return parsed

    @staticmethod
    def _parse(config: Mapping[str, Any]) -> RuleSet | None:
        file, inline = config.get("rules_file"), config.get("rules")
        if file is None and inline is None:
            logger.info("salesforce_rules: no rules_file or rules configured; routing nothing")
            return None
        origin = f"rules file {file}" if file is not None else "inline rules"
        try:
            rules = parse_rules(read_source(str(file)) if file is not None else inline)
        except OSError as exc:
            logger.error("salesforce_rules: cannot read %s: %s; routing nothing", origin, exc.strerror or exc)
            return None
        except RulesError as exc:
            for error in exc.errors:
                logger.error("salesforce_rules: %s: %s", origin, error)
            logger.error("salesforce_rules: %s refused (%d problem(s)); routing nothing", origin, len(exc.errors))
            return None
        logger.info("salesforce_rules: %d rule(s) from %s: %s", len(rules.rules), origin,
                    ", ".join(r.name for r in rules.rules))
        return rules
