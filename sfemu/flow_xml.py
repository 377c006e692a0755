"""Autolaunched flows from Flow metadata (``<Name>.flow-meta.xml``, as an SFDX package holds them): the emulator
runs the subset Switchboard's routing templates use, so tests exercise the very files an admin deploys.

Supported: ``variables`` (String, Number, Currency, Boolean, Date, DateTime, SObject; not collections) with
defaults, ``constants``, ``start`` (or ``startElementReference``) and connectors, ``recordLookups`` (filters with
``EqualTo``, ``NotEqualTo``, ``GreaterThan``, ``GreaterThanOrEqualTo``, ``LessThan``, ``LessThanOrEqualTo``,
``StartsWith``, ``EndsWith``, ``Contains``, ``IsNull``; ``and``/``or``/custom filter logic; sort; first record or
all; ``storeOutputAutomatically``, ``outputReference`` or ``outputAssignments``; ``faultConnector``), ``decisions``
(rules of conditions with ``and``/``or``/custom logic, the same operators plus ``IsBlank``; default connector) and
``assignments`` (``Assign``, ``Add``, ``Subtract``). References: variables, constants, a Get Records element and
its fields (``Get_Account.Owner.Name``), ``$GlobalConstant.True/False/EmptyString``, ``$Flow.FaultMessage`` and
``$Flow.CurrentDateTime``. Only an ``Active`` flow can be invoked, as in Salesforce. Anything else in a file
(formulas, loops, actions, record writes, screens ...) is refused when the file is loaded, naming it. Text
comparisons are case-sensitive, as in Flow.
"""

from __future__ import annotations

import logging
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sfemu.errors import ApiError
from sfemu.flow_rules import FlowInputError, soql_literal
from sfemu.query import run_query
from sfemu.store import Store

logger = logging.getLogger(__name__)

NS = "http://soap.sforce.com/2006/04/metadata"
SUFFIX = ".flow-meta.xml"
MAX_STEPS = 2000  # executed elements per interview (Salesforce's old per-interview limit): stops a loop
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
LOGIC_RE = re.compile(r"^(\s*(\d+|AND|OR|NOT|\(|\))\s*)+$", re.IGNORECASE)
TYPES = {"String": "STRING", "Number": "DOUBLE", "Currency": "DOUBLE", "Boolean": "BOOLEAN", "Date": "DATE",
         "DateTime": "DATETIME", "SObject": "SOBJECT"}
# Top-level elements that describe the flow without changing how the emulator runs it.
DESCRIPTIVE = {"apiVersion", "description", "environments", "interviewLabel", "isTemplate", "label",
               "processMetadataValues", "processType", "runInMode", "status", "sourceTemplate", "timeZoneSidKey",
               "isAdditionalPermissionRequiredToRun", "areMetricsLoggedToDataCloud", "customProperties"}
RUNNABLE = {"variables", "constants", "start", "startElementReference", "recordLookups", "decisions",
            "assignments"}
FILTER_SOQL = {"EqualTo": "=", "NotEqualTo": "!=", "GreaterThan": ">", "GreaterThanOrEqualTo": ">=",
               "LessThan": "<", "LessThanOrEqualTo": "<="}
LIKE = {"StartsWith": "{}%", "EndsWith": "%{}", "Contains": "%{}%"}
CONDITION_OPERATORS = {*FILTER_SOQL, *LIKE, "IsNull", "IsBlank"}
GLOBAL_CONSTANTS = {"True": True, "False": False, "EmptyString": ""}


class FlowFault(FlowInputError):
    """An interview that failed at an element with no fault path: the interview's error entry."""


# parsing --------------------------------------------------------------------------------------------------
def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _text(element: ET.Element | None, tag: str, default: str | None = None) -> str | None:
    child = element.find(_q(tag)) if element is not None else None
    return default if child is None or child.text is None else child.text.strip()


def _flag(element: ET.Element, tag: str, default: bool = False) -> bool:
    value = _text(element, tag)
    return default if value is None else value == "true"


