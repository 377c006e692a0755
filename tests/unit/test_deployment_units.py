"""The shipped systemd units and docker-compose.yml restart every long-running process and start what exists."""

from __future__ import annotations

import importlib.util
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest
import yaml

from control.cli import main as cli

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "scripts" / "systemd"
INSTALLED = "/opt/switchboard/"  # where docs/deployment.md puts the checkout and its .venv
LONG_RUNNING = ("switchboard-asterisk", "switchboard-orchestrator", "switchboard-worker", "switchboard-web")


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values in order]}} (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def words(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> set[str]:
    """Every space-separated value of ``key`` (After=, Wants=...)."""
    return {w for value in unit.get(section, {}).get(key, []) for w in value.split()}


def services() -> dict[str, dict[str, dict[str, list[str]]]]:
    return {p.stem: parse_unit(p) for p in sorted(UNITS.glob("*.service"))}


def command_exists(argv: list[str]) -> bool:
    """Whether an ExecStart= runs a module, a ``switchboard`` command or a script of this project."""
    program = argv[0]
    assert program.startswith(INSTALLED) or program.startswith("/bin/"), program
    if program.endswith("/python"):
        assert argv[1] == "-m", argv
        return importlib.util.find_spec(f"{argv[2]}.__main__") is not None
    if program.endswith("/switchboard"):
        group: click.Command = cli
        for name in argv[1:]:
            assert isinstance(group, click.Group), argv
            group = group.commands[name]
        return True
    script = argv[1]
    return script.startswith(INSTALLED) and (REPO / script.removeprefix(INSTALLED)).is_file()


def test_the_shipped_units_are_one_per_process_and_a_target():
    assert set(services()) == {*LONG_RUNNING, "switchboard-migrate"}
    assert (UNITS / "switchboard.target").exists()


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_unit_is_restarted_and_belongs_to_the_target(name):
    unit = services()[name]
    service = unit["Service"]
    assert service["Restart"][-1] in ("always", "on-failure")
    assert float(service["RestartSec"][-1]) > 0
    assert unit["Unit"]["StartLimitIntervalSec"] == ["0"]  # never give up, like the demo's supervisor
    assert unit["Unit"]["PartOf"] == ["switchboard.target"]
    assert unit["Install"]["WantedBy"] == ["switchboard.target"]
    assert service["EnvironmentFile"] == ["/etc/switchboard/env"]


@pytest.mark.parametrize("name", [*LONG_RUNNING, "switchboard-migrate"])
def test_every_unit_starts_a_command_of_this_project(name):
    argv = shlex.split(services()[name]["Service"]["ExecStart"][-1])
    assert command_exists(argv), argv


def test_the_python_processes_run_as_the_switchboard_user_after_redis_and_the_migrations():
    for name in ("switchboard-orchestrator", "switchboard-worker", "switchboard-web", "switchboard-migrate"):
        unit = services()[name]
        assert unit["Service"]["User"] == ["switchboard"], name
    for name in ("switchboard-orchestrator", "switchboard-worker", "switchboard-web"):
        unit = services()[name]
        assert {"redis-server.service", "switchboard-migrate.service"} <= words(unit, "Unit", "After"), name
        assert "redis-server.service" in words(unit, "Unit", "Wants"), name
        assert words(unit, "Unit", "Requires") == {"switchboard-migrate.service"}, name
    assert "switchboard-asterisk.service" in words(services()["switchboard-orchestrator"], "Unit", "After")


def test_the_target_wants_every_unit_and_every_named_switchboard_unit_exists():
    target = parse_unit(UNITS / "switchboard.target")
    assert {f"{name}.service" for name in services()} <= words(target, "Unit", "Wants")
    shipped = {p.name for p in UNITS.glob("switchboard*")}
    for unit in [target, *services().values()]:
        named = set().union(*(words(unit, "Unit", key) for key in ("After", "Wants", "Requires", "PartOf")))
        assert {n for n in named if n.startswith("switchboard")} <= shipped


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path):
    for path in UNITS.glob("switchboard*"):  # as installed, with this checkout in place of /opt/switchboard
        (tmp_path / path.name).write_text(path.read_text().replace(INSTALLED, f"{REPO}/"))
    if not (REPO / ".venv/bin/switchboard").exists():
        pytest.skip("no .venv in this checkout")
    units = sorted(str(p) for p in tmp_path.iterdir())
    out = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60)
    # the Asterisk chroot may not be built on this machine; everything else must pass
    problems = [line for line in (out.stdout + out.stderr).splitlines() if "asterisk-chroot" not in line]
    assert problems == [], out.stdout + out.stderr


def test_every_long_running_compose_service_has_a_restart_policy():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        expected = ("no",) if name == "migrate" else ("always", "unless-stopped", "on-failure")
        assert service.get("restart") in expected, name
