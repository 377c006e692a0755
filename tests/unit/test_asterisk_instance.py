"""A stack started on a new state folder forgets the call ledger an earlier stack left in the same Asterisk
instance (the demo's instance is shared by every `.state/demo`): its calls belong to a database that is
gone, and the reconciler would show them in the new one's call history."""

from __future__ import annotations

from pathlib import Path

from control.asterisk import AsteriskCredentials, AsteriskInstance, AsteriskPorts


def instance(root: Path) -> AsteriskInstance:
    return AsteriskInstance(root, "demo", AsteriskPorts(1, 2, 3, 4, 5), AsteriskCredentials("a", "b", "c", "d"))


def test_forget_calls_removes_the_ledger_and_its_rotated_file_only(tmp_path: Path) -> None:
    asterisk = instance(tmp_path)
    assert asterisk.forget_calls() == []  # never ran: nothing to forget
    folder = asterisk.ledger_file.parent
    folder.mkdir(parents=True)
    for name in ("ledger.csv", "ledger.csv.1", "Master.csv"):
        (folder / name).write_text("x\n")
    assert [p.name for p in asterisk.forget_calls()] == ["ledger.csv", "ledger.csv.1"]
    assert sorted(p.name for p in folder.iterdir()) == ["Master.csv"]
