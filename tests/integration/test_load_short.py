"""The load benchmark's short mode runs in CI: its figures are printed (not asserted), but every step must
hold with 0 calls lost and 0 duplicated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def test_given_the_short_load_run_then_every_step_holds_with_nothing_lost_or_duplicated():
    run = subprocess.run([sys.executable, "-m", "benchmarks.load", "--short"], cwd=REPO, capture_output=True,
                         text=True, timeout=900)
    print(run.stdout[-4000:], run.stderr[-4000:])
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "missing 0, duplicated 0" in run.stdout
    assert "highest rate held (no SIP error, 0 lost, 0 duplicated): 5 cps" in run.stdout