@dataclass(frozen=True)
class Value:
    """A ``FlowElementReferenceOrValue``: a reference path, or a literal (None for an empty value)."""

    reference: str | None = None
    literal: Any = None


def _value(element: ET.Element | None, where: str) -> Value:
    if element is None:
        return Value()
    for child in element:
        tag = child.tag.removeprefix(f"{{{NS}}}")
        raw = (child.text or "").strip()
        if tag == "elementReference":
            return Value(reference=raw)
        if tag == "stringValue":
            return Value(literal=child.text or "")
        if tag == "booleanValue":
            return Value(literal=raw == "true")
        if tag == "numberValue":
            number = float(raw)
            return Value(literal=int(number) if number.is_integer() else number)
        if tag in ("dateValue", "dateTimeValue"):
            return Value(literal=raw)
        raise ValueError(f"{where}: value <{tag}> is not supported")
    return Value()


def _connector(element: ET.Element, tag: str = "connector") -> str | None:
    return _text(element.find(_q(tag)), "targetReference")


@dataclass(frozen=True)
class FlowVariable:
    """A variable or constant of the flow."""

    name: str
    data_type: str
    is_input: bool = False
    is_output: bool = False
    object_type: str | None = None
    default: Value = field(default_factory=Value)

    def describe(self) -> dict[str, Any]:
        """The variable as the actions describe lists it."""
        return {"name": self.name, "label": self.name, "type": TYPES[self.data_type], "required": False,
                "description": None, "maxOccurs": 1, "picklistValues": None, "sobjectType": self.object_type}


@dataclass(frozen=True)
class Filter:
    """One Get Records filter: ``field operator value``."""

    field: str
    operator: str
    value: Value


@dataclass(frozen=True)
class Condition:
    """One decision condition: ``left operator right``."""

    left: str
    operator: str
    right: Value


@dataclass(frozen=True)
class RecordLookup:
    """A Get Records element."""

    name: str
    sobject: str
    filters: tuple[Filter, ...]
    logic: str
    first_only: bool
    queried: tuple[str, ...]
    sort_field: str | None
    sort_order: str
    store_automatically: bool
    output_reference: str | None
    output_assignments: tuple[tuple[str, str], ...]  # (variable, field)
    assign_null: bool
    connector: str | None
    fault_connector: str | None


@dataclass(frozen=True)
class Rule:
    """A decision outcome."""

    name: str
    logic: str
    conditions: tuple[Condition, ...]
    connector: str | None


@dataclass(frozen=True)
class Decision:
    """A Decision element: the first outcome whose conditions hold, else the default."""

    name: str
    rules: tuple[Rule, ...]
    default_connector: str | None


@dataclass(frozen=True)
class Assignment:
    """An Assignment element: ``(variable, operator, value)`` items in order."""

    name: str
    items: tuple[tuple[str, str, Value], ...]
    connector: str | None


Element = RecordLookup | Decision | Assignment


def _logic(raw: str | None, count: int, where: str) -> str:
    logic = (raw or "and").strip()
    if logic.lower() in ("and", "or"):
        return logic.lower()
    if not LOGIC_RE.match(logic):
        raise ValueError(f"{where}: bad logic {logic!r}")
    numbers = [int(n) for n in re.findall(r"\d+", logic)]
    if any(not 1 <= n <= count for n in numbers):
        raise ValueError(f"{where}: logic {logic!r} names a condition that does not exist")
    return logic


