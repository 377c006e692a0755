"""Declarative routing rules over the identified caller's Salesforce records: parse, check, evaluate.

Rule file format (docs/routing.md, "salesforce_rules"; the demo is ``demo_rules.yaml`` beside this)::

    rules:
      - name: finnish                          # unique
        when: {account.Language__c: fi}        # a mapping is an AND; a list of mappings is an OR
        then: {queue: cs-fi, skip_ivr: true}
      - name: vip
        when: {account.VIP__c: true}
        then: {agent_from: account.OwnerId, agent_seconds: 20}
        otherwise: {priority: 100}             # when that agent is not Available
        stop: true                             # no later rule is looked at

Every matching rule applies, in order; the first rule to set a field wins; ``stop`` ends evaluation.
Paths: ``contact.F``, ``account.F``, ``case.F``, ``lead.F`` (a field of the caller's record), ``caller.kind``
(none / single / multiple), ``call.queue``, ``call.dialled``, ``call.caller_number``, ``call.caller_name``,
``call.ivr``. A condition is a scalar (equality; text compares case-insensitively) or a one-key mapping
``{operator: operand}`` with the operators of the emulator's flow rules: equals, not_equals, in, not_in,
exists, gt, gte, lt, lte, starts_with, contains.

Parsing is pure (text in, ``RuleSet`` or ``RulesError`` with line numbers out); so is evaluating (records
and callables in, ``Decision`` out). Only ``check_rules`` and ``read_source`` read files.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from switchboard.config import FIELD_NAME
from switchboard.routing import (
    DEFAULT_AGENT_SECONDS,
    MAX_AGENT_SECONDS,
    MAX_PRIORITY,
    NAME,
    SOUND,
    Decision,
    agent_available,
)

logger = logging.getLogger(__name__)

DEMO_RULES = Path(__file__).resolve().parent / "demo_rules.yaml"
RECORDS = {"contact": "Contact", "account": "Account", "case": "Case", "lead": "Lead"}
CALL_KEYS = ("queue", "dialled", "caller_number", "caller_name", "ivr")
CALLER_KEYS = ("kind",)
RULE_KEYS = ("name", "when", "then", "otherwise", "stop")
DECISION_KEYS = ("queue", "priority", "skip_ivr", "announcement")
AGENT_KEYS = ("agent_from", "agent_seconds", "fallback_queue")
LABELS = {"queue": "queue", "priority": "priority", "skip_ivr": "skip IVR", "announcement": "announcement",
          "agent": "agent", "fallback_queue": "fallback"}


class RulesError(ValueError):
    """Rules that cannot be used: ``errors`` lists each problem, with its line when the text had one."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


# operators (the vocabulary of sfemu/flow_rules.py) ---------------------------------------------------------
def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _equals(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).casefold() == str(b).casefold() if a is not None and b is not None else a is b
    if isinstance(a, int | float) and isinstance(b, str) or isinstance(b, int | float) and isinstance(a, str):
        try:
            return float(a) == float(b)
        except ValueError:
            return False
    return bool(_fold(a) == _fold(b))


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def test(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        if isinstance(b, int | float) and isinstance(a, str):
            try:
                a = float(a)
            except ValueError:
                return False
        try:
            return compare(_fold(a), _fold(b))
        except TypeError:
            return False
    return test


def _listed(b: Any) -> list[Any]:
    return b if isinstance(b, list) else [b]


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": _equals,
    "not_equals": lambda a, b: not _equals(a, b),
    "in": lambda a, b: any(_equals(a, x) for x in _listed(b)),
    "not_in": lambda a, b: not any(_equals(a, x) for x in _listed(b)),
    "exists": lambda a, b: (a is not None and a != "") == bool(b),
    "gt": _ordered(lambda a, b: a > b), "gte": _ordered(lambda a, b: a >= b),
    "lt": _ordered(lambda a, b: a < b), "lte": _ordered(lambda a, b: a <= b),
    "starts_with": lambda a, b: isinstance(a, str) and _fold(a).startswith(_fold(str(b))),
    "contains": lambda a, b: isinstance(a, str) and _fold(str(b)) in _fold(a),
}


# the model ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """One test of a path's value."""

    path: str
    op: str
    operand: Any


