"""Recorded AMI streams (tests/fixtures/ami/, captured from the real Asterisk by
scripts/record_ami_fixtures.py) as (time, message) pairs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from orchestrator.translate import parse_frame

FIXTURES = Path(__file__).parent / "fixtures" / "ami"
# The agents' endpoints the recordings were made with (the demo's); PJSIP/trunk is the customer trunk.
AGENTS = frozenset({"agent1", "agent2", "agent3", "agent9"})


def raw_frames(name: str) -> list[tuple[float, str]]:
    """The raw AMI frames of a fixture with their receive times."""
    lines = (FIXTURES / f"{name}.jsonl").read_text().splitlines()
    return [(d["t"], d["raw"]) for d in map(json.loads, lines)]


def messages(name: str) -> Iterator[tuple[float, dict[str, str]]]:
    """The parsed AMI messages of a fixture."""
    for t, raw in raw_frames(name):
        yield t, parse_frame(raw)
