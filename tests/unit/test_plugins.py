"""Plugin manager, safe_call and the plugin author's guide."""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from importlib.metadata import EntryPoint
from pathlib import Path

import pluggy
import pytest
from click.testing import CliRunner

from control import cli
from switchboard import hookspecs, plugins
from switchboard.config import ConfigError, load_settings, plugin_sections, settings_env
from switchboard.hookspecs import hookimpl
from switchboard.plugins import ENTRY_POINT_GROUP, budget, plugin_manager, safe_call
from tests.unit import plugin_samples

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def hook_names() -> list[str]:
    return [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "switchboard_spec")]


def test_every_hookspec_is_documented_with_its_arguments_and_a_docstring():
    guide = GUIDE.read_text()
    documented = dict(re.findall(r"^### `(\w+)\(([^)]*)\)", guide, re.MULTILINE))
    assert hook_names(), "no hookspecs found"
    assert set(documented) == set(hook_names()), "docs/plugins.md documents other hooks than the specs"
    for name in hook_names():
        fn = getattr(hookspecs, name)
        assert fn.__doc__ and "\n" not in fn.__doc__.strip()
        params = inspect.signature(fn).parameters.values()
        assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params), name  # pluggy sees them
        assert [a.strip() for a in documented[name].split(",") if a.strip()] == [p.name for p in params], name


def test_an_implementation_names_only_what_it_uses_and_a_misspelt_name_is_refused():
    seen = []

    class Partial:
        @hookimpl
        def call_offered(self, agent):
            seen.append(agent)

    class Misspelt:
        @hookimpl
        def call_offered(self, agnet):
            pass

    pm = plugin_manager(load_entrypoints=False)
    pm.register(Partial())
    pm.hook.call_offered(agent="agent1", call={"call_id": "c1"}, presence=None, config={})  # pluggy's own call
    assert seen == ["agent1"]
    with pytest.raises(pluggy.PluginValidationError, match="agnet"):
        pm.register(Misspelt())


def test_builtin_plugins_load_through_entry_points():
    pm = plugin_manager()
    assert "default_routing" in dict(pm.list_name_plugin())


def test_given_one_failing_and_one_slow_plugin_then_the_others_still_run():
    seen = []

    class Good:
        @hookimpl
        def call_ended(self, summary):
            seen.append(summary["call_id"])

    class Bad:
        @hookimpl
        def call_ended(self, summary):
            raise ValueError("boom")

    class Slow:
        @hookimpl
        def call_ended(self, summary):
            time.sleep(2)

    pm = plugin_manager(load_entrypoints=False)
    for p in (Good(), Bad(), Slow()):
        pm.register(p)
    async def timed() -> float:
        t0 = time.monotonic()
        await safe_call(pm, "call_ended", 0.2, summary={"call_id": "c1"})
        return time.monotonic() - t0

    took = asyncio.run(timed())
    assert seen == ["c1"]
    assert took < 1.0
    with budget(0.2):  # pluggy's own call is guarded the same way
        assert pm.hook.call_ended(summary={"call_id": "c2"}, presence=None, config={}) == []
    assert seen == ["c1", "c2"]


def test_given_firstresult_route_call_then_the_first_answer_wins_and_none_falls_through():
    class Keep:
        @hookimpl
        def route_call(self, call):
            return None

    class Sales:
        @hookimpl
        def route_call(self, call):
            return "sales"

    class Broken:
        @hookimpl
        def route_call(self, call):
            raise KeyError("vip")

    pm = plugin_manager(load_entrypoints=False)
    pm.register(Sales())
    pm.register(Keep())
    pm.register(Broken())  # asked first: its failure is no answer
    assert asyncio.run(safe_call(pm, "route_call", 0.5, call={"queue": "cs-en"})) == "sales"


def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in (
        ("counting", "tests.unit.plugin_samples:counting"), ("misspelt", "tests.unit.plugin_samples:misspelt"),
        ("missing", "tests.unit.no_such_plugin_module"), ("spare", "tests.unit.plugin_samples:counting"))]
    monkeypatch.setattr(plugins, "entry_points", lambda group: [p for p in points if p.group == group])