@dataclass(frozen=True)
class Rule:
    """When any group of conditions holds (all of its conditions), ``then`` applies; when the rule names an
    agent (``agent_from``) who is not Available, ``otherwise`` applies too."""

    name: str
    when: tuple[tuple[Condition, ...], ...]
    then: Mapping[str, Any]
    agent_from: str | None = None
    agent_seconds: int = DEFAULT_AGENT_SECONDS
    fallback_queue: str | None = None
    otherwise: Mapping[str, Any] = field(default_factory=dict)
    stop: bool = False
    line: int | None = None

    def paths(self) -> list[str]:
        """Every path the rule reads."""
        found = [c.path for group in self.when for c in group]
        return found + [self.agent_from] if self.agent_from else found


@dataclass(frozen=True)
class RuleSet:
    """Checked rules, in the order they apply."""

    rules: tuple[Rule, ...]

    def fields(self) -> dict[str, list[str]]:
        """The fields of each object the rules read: what to ask ``salesforce.caller`` for (a ``Case`` key
        whenever a rule reads the case)."""
        out: dict[str, list[str]] = {}
        for rule in self.rules:
            for path in rule.paths():
                root, _, name = path.partition(".")
                if root in RECORDS:
                    out.setdefault(RECORDS[root], [])
                    if name.casefold() not in (f.casefold() for f in out[RECORDS[root]]):
                        out[RECORDS[root]].append(name)
        return out

    def needs_caller(self) -> bool:
        """Whether any rule reads the caller's records (else no Salesforce lookup is needed)."""
        return any(p.split(".")[0] in (*RECORDS, "caller") for r in self.rules for p in r.paths())


