"""Where the emulator's invocable flows come from: rules files (``sfemu.flow_rules``), Flow metadata files
(``sfemu.flow_xml``), folders of either, and two names: ``demo`` (``sfemu/flows/demo.yaml``) and ``package``
(the flows of the Switchboard Salesforce package, ``salesforce/force-app/main/default/flows``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sfemu.flow_rules import PACKAGED_FLOWS, FlowSet, load_flows
from sfemu.flow_xml import SUFFIX, load_flow_file

logger = logging.getLogger(__name__)

PACKAGE_FLOWS = Path(__file__).resolve().parent.parent / "salesforce" / "force-app" / "main" / "default" / "flows"
RULE_SUFFIXES = (".yaml", ".yml", ".json")
FlowSource = str | Path | Mapping[str, Any] | FlowSet | None


def _merge(into: FlowSet, more: FlowSet, origin: str) -> None:
    for name, flow in more.flows.items():
        if name in into.flows:
            raise ValueError(f"{origin}: flow {name} is defined twice")
        into.flows[name] = flow


def _xml(path: Path, out: FlowSet) -> None:
    flow = load_flow_file(path)
    if not flow.active:
        logger.warning("flow %s (%s) is %s, not Active: it cannot be invoked", flow.name, path, flow.status)
        return
    _merge(out, FlowSet({flow.name: flow}), str(path))


def _path(path: Path, out: FlowSet) -> None:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.endswith((SUFFIX, *RULE_SUFFIXES)))
        if not files:
            raise ValueError(f"{path}: no flow files ({SUFFIX}, {', '.join(RULE_SUFFIXES)})")
        for file in files:
            _path(file, out)
    elif path.name.endswith(SUFFIX):
        _xml(path, out)
    else:
        _merge(out, load_flows(str(path)), str(path))


def load_flow_sources(source: FlowSource | Sequence[FlowSource]) -> FlowSet:
    """The flows of ``source``: a rules file, a ``.flow-meta.xml`` file, a folder of them, ``demo``,
    ``package``, a parsed rules mapping, a FlowSet, None, or a list of these; ValueError naming the first
    problem (a flow defined twice included). Flow files that are not Active are left out, with a warning."""
    if source is None or isinstance(source, FlowSet | Mapping):
        return load_flows(source)
    if isinstance(source, str | Path):
        if str(source) in PACKAGED_FLOWS:
            return load_flows(str(source))
        path = PACKAGE_FLOWS if str(source) == "package" else Path(source)
        if not path.exists():
            raise ValueError(f"cannot read flows from {path}: no such file or folder")
        out = FlowSet()
        _path(path, out)
        return out
    out = FlowSet()
    for item in source:
        _merge(out, load_flow_sources(item), str(item))
    return out