def _lookup(el: ET.Element, name: str, where: str) -> RecordLookup:
    filters = []
    for f in el.findall(_q("filters")):
        operator = _text(f, "operator") or ""
        if operator not in FILTER_SOQL and operator not in LIKE and operator != "IsNull":
            raise ValueError(f"{where}: filter operator {operator!r} is not supported")
        filters.append(Filter(_text(f, "field") or "", operator, _value(f.find(_q("value")), where)))
    sobject = _text(el, "object")
    if not sobject:
        raise ValueError(f"{where}: Get Records needs an <object>")
    assignments = tuple((_text(a, "assignToReference") or "", _text(a, "field") or "")
                        for a in el.findall(_q("outputAssignments")))
    return RecordLookup(
        name=name, sobject=sobject, filters=tuple(filters),
        logic=_logic(_text(el, "filterLogic"), len(filters), where),
        first_only=_flag(el, "getFirstRecordOnly"),
        queried=tuple(q.text.strip() for q in el.findall(_q("queriedFields")) if q.text),
        sort_field=_text(el, "sortField"), sort_order=(_text(el, "sortOrder") or "Asc"),
        store_automatically=_flag(el, "storeOutputAutomatically"), output_reference=_text(el, "outputReference"),
        output_assignments=assignments, assign_null=_flag(el, "assignNullValuesIfNoRecordsFound"),
        connector=_connector(el), fault_connector=_connector(el, "faultConnector"))


def _decision(el: ET.Element, name: str, where: str) -> Decision:
    rules = []
    for r in el.findall(_q("rules")):
        rule_name = _text(r, "name") or "?"
        conditions = []
        for c in r.findall(_q("conditions")):
            operator = _text(c, "operator") or ""
            if operator not in CONDITION_OPERATORS:
                raise ValueError(f"{where} outcome {rule_name}: operator {operator!r} is not supported")
            conditions.append(Condition(_text(c, "leftValueReference") or "", operator,
                                        _value(c.find(_q("rightValue")), where)))
        rules.append(Rule(rule_name, _logic(_text(r, "conditionLogic"), len(conditions), f"{where} {rule_name}"),
                          tuple(conditions), _connector(r)))
    return Decision(name, tuple(rules), _connector(el, "defaultConnector"))


def _assignment(el: ET.Element, name: str, where: str) -> Assignment:
    items = []
    for item in el.findall(_q("assignmentItems")):
        operator = _text(item, "operator") or ""
        if operator not in ("Assign", "Add", "Subtract"):
            raise ValueError(f"{where}: assignment operator {operator!r} is not supported")
        items.append((_text(item, "assignToReference") or "", operator, _value(item.find(_q("value")), where)))
    return Assignment(name, tuple(items), _connector(el))


def _variable(el: ET.Element, where: str, constant: bool = False) -> FlowVariable:
    name = _text(el, "name") or ""
    data_type = _text(el, "dataType") or ""
    if not NAME_RE.match(name):
        raise ValueError(f"{where}: bad variable name {name!r}")
    if data_type not in TYPES:
        raise ValueError(f"{where}: variable {name} has data type {data_type!r}; supported: {', '.join(TYPES)}")
    if _flag(el, "isCollection"):
        raise ValueError(f"{where}: variable {name} is a collection (not supported)")
    return FlowVariable(name, data_type, not constant and _flag(el, "isInput"), not constant and _flag(el, "isOutput"),
                        _text(el, "objectType"), _value(el.find(_q("value")), where))


@dataclass(frozen=True)
class XmlFlow:
    """One autolaunched flow read from its metadata file."""

    name: str
    label: str
    description: str
    status: str
    variables: tuple[FlowVariable, ...]
    constants: tuple[FlowVariable, ...]
    elements: Mapping[str, Element]
    start: str | None
    fields_used: Mapping[str, tuple[str, ...]]  # Get Records element -> fields read through it
    version: int = 1

    @property
    def active(self) -> bool:
        """Whether Salesforce would run it (only an active version can be invoked)."""
        return self.status == "Active"

    def describe(self, version: str) -> dict[str, Any]:
        """The ``GET /actions/custom/flow/{name}`` body."""
        return {"name": self.name, "label": self.label, "description": self.description or None, "type": "FLOW",
                "category": None, "standard": False, "targetEntityName": None,
                "url": f"/services/data/v{version}/actions/custom/flow/{self.name}",
                "inputs": [v.describe() for v in self.variables if v.is_input],
                "outputs": [v.describe() for v in self.variables if v.is_output]}

    def run(self, store: Store, inputs: Mapping[str, Any], *, version: str) -> dict[str, Any]:
        """Run one interview; its ``outputValues``. Raises FlowInputError (bad inputs) or FlowFault."""
        return _Interview(self, store, version).run(inputs)