# parsing --------------------------------------------------------------------------------------------------
class _Lines(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers the line of each key (``lines``) and its own (``line``)."""

    line: int | None = None
    lines: dict[Any, int]
    duplicates: list[tuple[Any, int]]


class _Items(list):  # type: ignore[type-arg]
    """A YAML sequence that remembers the line of each item."""

    line: int | None = None
    lines: list[int]


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader whose mappings and sequences carry their line numbers (from node marks)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Lines:
    loader.flatten_mapping(node)
    out = _Lines()
    out.line, out.lines, out.duplicates = node.start_mark.line + 1, {}, []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(None, None, "a key must be text", key_node.start_mark)
        if key in out:
            out.duplicates.append((key, line))
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _Items:
    out = _Items(loader.construct_object(child, deep=True) for child in node.value)
    out.line, out.lines = node.start_mark.line + 1, [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(text: str) -> Any:
    """Parse YAML text keeping line numbers on mappings and sequences; RulesError naming the line on a
    syntax error."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise RulesError([f"{where}not valid YAML: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise RulesError([f"not valid YAML: {exc}"]) from None


class _Checker:
    """Collects every problem of one rule document, each with the line it is on when known."""

    def __init__(self, queues: Collection[str] | None) -> None:
        self.errors: list[str] = []
        self.queues = queues

    def error(self, line: int | None, where: str, message: str) -> None:
        self.errors.append(f"{f'line {line}: ' if line else ''}{where}{message}")

    @staticmethod
    def line(container: Any, key: Any = None) -> int | None:
        if key is not None and isinstance(container, _Lines):
            return container.lines.get(key, container.line)
        if isinstance(key, int) and isinstance(container, _Items) and key < len(container.lines):
            return container.lines[key]
        return getattr(container, "line", None)

    def rules(self, data: Any) -> tuple[Rule, ...]:
        items = data.get("rules") if isinstance(data, Mapping) else data
        if isinstance(data, Mapping) and set(data) - {"rules"}:
            extra = sorted(map(str, set(data) - {"rules"}))
            self.error(self.line(data, next(iter(set(data) - {"rules"}))), "", f"unknown key(s) {extra}; "
                       "a rule file holds 'rules:', a list of rules")
        if not isinstance(items, list):
            self.error(self.line(data), "", "expected a list of rules (or a mapping with a 'rules' list)")
            return ()
        out: list[Rule] = []
        names: dict[str, int | None] = {}
        for i, raw in enumerate(items):
            rule = self.rule(raw, self.line(items, i), i + 1)
            if rule is None:
                continue
            if rule.name in names:
                self.error(rule.line, f"rule {rule.name!r}: ", "the name is used twice (rules need unique names)")
            names[rule.name] = rule.line
            out.append(rule)
        return tuple(out)

    def rule(self, raw: Any, line: int | None, number: int) -> Rule | None:
        if not isinstance(raw, Mapping):
            self.error(line, f"rule {number}: ", "a rule must be a mapping with name, when and then")
            return None
        name = raw.get("name")
        where = f"rule {name!r}: " if isinstance(name, str) and name else f"rule {number}: "
        count = len(self.errors)
        for key, key_line in getattr(raw, "duplicates", []):
            self.error(key_line, where, f"{key!r} is given twice")
        unknown = [k for k in raw if k not in RULE_KEYS]
        for key in unknown:
            self.error(self.line(raw, key), where, f"unknown key {key!r}; a rule has {', '.join(RULE_KEYS)}")
        if not (isinstance(name, str) and name.strip()):
            self.error(self.line(raw, "name") if "name" in raw else line, where, "needs a name")
        when = self.when(raw.get("when"), self.line(raw, "when") if "when" in raw else line, where)
        then = raw.get("then")
        if not isinstance(then, Mapping) or not then:
            self.error(self.line(raw, "then") if "then" in raw else line, where,
                       "needs 'then': a mapping of what it sets (queue, priority, skip_ivr, announcement, "
                       "agent_from, agent_seconds, fallback_queue)")
            then = {}
        sets = self.sets(then, where + "then: ", (*DECISION_KEYS, *AGENT_KEYS))
        otherwise = raw.get("otherwise") or {}
        if "otherwise" in raw and "agent_from" not in then:
            self.error(self.line(raw, "otherwise"), where, "'otherwise' applies when the agent of 'agent_from' "
                       "is not Available: it needs then.agent_from")
        if not isinstance(otherwise, Mapping):
            self.error(self.line(raw, "otherwise"), where, "'otherwise' must be a mapping")
            otherwise = {}
        other = self.sets(otherwise, where + "otherwise: ", DECISION_KEYS)
        for key in set(other) & set(sets):
            self.error(self.line(otherwise, key), where, f"otherwise.{key} can never apply: then sets {key} too")
        for key in ("agent_seconds", "fallback_queue"):
            if key in sets and "agent_from" not in sets:
                self.error(self.line(then, key), where, f"{key} needs agent_from")
        stop = raw.get("stop", False)
        if not isinstance(stop, bool):
            self.error(self.line(raw, "stop"), where, "stop must be true or false")
        if len(self.errors) > count:
            return None
        return Rule(str(name).strip(), when, {k: v for k, v in sets.items() if k in DECISION_KEYS},
                    sets.get("agent_from"), sets.get("agent_seconds", DEFAULT_AGENT_SECONDS),
                    sets.get("fallback_queue"), dict(other), bool(stop), line)

    def when(self, raw: Any, line: int | None, where: str) -> tuple[tuple[Condition, ...], ...]:
        if raw is None:
            return ((),)  # no conditions: every call
        groups = raw if isinstance(raw, list) else [raw]
        out = []
        for i, group in enumerate(groups):
            group_line = self.line(raw, i) if isinstance(raw, list) else line
            if not isinstance(group, Mapping) or (isinstance(raw, list) and not group):
                self.error(group_line, where, "'when' must be a mapping of path: condition, or a list of them")
                continue
            for key, key_line in getattr(group, "duplicates", []):
                self.error(key_line, where, f"{key!r} is given twice")
            out.append(tuple(c for path, test in group.items()
                             if (c := self.condition(path, test, self.line(group, path), where)) is not None))
        return tuple(out)

    def condition(self, path: Any, test: Any, line: int | None, where: str) -> Condition | None:
        problem = path_problem(path)
        if problem:
            self.error(line, where, problem)
            return None
        if isinstance(test, Mapping):
            if len(test) != 1:
                self.error(line, where, f"{path}: a condition is a value or one {{operator: operand}}")
                return None
            op, operand = next(iter(test.items()))
            if op not in OPERATORS:
                self.error(line, where, f"{path}: unknown operator {op!r}; known: {', '.join(OPERATORS)}")
                return None
        elif isinstance(test, list):
            self.error(line, where, f"{path}: a list needs an operator: {{in: [...]}}")
            return None
        else:
            op, operand = "equals", test
        if op == "exists" and not isinstance(operand, bool):
            self.error(line, where, f"{path}: exists takes true or false")
            return None
        if isinstance(operand, Mapping) or isinstance(operand, list) and op not in ("in", "not_in"):
            self.error(line, where, f"{path}: {op} takes a single value")
            return None
        return Condition(path, op, operand)

    def sets(self, raw: Mapping[str, Any], where: str, allowed: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in raw.items():
            line = self.line(raw, key)
            if key not in allowed:
                self.error(line, where, f"unknown field {key!r}; it may set {', '.join(allowed)}")
                continue
            problem = self.value_problem(key, value)
            if problem:
                self.error(line, where, f"{key}: {problem}")
                continue
            out[key] = value
        return out

    def value_problem(self, key: str, value: Any) -> str | None:
        if key in ("queue", "fallback_queue"):
            if not (isinstance(value, str) and NAME.match(value)):
                return f"{value!r} is not a queue name"
            if self.queues is not None and value not in self.queues:
                return f"there is no queue {value!r}"
        elif key == "priority":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRIORITY:
                return f"must be a whole number 0..{MAX_PRIORITY}"
        elif key == "skip_ivr":
            if not isinstance(value, bool):
                return "must be true or false"
        elif key == "announcement":
            if not (isinstance(value, str) and SOUND.match(value)):
                return f"{value!r} is not a sound name (no extension)"
        elif key == "agent_seconds":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_AGENT_SECONDS:
                return f"must be a whole number 1..{MAX_AGENT_SECONDS}"
        elif key == "agent_from":
            problem = path_problem(value)
            if problem or str(value).split(".")[0] not in RECORDS:
                return problem or f"{value!r} must be a record field holding a user id, e.g. case.OwnerId"
        return None


def path_problem(path: Any) -> str | None:
    """Why ``path`` is not a path a rule may read, or None."""
    if not isinstance(path, str):
        return f"{path!r} is not a path"
    root, dot, name = path.partition(".")
    if root in RECORDS:
        if not dot or not FIELD_NAME.match(name):
            return f"{path!r}: {root}.<Field> needs one Salesforce field name, e.g. {root}.OwnerId"
        return None
    known = {"call": CALL_KEYS, "caller": CALLER_KEYS}
    if root in known:
        return None if name in known[root] else f"{path!r}: {root}.<x> is one of {', '.join(known[root])}"
    paths = [f"{r}.<Field>" for r in RECORDS] + [f"{r}.{k}" for r in known for k in known[r]]
    return f"unknown path {path!r}; paths are {', '.join(paths)}"


def parse_rules(source: Any, queues: Collection[str] | None = None) -> RuleSet:
    """Check rules: YAML text, or an already parsed list (or ``{"rules": [...]}``); RulesError listing
    every problem (with its line when the source was text). ``queues``: also check the queues exist."""
    data = load_yaml(source) if isinstance(source, str) else source
    checker = _Checker(queues)
    rules = checker.rules(data)
    if checker.errors:
        raise RulesError(checker.errors)
    if not rules:
        raise RulesError(["no rules"])
    return RuleSet(rules)


def read_source(source: str | Path) -> str:
    """The text of a rules file (``demo``: the packaged demo rules); OSError when it cannot be read."""
    path = DEMO_RULES if str(source) == "demo" else Path(source)
    return path.read_text(encoding="utf-8")


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


def check_rules(text_or_path: str | Path, queues: Collection[str] | None = None) -> list[str]:
    """The problems of a rules file (a path, ``demo``) or YAML text, each with its line; [] when usable."""
    text = str(text_or_path)
    if isinstance(text_or_path, Path) or text == "demo" or "\n" not in text and (":" not in text or _is_file(text)):
        try:
            text = read_source(text_or_path)
        except OSError as exc:
            return [f"cannot read {text_or_path}: {exc.strerror or exc}"]
    try:
        parse_rules(text, queues)
    except RulesError as exc:
        return exc.errors
    return []


# evaluating -----------------------------------------------------------------------------------------------
def _get(record: Any, name: str) -> Any:
    if not isinstance(record, Mapping):
        return None
    if name in record:
        return record[name]
    folded = name.casefold()
    return next((v for k, v in record.items() if isinstance(k, str) and k.casefold() == folded), None)


def scope_of(call: Mapping[str, Any], caller: Mapping[str, Any]) -> dict[str, Any]:
    """What paths read: the call, the caller's kind and records."""
    return {"call": {k: call.get(k) if k != "dialled" else call.get("dialled", call.get("dialed"))
                     for k in CALL_KEYS},
            "caller": {"kind": caller.get("kind")}, **{root: caller.get(root) for root in RECORDS}}


def value_at(path: str, scope: Mapping[str, Any]) -> Any:
    """The value a path reads (None when the record or field is missing)."""
    root, _, name = path.partition(".")
    return _get(scope.get(root), name)


is_available = agent_available  # the kernel's rule (switchboard.routing), shared with salesforce_flow


def presence_label(view: Mapping[str, Any] | None, now: float) -> str:
    """An agent's presence in a word or two, for the decision's data."""
    if not view:
        return "unknown agent"
    if view.get("system"):
        return str(view["system"].get("name") or "busy")
    if view.get("kind") == "available" and not is_available(view, now):
        return "wrap-up"
    return str(view.get("status") or view.get("kind"))


def _describe(values: Mapping[str, Any]) -> str:
    parts = []
    for key, value in values.items():
        if key == "skip_ivr":
            parts.append("skip IVR")
        elif key == "agent_seconds":
            continue
        elif key == "agent":
            parts.append(f"agent {value} for {values.get('agent_seconds', DEFAULT_AGENT_SECONDS)} s")
        else:
            parts.append(f"{LABELS.get(key, key)} {value}")
    return ", ".join(parts)


def evaluate(rules: RuleSet, call: Mapping[str, Any], caller: Mapping[str, Any],
             agent_for_user: Callable[[str], str | None], status: Callable[[str], Mapping[str, Any] | None] | None,
             now: float | None = None) -> Decision | None:
    """The decision of the rules for this call and caller, or None when no rule matched or the matching
    ones change nothing."""
    now = time.time() if now is None else now
    scope = scope_of(call, caller)
    chosen: dict[str, Any] = {}
    matched: list[str] = []
    data: dict[str, Any] = {}
    reasons: list[str] = []
    for rule in rules.rules:
        group = next((g for g in rule.when if all(OPERATORS[c.op](value_at(c.path, scope), c.operand) for c in g)),
                     None)
        if group is None:
            continue
        matched.append(rule.name)
        data.update({c.path: value_at(c.path, scope) for c in group})
        sets = dict(rule.then)
        note = ""
        if rule.agent_from and "agent" not in chosen:
            sets, note = _agent_part(rule, sets, scope, data, agent_for_user, status, now)
        applied = {k: v for k, v in sets.items() if k not in chosen}  # the first rule to set a field wins
        chosen.update(applied)
        reasons.append(f"{rule.name}: " + (note + ("; " if note and applied else "") + _describe(applied)
                                            if note or applied else "nothing new"))
        if rule.stop:
            break
    if not matched:
        return None
    decision = Decision(**chosen, reason="; ".join(reasons), rules=tuple(matched), data=data)
    return None if decision.is_empty() else decision


def _agent_part(rule: Rule, sets: dict[str, Any], scope: Mapping[str, Any], data: dict[str, Any],
                agent_for_user: Callable[[str], str | None],
                status: Callable[[str], Mapping[str, Any] | None] | None, now: float) -> tuple[dict[str, Any], str]:
    """The rule's settings with its preferred agent when Available, else with its ``otherwise``."""
    path = rule.agent_from or ""
    user = value_at(path, scope)
    data[path] = user
    agent = agent_for_user(str(user)) if user else None
    if agent is None:
        note = f"{path} {user} is no agent" if user else f"no {path}"
        return {**sets, **rule.otherwise}, note
    view = status(agent) if status is not None else None
    data[f"presence {agent}"] = presence_label(view, now)
    if not is_available(view, now):
        return {**sets, **rule.otherwise}, f"{agent} is {presence_label(view, now)}"
    out = {**sets, "agent": agent, "agent_seconds": rule.agent_seconds}
    if rule.fallback_queue:
        out["fallback_queue"] = rule.fallback_queue
    return out, ""


def route(rules: RuleSet, call: Mapping[str, Any], salesforce: Any, presence: Any) -> Decision | None:
    """Look the caller up (only the fields the rules read; not at all when no rule reads a record) and
    evaluate the rules."""
    caller: Mapping[str, Any] = {"kind": None}
    if rules.needs_caller():
        if salesforce is None:
            logger.warning("salesforce_rules: no Salesforce data in this process; not routing")
            return None
        caller = salesforce.caller(str(call.get("caller_number") or ""), rules.fields())
    lookup = salesforce.agent_for_user if salesforce is not None else (lambda _user: None)
    return evaluate(rules, call, caller, lookup, presence.status if presence is not None else None)
