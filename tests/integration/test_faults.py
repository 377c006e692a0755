"""Whatever process dies, every call gets exactly one Task: each fault of benchmarks/faults.py during a
SIPp burst of >= 100 customers over the trunk, answered by SIP-phone agents, on a stack of its own; and
an agent's web page comes back by itself (its Socket.IO link and SIP registration)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from benchmarks.faults import FAULTS, FaultStack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def faults_stack():
    with FaultStack(Path(tempfile.mkdtemp(prefix="sb-faults-test-"))) as fs:
        yield fs


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_given_a_fault_during_a_burst_then_every_call_has_exactly_one_task(faults_stack, fault):
    result = faults_stack.run(fault, FAULTS.index(fault) + 1)
    print(result.line())
    assert result.calls >= 80, result.line()  # the burst ran (callers refused while Asterisk restarts are no calls)
    assert (result.missing, result.duplicated) == (0, 0), result.line()