def parse_flow_xml(text: str | bytes, name: str, origin: str = "flow") -> XmlFlow:
    """A flow from the text of its metadata file (``name``: its API name, the file name); ValueError naming
    the first thing the emulator cannot run."""
    where = f"{origin}: flow {name}"
    if not NAME_RE.match(name):
        raise ValueError(f"{where}: bad flow name")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"{where}: not well-formed XML: {exc}") from None
    if root.tag != _q("Flow"):
        raise ValueError(f"{where}: the root element must be <Flow> in the metadata namespace")
    if _text(root, "processType") != "AutoLaunchedFlow":
        raise ValueError(f"{where}: processType must be AutoLaunchedFlow, not {_text(root, 'processType')!r}")
    for child in root:
        tag = child.tag.removeprefix(f"{{{NS}}}")
        if tag not in DESCRIPTIVE and tag not in RUNNABLE:
            raise ValueError(f"{where}: element <{tag}> is not supported by the emulator")
    variables = tuple(_variable(v, where) for v in root.findall(_q("variables")))
    constants = tuple(_variable(v, where, constant=True) for v in root.findall(_q("constants")))
    elements: dict[str, Element] = {}
    for tag, parse in (("recordLookups", _lookup), ("decisions", _decision), ("assignments", _assignment)):
        for el in root.findall(_q(tag)):
            element_name = _text(el, "name") or ""
            if not NAME_RE.match(element_name) or element_name in elements:
                raise ValueError(f"{where}: element name {element_name!r} is bad or used twice")
            elements[element_name] = parse(el, element_name, f"{where} element {element_name}")  # type: ignore[operator]
    start = _connector(root.find(_q("start")), "connector") if root.find(_q("start")) is not None \
        else _text(root, "startElementReference")
    flow = XmlFlow(name, _text(root, "label") or name, _text(root, "description") or "",
                   _text(root, "status") or "Draft", variables, constants, elements, start, {})
    fields_used = _check(flow, where)
    return XmlFlow(flow.name, flow.label, flow.description, flow.status, variables, constants, elements, start,
                   fields_used)


def _references(flow: XmlFlow) -> list[str]:
    refs = [v.default.reference for v in (*flow.variables, *flow.constants) if v.default.reference]
    for el in flow.elements.values():
        if isinstance(el, RecordLookup):
            refs += [f.value.reference for f in el.filters if f.value.reference]
        elif isinstance(el, Decision):
            for rule in el.rules:
                refs += [c.left for c in rule.conditions] + [c.right.reference for c in rule.conditions
                                                             if c.right.reference]
        else:
            refs += [v.reference for _, _, v in el.items if v.reference]
    return [r for r in refs if r]