def test_a_plugin_that_fails_to_load_is_left_out_and_listed_with_why(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points(monkeypatch)
    pm = plugin_manager(plugin_sections({"spare": False, "absent": {"colour": "red"}}))
    assert [(p.name, p.status, p.hooks) for p in pm.statuses] == [
        ("counting", "loaded", ("call_ended",)), ("misspelt", "failed", ()), ("missing", "failed", ()),
        ("spare", "disabled", ()), ("absent", "missing", ())]
    assert pm.statuses[1].error == ("PluginValidationError: Plugin 'misspelt' for hook 'call_offered' hookimpl "
                                    "definition: call_offered(agnet: 'str') -> 'None' Argument(s) {'agnet'} are "
                                    "declared in the hookimpl but can not be found in the hookspec")
    assert "ModuleNotFoundError" in pm.statuses[2].error
    before = plugin_samples.counting.ended
    pm.hook.call_ended(summary={"call_id": "c1"}, presence=None, config={})  # the loaded one works
    assert plugin_samples.counting.ended == before + 1


def test_switchboard_plugins_lists_them_and_fails_when_one_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points(monkeypatch)
    monkeypatch.setenv("SWITCHBOARD_PLUGINS", '{"misspelt": false, "spare": {"enabled": false}}')
    result = CliRunner().invoke(cli.main, ["--state-dir", "/nonexistent", "plugins"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == "counting  loaded  call_ended"
    assert lines[1] == "misspelt  disabled"
    assert lines[2] == "missing  failed  ModuleNotFoundError: No module named 'tests.unit.no_such_plugin_module'"
    assert lines[3] == "spare  disabled"


def test_a_hook_nobody_implements_answers_as_pluggy_does():
    pm = plugin_manager(load_entrypoints=False)
    assert asyncio.run(safe_call(pm, "call_ended", 0.2, summary={})) == []
    assert pm.hook.call_ended(summary={}, presence=None, config={}) == []
    assert asyncio.run(safe_call(pm, "route_call", 0.2, call={})) is pm.hook.route_call(call={}, config={}) is None


def test_each_implementation_gets_its_own_plugins_section_as_config_and_cannot_change_it():
    seen: dict[str, object] = {}

    class Prefix:
        @hookimpl
        def call_ended(self, summary, config):
            seen["prefix"] = dict(config)
            config["tag"] = "changed"  # a copy: the next call sees the setting again

    class Plain:
        @hookimpl
        def call_ended(self, config):
            seen["plain"] = config

    sections = plugin_sections({"prefix": {"tag": "[VIP]", "limits": [1, 2]}})
    pm = plugin_manager(sections, load_entrypoints=False)
    pm.register(Prefix(), name="prefix")
    pm.register(Plain(), name="plain")
    for _ in range(2):
        asyncio.run(safe_call(pm, "call_ended", 0.5, summary={"call_id": "c1"}))
        assert seen == {"prefix": {"tag": "[VIP]", "limits": [1, 2]}, "plain": {}}


def test_the_plugins_setting_is_checked_and_survives_the_environment():
    assert plugin_sections({"a": None, "b": False, "c": {"x": 1}}) == {
        "a": {"enabled": True}, "b": {"enabled": False}, "c": {"enabled": True, "x": 1}}
    with pytest.raises(ConfigError, match="'plugins' must map"):
        plugin_sections(["a"])
    with pytest.raises(ConfigError, match="b.enabled"):
        plugin_sections({"b": {"enabled": "no"}})
    with pytest.raises(ConfigError, match="JSON"):
        load_settings(env={"SWITCHBOARD_PLUGINS": "{nope"})
    settings = load_settings(env={"SWITCHBOARD_PLUGINS": '{"vip": {"tag": "[VIP]"}}'})
    assert load_settings(env=settings_env(settings)).plugins == {"vip": {"enabled": True, "tag": "[VIP]"}}


def test_a_plugin_that_hangs_on_every_call_is_skipped_at_once_once_it_holds_too_many_threads():
    import threading

    from switchboard.plugins import MAX_UNFINISHED, last_failure

    release = threading.Event()

    class Hangs:
        @hookimpl
        def call_ended(self, summary):
            release.wait(10)

    pm = plugin_manager(load_entrypoints=False)
    pm.register(Hangs(), name="hangs")
    try:
        started = time.monotonic()
        with budget(0.01):
            for _ in range(MAX_UNFINISHED):
                pm.hook.call_ended(summary={}, config={})
                assert last_failure() == "timeout"
            t0 = time.monotonic()
            pm.hook.call_ended(summary={}, config={})
            assert time.monotonic() - t0 < 0.005  # not waited for: skipped
            assert "earlier calls still running" in (last_failure() or "")
        assert time.monotonic() - started < 5
    finally:
        release.set()
    time.sleep(0.2)
    with budget(0.5):
        pm.hook.call_ended(summary={}, config={})  # returned threads count down again
    assert last_failure() is None
