"""benchmarks/routing in its CI mode: a stack of its own, the demo routing rules and a plugin that hangs for a
tenth of the callers; trunk calls at 5 cps. Exactly the hanging callers take the fallback path, each within
the deadline, and the decision figures are printed."""

from __future__ import annotations

import pytest

from benchmarks import routing

pytestmark = pytest.mark.integration


def test_the_routing_benchmark_short_mode_holds_the_deadline_for_exactly_the_hanging_callers(capsys):
    assert routing.main(["--short"]) == 0
    out = capsys.readouterr().out
    print(out)
    assert "exactly the hanging calls" in out
    slowest = float(out.split("slowest fallback ")[1].split(" ms")[0])
    assert slowest <= 560, f"a fallback took {slowest} ms"