def _check(flow: XmlFlow, where: str) -> dict[str, tuple[str, ...]]:
    """Connectors lead to elements; references and targets name something; the fields each lookup must read."""
    variables = {v.name: v for v in flow.variables}
    names = set(variables) | {c.name for c in flow.constants}
    stored = {n for n, el in flow.elements.items() if isinstance(el, RecordLookup) and el.store_automatically}
    if names & set(flow.elements):
        raise ValueError(f"{where}: {sorted(names & set(flow.elements))[0]} is both a variable and an element")
    targets: list[str | None] = [flow.start]
    for el in flow.elements.values():
        if isinstance(el, RecordLookup):
            targets += [el.connector, el.fault_connector]
            assigned = [v for v, _ in el.output_assignments] + ([el.output_reference] if el.output_reference else [])
            bad = [v for v in assigned if v not in variables]
            if bad:
                raise ValueError(f"{where} element {el.name}: stores into {bad[0]!r}, which is no variable")
        elif isinstance(el, Decision):
            targets += [r.connector for r in el.rules] + [el.default_connector]
        else:
            targets.append(el.connector)
            bad = [t for t, _, _ in el.items if t not in variables]
            if bad:
                raise ValueError(f"{where} element {el.name}: assigns to {bad[0]!r}, which is no variable")
    if flow.start is None:
        raise ValueError(f"{where}: no start element")
    missing = [t for t in targets if t and t not in flow.elements]
    if missing:
        raise ValueError(f"{where}: a connector leads to {missing[0]!r}, which is no element")
    used: dict[str, list[str]] = {}
    for ref in _references(flow):
        head, _, rest = ref.partition(".")
        if head in ("$GlobalConstant", "$Flow"):
            continue
        if head not in names and head not in stored:
            raise ValueError(f"{where}: reference {ref!r} names no variable, constant or stored Get Records")
        if rest:
            used.setdefault(head, []).append(rest)
    for el in flow.elements.values():
        if isinstance(el, RecordLookup):
            wanted = ["Id", *el.queried, *(f for _, f in el.output_assignments), *used.get(el.name, []),
                      *(used.get(el.output_reference, []) if el.output_reference else [])]
            used[el.name] = list(dict.fromkeys(wanted))
    return {n: tuple(fields) for n, fields in used.items() if n in flow.elements}


# running --------------------------------------------------------------------------------------------------
def _get(record: Any, path: list[str]) -> Any:
    current = record
    for seg in path:
        if not isinstance(current, Mapping):
            return None
        key = next((k for k in current if k.lower() == seg.lower()), None)
        current = current.get(key) if key is not None else None
    return current


def _plain(value: Any) -> Any:
    """A record without its ``attributes`` (and its related records likewise), as outputs show it."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if k != "attributes"}
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _as_text(value: Any) -> str:
    """A value as Flow writes it into text: ``true``/``false``, whole numbers without a decimal point."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _compare(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, int | float) and not isinstance(left, bool) and isinstance(right, str):
        return left, _number(right)
    if isinstance(right, int | float) and not isinstance(right, bool) and isinstance(left, str):
        return _number(left), right
    return left, right


def _holds(operator: str, left: Any, right: Any) -> bool:
    if operator == "IsNull":
        return (left is None) == bool(right)
    if operator == "IsBlank":
        return (left is None or left == "") == bool(right)
    left, right = _compare(left, right)
    if operator == "EqualTo":
        return bool(left == right)
    if operator == "NotEqualTo":
        return bool(left != right)
    if operator in LIKE:
        if not isinstance(left, str) or right is None:
            return False
        test = {"StartsWith": left.startswith, "EndsWith": left.endswith, "Contains": left.__contains__}[operator]
        return test(str(right))
    if left is None or right is None:
        return False
    try:
        return {"GreaterThan": left > right, "GreaterThanOrEqualTo": left >= right, "LessThan": left < right,
                "LessThanOrEqualTo": left <= right}[operator]
    except TypeError:
        return False


def _combine(logic: str, results: list[bool]) -> bool:
    if not results:
        return True
    if logic == "and":
        return all(results)
    if logic == "or":
        return any(results)
    return _LogicParser(logic, results).parse()


class _LogicParser:
    """Custom condition logic (``1 AND (2 OR NOT 3)``) over the conditions' results."""

    def __init__(self, logic: str, results: list[bool]) -> None:
        self.tokens = re.findall(r"\d+|\(|\)|[A-Za-z]+", logic)
        self.results = results
        self.pos = 0

    def parse(self) -> bool:
        value = self._or()
        if self.pos != len(self.tokens):
            raise FlowFault("UNKNOWN_EXCEPTION", "bad condition logic: " + " ".join(self.tokens))
        return value

    def _peek(self) -> str:
        return self.tokens[self.pos].upper() if self.pos < len(self.tokens) else ""

    def _or(self) -> bool:
        value = self._and()
        while self._peek() == "OR":
            self.pos += 1
            value = self._and() or value
        return value

    def _and(self) -> bool:
        value = self._not()
        while self._peek() == "AND":
            self.pos += 1
            value = self._not() and value
        return value

    def _not(self) -> bool:
        token = self._peek()
        self.pos += 1
        if token == "NOT":
            return not self._not()
        if token == "(":
            value = self._or()
            if self._peek() != ")":
                raise FlowFault("UNKNOWN_EXCEPTION", "bad condition logic: unbalanced parentheses")
            self.pos += 1
            return value
        if token.isdigit():
            return self.results[int(token) - 1]
        raise FlowFault("UNKNOWN_EXCEPTION", f"bad condition logic near {token!r}")


