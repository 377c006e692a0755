"""Autolaunched flows as small rule files (YAML or JSON): declared inputs and outputs, SOQL/SOSL lookups,
and ordered rules whose conditions on inputs and lookups set output values.

File format (see ``sfemu/flows/demo.yaml``)::

    flows:
      - name: Switchboard_Smart_Routing          # the FlowApiName in /actions/custom/flow/{name}
        label: Switchboard Smart Routing
        version: 1
        inputs:                                  # name: {type, required, description}
          CallerNumber: {type: String, required: true}
        outputs:                                 # name: {type, default}; a default may be a $path
          Queue: {type: String, default: $input.Queue}
        lookups:                                 # run before the rules, in order; :Name binds an input
          - name: caller
            search: FIND {:CallerNumber} IN PHONE FIELDS RETURNING Contact(Id, Account.SLA__c)
          # or soql: SELECT Id FROM Contact WHERE Email = :Email
        rules:                                   # every matching rule applies, in order; stop: true ends
          - name: gold
            when: {caller.Account.SLA__c: Gold}  # a mapping is an AND; a list of mappings is an OR
            set: {Priority: 10}

Paths: ``input.Name`` is an input value; ``<lookup>.found`` / ``<lookup>.count`` describe a lookup's
result; ``<lookup>.Field`` or ``<lookup>.Account.Field`` read its first record. A condition value is
either a scalar (equality; text compares case-insensitively) or a one-key mapping with one of the
operators ``equals``, ``not_equals``, ``in``, ``not_in``, ``exists``, ``gt``, ``gte``, ``lt``, ``lte``,
``starts_with``, ``contains``. Bound ``:Name`` values are quoted for SOQL and backslash-escaped for SOSL;
an empty bound value makes the lookup find nothing without running it.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from sfemu.errors import ApiError
from sfemu.query import run_query
from sfemu.search import run_search
from sfemu.sosl import RESERVED
from sfemu.store import Store

logger = logging.getLogger(__name__)

API_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
BIND_RE = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
# Flow variable types and how the actions describe calls them.
VARIABLE_TYPES = {"String": "STRING", "Number": "DOUBLE", "Boolean": "BOOLEAN", "Date": "DATE",
                  "DateTime": "DATETIME"}
PACKAGED_FLOWS = {"demo": Path(__file__).resolve().parent / "flows" / "demo.yaml"}


class FlowInputError(Exception):
    """An interview's inputs were refused: carries the per-interview error entry."""

    def __init__(self, code: str, message: str, fields: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.error = {"statusCode": code, "message": message, "fields": list(fields)}


@dataclass(frozen=True)
class Variable:
    """A flow input or output variable."""

    name: str
    type: str = "String"
    required: bool = False
    description: str = ""
    default: Any = None

    def describe(self) -> dict[str, Any]:
        """The variable as the actions describe lists it."""
        return {"name": self.name, "label": self.name, "type": VARIABLE_TYPES[self.type],
                "required": self.required, "description": self.description or None, "maxOccurs": 1,
                "picklistValues": None, "sobjectType": None}


@dataclass(frozen=True)
class Lookup:
    """A SOQL or SOSL statement run before the rules; its records are read through ``<name>.<path>``."""

    name: str
    statement: str
    language: str  # "soql" | "sosl"


@dataclass(frozen=True)
class Condition:
    """One test of a path's value."""

    path: str
    op: str
    operand: Any


@dataclass(frozen=True)
class Rule:
    """Sets outputs when any of its AND-groups of conditions holds."""

    name: str
    when: tuple[tuple[Condition, ...], ...]
    set: Mapping[str, Any]
    stop: bool = False


@dataclass(frozen=True)
class FlowDef:
    """One autolaunched flow."""

    name: str
    label: str
    description: str
    version: int
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    lookups: tuple[Lookup, ...]
    rules: tuple[Rule, ...]

    def describe(self, version: str) -> dict[str, Any]:
        """The ``GET /actions/custom/flow/{name}`` body."""
        return {"name": self.name, "label": self.label, "description": self.description or None, "type": "FLOW",
                "category": None, "standard": False, "targetEntityName": None,
                "url": f"/services/data/v{version}/actions/custom/flow/{self.name}",
                "inputs": [v.describe() for v in self.inputs], "outputs": [v.describe() for v in self.outputs]}

    def run(self, store: Store, inputs: Mapping[str, Any], *, version: str) -> dict[str, Any]:
        """Run one interview; its ``outputValues``. Raises FlowInputError or ApiError (from a lookup)."""
        values = self._checked_inputs(inputs)
        scope: dict[str, Any] = {"input": values}
        for lookup in self.lookups:
            scope[lookup.name] = _run_lookup(store, lookup, values, version)
        outputs = {v.name: _resolve(v.default, scope) for v in self.outputs}
        for rule in self.rules:
            if any(all(_holds(c, scope) for c in group) for group in rule.when):
                logger.debug("flow %s: rule %s matched", self.name, rule.name)
                outputs.update({k: _resolve(v, scope) for k, v in rule.set.items()})
                if rule.stop:
                    break
        return {**outputs, "Flow__InterviewGuid": uuid.uuid4().hex[:20], "Flow__InterviewStatus": "Finished"}

    def _checked_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(inputs, Mapping):
            raise FlowInputError("INVALID_INPUT", "Each element of inputs must be a JSON object")
        declared = {v.name: v for v in self.inputs}
        unknown = [k for k in inputs if k not in declared]
        if unknown:
            raise FlowInputError("INVALID_INPUT", f"Unknown input parameter(s) for flow {self.name}: "
                                 f"{', '.join(unknown)}", unknown)
        values: dict[str, Any] = {}
        for var in self.inputs:
            raw = inputs.get(var.name, var.default)
            if raw is None or raw == "":
                if var.required:
                    raise FlowInputError("REQUIRED_FIELD_MISSING", f"Missing required input parameter: {var.name}",
                                         [var.name])
                values[var.name] = None
                continue
            values[var.name] = _coerce(var, raw)
        return values


class InvocableFlow(Protocol):
    """What the actions endpoints need of a flow: a rules-file flow here, or one from Flow metadata
    (``sfemu.flow_xml``)."""

    name: str
    label: str
    version: int

    def describe(self, version: str) -> dict[str, Any]:
        """The ``GET /actions/custom/flow/{name}`` body."""

    def run(self, store: Store, inputs: Mapping[str, Any], *, version: str) -> dict[str, Any]:
        """Run one interview; its ``outputValues``."""


@dataclass
class FlowSet:
    """The flows an emulator serves, by API name."""

    flows: dict[str, InvocableFlow] = field(default_factory=dict)

    def get(self, name: str) -> InvocableFlow | None:
        """The flow with API name ``name`` (exact, else case-insensitive), else None."""
        found = self.flows.get(name)
        if found is None:
            found = next((f for n, f in self.flows.items() if n.lower() == name.lower()), None)
        return found


# loading ------------------------------------------------------------------------------------------------
def load_flows(source: str | Path | Mapping[str, Any] | FlowSet | None) -> FlowSet:
    """Flows from a YAML/JSON file path (or ``"demo"`` for the packaged demo file), a parsed mapping, or None."""
    if source is None:
        return FlowSet()
    if isinstance(source, FlowSet):
        return source
    if isinstance(source, Mapping):
        return parse_flows(source)
    path = PACKAGED_FLOWS.get(str(source), Path(source))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read flows file {path}: {exc}") from exc
    return parse_flows(data, origin=str(path))


def parse_flows(data: Any, origin: str = "flows") -> FlowSet:
    """Validate a parsed rules document; ValueError naming the first problem."""
    if not isinstance(data, Mapping) or "flows" not in data:
        raise ValueError(f"{origin}: expected a mapping with a 'flows' list")
    raw = data["flows"]
    items = [{"name": k, **v} for k, v in raw.items()] if isinstance(raw, Mapping) else raw
    if not isinstance(items, list):
        raise ValueError(f"{origin}: 'flows' must be a list or a mapping")
    out = FlowSet()
    for item in items:
        flow = _parse_flow(item, origin)
        if flow.name in out.flows:
            raise ValueError(f"{origin}: flow {flow.name} is defined twice")
        out.flows[flow.name] = flow
    return out


def _need(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise ValueError(f"{where}: {message}")


def _parse_flow(item: Any, origin: str) -> FlowDef:
    _need(isinstance(item, Mapping), origin, "each flow must be a mapping")
    name = item.get("name")
    _need(isinstance(name, str) and bool(API_NAME_RE.match(name)), origin, f"bad flow name {name!r}")
    where = f"{origin}: flow {name}"
    known = {"name", "label", "description", "version", "inputs", "outputs", "lookups", "rules"}
    _need(not set(item) - known, where, f"unknown keys {sorted(set(item) - known)}")
    inputs = _variables(item.get("inputs") or {}, f"{where} inputs")
    outputs = _variables(item.get("outputs") or {}, f"{where} outputs")
    lookups = tuple(_lookup(x, where) for x in item.get("lookups") or [])
    roots = {"input", *(lk.name for lk in lookups)}
    _need(len(roots) == len(lookups) + 1, where, "lookup names must be unique and not 'input'")
    output_names = {v.name for v in outputs}
    rules = tuple(_rule(x, f"{where} rule {i + 1}", roots, output_names) for i, x in enumerate(item.get("rules") or []))
    version = item.get("version", 1)
    _need(isinstance(version, int) and version > 0, where, "version must be a positive integer")
    for var in outputs:
        _check_template(var.default, roots, where)
    return FlowDef(name, str(item.get("label") or name.replace("_", " ")), str(item.get("description") or ""),
                   version, inputs, outputs, lookups, rules)


def _variables(raw: Any, where: str) -> tuple[Variable, ...]:
    _need(isinstance(raw, Mapping), where, "must be a mapping of name to {type, required, default}")
    out = []
    for name, spec in raw.items():
        spec = spec if isinstance(spec, Mapping) else {"default": spec}
        _need(isinstance(name, str) and bool(API_NAME_RE.match(name)), where, f"bad variable name {name!r}")
        vtype = spec.get("type", "String")
        _need(vtype in VARIABLE_TYPES, where, f"{name}: type must be one of {', '.join(VARIABLE_TYPES)}")
        out.append(Variable(name, vtype, bool(spec.get("required", False)), str(spec.get("description") or ""),
                            spec.get("default")))
    return tuple(out)


def _lookup(raw: Any, where: str) -> Lookup:
    _need(isinstance(raw, Mapping) and isinstance(raw.get("name"), str), where, "each lookup needs a name")
    kinds = [k for k in ("soql", "search") if raw.get(k)]
    _need(len(kinds) == 1, where, f"lookup {raw.get('name')} needs exactly one of soql, search")
    name = raw["name"]
    _need(bool(API_NAME_RE.match(name)), where, f"bad lookup name {name!r}")
    return Lookup(name, str(raw[kinds[0]]), "soql" if kinds[0] == "soql" else "sosl")


def _rule(raw: Any, where: str, roots: set[str], outputs: set[str]) -> Rule:
    _need(isinstance(raw, Mapping), where, "a rule must be a mapping")
    when = raw.get("when") or {}
    groups = when if isinstance(when, list) else [when]
    parsed = []
    for group in groups:
        _need(isinstance(group, Mapping), where, "'when' must be a mapping or a list of mappings")
        conds = []
        for path, test in group.items():
            _need(isinstance(path, str) and path.split(".")[0] in roots, where,
                  f"path {path!r} must start with 'input' or a lookup name ({', '.join(sorted(roots))})")
            op, operand = next(iter(test.items())) if isinstance(test, Mapping) and len(test) == 1 else ("equals", test)
            _need(op in OPERATORS, where, f"unknown operator {op!r}; known: {', '.join(OPERATORS)}")
            conds.append(Condition(path, op, operand))
        parsed.append(tuple(conds))
    sets = raw.get("set") or {}
    _need(isinstance(sets, Mapping), where, "'set' must be a mapping")
    _need(not set(sets) - outputs, where, f"sets undeclared outputs {sorted(set(sets) - outputs)}")
    for value in sets.values():
        _check_template(value, roots, where)
    return Rule(str(raw.get("name") or where), tuple(parsed), dict(sets), bool(raw.get("stop", False)))


def _check_template(value: Any, roots: set[str], where: str) -> None:
    if isinstance(value, str) and value.startswith("$") and not value.startswith("$$"):
        _need(value[1:].split(".")[0] in roots, where, f"template {value!r} names no input or lookup")


# running ------------------------------------------------------------------------------------------------
def _coerce(var: Variable, raw: Any) -> Any:
    bad = FlowInputError("INVALID_INPUT", f"Input parameter {var.name} must be of type {var.type}", [var.name])
    if var.type == "Number":
        if isinstance(raw, bool):
            raise bad
        if isinstance(raw, int | float):
            return raw
        try:
            number = float(str(raw))
        except ValueError:
            raise bad from None
        return int(number) if number.is_integer() else number
    if var.type == "Boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise bad
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise bad
    return str(raw)


def soql_literal(value: Any) -> str:
    """A bound value as a SOQL literal (strings quoted, ``'`` and ``\\`` escaped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def sosl_literal(value: Any) -> str:
    """A bound value as a SOSL search term (reserved characters backslash-escaped)."""
    return "".join("\\" + c if c in RESERVED else c for c in str(value))


def _run_lookup(store: Store, lookup: Lookup, values: Mapping[str, Any], version: str) -> list[dict[str, Any]]:
    names = BIND_RE.findall(lookup.statement)
    unknown = [n for n in names if n not in values]
    if unknown:
        raise ApiError("INVALID_INPUT", f"lookup {lookup.name} binds unknown input(s): {', '.join(unknown)}")
    if any(values[n] is None or values[n] == "" for n in names):
        return []
    quote = soql_literal if lookup.language == "soql" else sosl_literal
    text = BIND_RE.sub(lambda m: quote(values[m.group(1)]), lookup.statement)
    if lookup.language == "soql":
        return run_query(store, text, version=version).records
    return run_search(store, text, version=version)


def _get(record: Any, segments: list[str]) -> Any:
    current = record
    for seg in segments:
        if not isinstance(current, Mapping):
            return None
        key = next((k for k in current if k.lower() == seg.lower()), None)
        current = current.get(key) if key is not None else None
    return current


def _value(path: str, scope: Mapping[str, Any]) -> Any:
    root, *rest = path.split(".")
    if root == "input":
        return _get(scope["input"], rest)
    records = scope[root]
    if rest in (["found"], ["count"]):
        return bool(records) if rest[0] == "found" else len(records)
    return _get(records[0], rest) if records else None


def _resolve(value: Any, scope: Mapping[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$$"):
        return value[1:]
    if isinstance(value, str) and value.startswith("$"):
        return _value(value[1:], scope)
    return value


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _equals(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, str):
        try:
            return float(a) == float(b)
        except ValueError:
            return False
    return bool(_fold(a) == _fold(b))


def _ordered(fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        try:
            return fn(_fold(a), _fold(b))
        except TypeError:
            return False
    return compare


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": _equals,
    "not_equals": lambda a, b: not _equals(a, b),
    "in": lambda a, b: any(_equals(a, x) for x in (b if isinstance(b, list) else [b])),
    "not_in": lambda a, b: not any(_equals(a, x) for x in (b if isinstance(b, list) else [b])),
    "exists": lambda a, b: (a is not None and a != "") == bool(b),
    "gt": _ordered(lambda a, b: a > b), "gte": _ordered(lambda a, b: a >= b),
    "lt": _ordered(lambda a, b: a < b), "lte": _ordered(lambda a, b: a <= b),
    "starts_with": lambda a, b: isinstance(a, str) and _fold(a).startswith(_fold(str(b))),
    "contains": lambda a, b: isinstance(a, str) and _fold(str(b)) in _fold(a),
}


def _holds(cond: Condition, scope: Mapping[str, Any]) -> bool:
    return OPERATORS[cond.op](_value(cond.path, scope), _resolve(cond.operand, scope))
