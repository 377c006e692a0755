"""The benchmarks' reading of Asterisk's call ledger: the same parser as the reconciler's."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from benchmarks.callwatch import ledger_numbers

LEDGER = Path(__file__).resolve().parent.parent / "fixtures" / "cel" / "ledger.csv"


def test_trunk_calls_are_read_with_quoted_names_and_an_unfinished_last_line_is_left(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER.read_text()
                    + 'CHAN_START,1796632600.1,1796632600.1,1796632600.1,PJSIP/trunk-000000aa,+358409990001,'
                      '"Oy, Ab ""Comma""",,\n'
                    + 'CHAN_START,1796632600.2,1796632600.2,1796632600.2,PJSIP/trunk-000000ab,+3584099')  # mid-write
    (tmp_path / "ledger.csv.1").write_text(
        'CHAN_START,1796632400.1,1796632400.1,1796632400.1,PJSIP/trunk-0000009f,+358409990000,,,\n')
    stack = SimpleNamespace(settings=SimpleNamespace(ledger_path=str(path)))
    numbers = ledger_numbers(stack, "+35840")  # type: ignore[arg-type]
    assert {"+358409990000", "+358409990001", "+358401234567"} <= numbers
    assert not any(n.startswith("+3584099") and len(n) < 13 for n in numbers)
    assert all(n.startswith("+35840") for n in numbers)
