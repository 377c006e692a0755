"""Plugin manager, safe_call and the plugin author's guide."""

from __future__ import annotations

import asyncio
import inspect
import time
from pathlib import Path

from orchestrator import hookspecs
from orchestrator.hookspecs import hookimpl
from orchestrator.plugins import plugin_manager, safe_call

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def hook_names() -> list[str]:
    return [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "switchboard_spec")]


def test_every_hookspec_is_documented_keyword_only_with_a_docstring():
    guide = GUIDE.read_text()
    assert hook_names(), "no hookspecs found"
    for name in hook_names():
        fn = getattr(hookspecs, name)
        assert f"### `{name}(" in guide, f"{name} missing from docs/plugins.md"
        assert fn.__doc__ and "\n" not in fn.__doc__.strip()
        params = inspect.signature(fn).parameters.values()
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), name


def test_builtin_plugins_load_through_entry_points():
    pm = plugin_manager()
    assert "default_routing" in dict(pm.list_name_plugin())


def test_given_one_failing_and_one_slow_plugin_then_the_others_still_run():
    seen = []

    class Good:
        @hookimpl
        def call_ended(self, *, summary):
            seen.append(summary["call_id"])

    class Bad:
        @hookimpl
        def call_ended(self, *, summary):
            raise ValueError("boom")

    class Slow:
        @hookimpl
        def call_ended(self, *, summary):
            time.sleep(2)

    pm = plugin_manager(load_entrypoints=False)
    for p in (Good(), Bad(), Slow()):
        pm.register(p)
    async def timed() -> float:
        t0 = time.monotonic()
        await safe_call(pm, "call_ended", 0.2, summary={"call_id": "c1"})
        return time.monotonic() - t0

    took = asyncio.run(timed())  # (asyncio.run itself then waits for the abandoned thread)
    assert seen == ["c1"]
    assert took < 1.0


def test_given_firstresult_route_call_then_the_first_answer_wins_and_none_falls_through():
    class Keep:
        @hookimpl
        def route_call(self, *, call):
            return None

    class Sales:
        @hookimpl
        def route_call(self, *, call):
            return "sales"

    pm = plugin_manager(load_entrypoints=False)
    pm.register(Sales())
    pm.register(Keep())
    assert asyncio.run(safe_call(pm, "route_call", 0.5, call={"queue": "cs-en"})) == "sales"