def _like(value: Any, pattern: str) -> str:
    text = str(value).replace("\\", "\\\\").replace("'", "\\'").replace("%", "\\%").replace("_", "\\_")
    return "'" + pattern.format(text) + "'"


class _Interview:
    """One run of a flow: its variables and stored records."""

    def __init__(self, flow: XmlFlow, store: Store, version: str) -> None:
        self.flow = flow
        self.store = store
        self.version = version
        self.values: dict[str, Any] = {}
        self.records: dict[str, Any] = {}
        self.fault = ""

    def run(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        self.values = {c.name: self.resolve(c.default) for c in self.flow.constants}
        given = self._inputs(inputs)
        for var in self.flow.variables:
            self.values[var.name] = given[var.name] if var.name in given else self.resolve(var.default)
        current, steps = self.flow.start, 0
        while current:
            steps += 1
            if steps > MAX_STEPS:
                raise FlowFault("UNKNOWN_EXCEPTION", f"flow {self.flow.name} ran more than {MAX_STEPS} elements")
            current = self.step(self.flow.elements[current])
        outputs = {v.name: _number(self.values.get(v.name)) if v.data_type in ("Number", "Currency")
                   else _plain(self.values.get(v.name)) for v in self.flow.variables if v.is_output}
        return {**outputs, "Flow__InterviewGuid": uuid.uuid4().hex[:20], "Flow__InterviewStatus": "Finished"}

    def _inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(inputs, Mapping):
            raise FlowInputError("INVALID_INPUT", "Each element of inputs must be a JSON object")
        declared = {v.name: v for v in self.flow.variables if v.is_input}
        unknown = [k for k in inputs if k not in declared]
        if unknown:
            raise FlowInputError("INVALID_INPUT", f"Unknown input parameter(s) for flow {self.flow.name}: "
                                 f"{', '.join(unknown)}", unknown)
        out = {}
        for name, raw in inputs.items():
            out[name] = None if raw is None or raw == "" else self._coerce(declared[name], raw)
        return out

    @staticmethod
    def _coerce(var: FlowVariable, raw: Any) -> Any:
        bad = FlowInputError("INVALID_INPUT", f"Input parameter {var.name} must be of type {var.data_type}",
                             [var.name])
        if var.data_type in ("Number", "Currency"):
            number = _number(raw)
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise bad
            return number
        if var.data_type == "Boolean":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise bad
        if var.data_type == "SObject":
            if not isinstance(raw, Mapping):
                raise bad
            return dict(raw)
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise bad
        return str(raw)

    def resolve(self, value: Value) -> Any:
        if value.reference is None:
            return value.literal
        head, *rest = value.reference.split(".")
        if head == "$GlobalConstant":
            return GLOBAL_CONSTANTS.get(rest[0]) if rest else None
        if head == "$Flow":
            attr = rest[0] if rest else ""
            if attr == "FaultMessage":
                return self.fault
            if attr == "CurrentDateTime":
                return datetime.now(UTC).isoformat()
            return None
        base = self.records[head] if head in self.records else self.values.get(head)
        return _get(base, rest) if rest else base

    def step(self, element: Element) -> str | None:
        if isinstance(element, RecordLookup):
            return self.lookup(element)
        if isinstance(element, Decision):
            for rule in element.rules:
                results = [_holds(c.operator, self.resolve(Value(reference=c.left)), self.resolve(c.right))
                           for c in rule.conditions]
                if _combine(rule.logic, results):
                    logger.debug("flow %s: %s -> %s", self.flow.name, element.name, rule.name)
                    return rule.connector
            return element.default_connector
        for target, operator, value in element.items:
            self.assign(target, operator, self.resolve(value))
        return element.connector

    def assign(self, target: str, operator: str, value: Any) -> None:
        current = self.values.get(target)
        if operator == "Assign":
            self.values[target] = value
        elif isinstance(current, str) or (current is None and isinstance(value, str)):
            if operator == "Subtract":
                raise FlowFault("UNKNOWN_EXCEPTION", f"flow {self.flow.name}: cannot subtract from text {target}")
            self.values[target] = (current or "") + _as_text(value)
        else:
            left, right = _number(current) or 0, _number(value) or 0
            if isinstance(left, str) or isinstance(right, str):
                raise FlowFault("UNKNOWN_EXCEPTION", f"flow {self.flow.name}: {target} {operator} {value!r} "
                                "needs numbers")
            self.values[target] = left + right if operator == "Add" else left - right

    def soql(self, el: RecordLookup) -> str:
        clauses = []
        for f in el.filters:
            value = self.resolve(f.value)
            if f.operator == "IsNull":
                clauses.append(f"{f.field} {'=' if value else '!='} null")
            elif f.operator in LIKE:
                clauses.append(f"{f.field} LIKE {_like(value, LIKE[f.operator])}" if value is not None else "Id = null")
            elif value is None:
                clauses.append(f"{f.field} {'!=' if f.operator == 'NotEqualTo' else '='} null")
            else:
                clauses.append(f"{f.field} {FILTER_SOQL[f.operator]} {soql_literal(value)}")
        where = ""
        if clauses:
            if el.logic in ("and", "or"):
                where = f" {el.logic.upper()} ".join(f"({c})" for c in clauses)
            else:
                where = re.sub(r"\d+", lambda m: f"({clauses[int(m.group()) - 1]})", el.logic)
            where = f" WHERE {where}"
        order = f" ORDER BY {el.sort_field} {'DESC' if el.sort_order.lower() == 'desc' else 'ASC'}" \
            if el.sort_field else ""
        limit = " LIMIT 1" if el.first_only else ""
        fields = self.flow.fields_used.get(el.name) or ("Id",)
        return f"SELECT {', '.join(fields)} FROM {el.sobject}{where}{order}{limit}"

    def lookup(self, el: RecordLookup) -> str | None:
        text = self.soql(el)
        try:
            records = run_query(self.store, text, version=self.version).records
        except ApiError as exc:
            message = f"{el.name}: {exc.code}: {exc.message}"
            if el.fault_connector:
                self.fault = message
                return el.fault_connector
            raise FlowFault("UNKNOWN_EXCEPTION", f"An unhandled fault has occurred in this flow "
                            f"({self.flow.name}). {message}") from None
        logger.debug("flow %s: %s found %s record(s): %s", self.flow.name, el.name, len(records), text)
        found: Any = (records[0] if records else None) if el.first_only else (records or None)
        if el.store_automatically:
            self.records[el.name] = found
        if el.output_reference and (found is not None or el.assign_null):
            self.values[el.output_reference] = found
        first = records[0] if records else None
        for variable, field_name in el.output_assignments:
            if first is not None:
                self.values[variable] = _get(first, field_name.split("."))
            elif el.assign_null:
                self.values[variable] = None
        return el.connector


def load_flow_file(path: Path) -> XmlFlow:
    """The flow in ``<Name>.flow-meta.xml``; ValueError when the file cannot be read or run."""
    if not path.name.endswith(SUFFIX):
        raise ValueError(f"{path}: a flow file's name ends in {SUFFIX}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read flow file {path}: {exc}") from exc
    return parse_flow_xml(data, path.name.removesuffix(SUFFIX), origin=str(path))
