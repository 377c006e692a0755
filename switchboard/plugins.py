"""Plugin loading (entry points) and isolation: one failing or slow plugin never stalls a caller.

Hooks are called through pluggy's own machinery (``pm.hook.call_ended(summary=...)``): pluggy passes an
implementation only the arguments it names, checks those names against the spec at registration, and
stops a ``firstresult`` hook at the first answer. What pluggy does not do is keep one implementation's
failure from the others: every implementation registered here runs guarded — in a thread of its own
with a time budget (``budget``, per call; ``DEFAULT_BUDGET`` otherwise); one that raises or overruns is
logged with its plugin's name and counts as no answer, and the others still run. ``safe_call`` runs a
whole hook call off the event loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from orchestrator import hookspecs

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "switchboard.plugins"
DEFAULT_BUDGET = 5.0  # seconds an implementation may take when the caller set no budget
_budget: contextvars.ContextVar[float] = contextvars.ContextVar("plugin_budget", default=DEFAULT_BUDGET)
# Implementations run here; one that overruns keeps its thread until it returns, so there are spares.
_runner = ThreadPoolExecutor(max_workers=16, thread_name_prefix="plugin")


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Give each implementation called in this block (this thread or task) ``seconds`` at most."""
    token = _budget.set(seconds)
    try:
        yield
    finally:
        _budget.reset(token)


def _guarded(function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def guard(*args: Any, **kwargs: Any) -> Any:
        seconds = _budget.get()
        future = _runner.submit(function, *args, **kwargs)
        try:
            return future.result(timeout=seconds)
        except FutureTimeout:
            logger.error("plugin %s: %s took longer than %.2f s; skipped", plugin, hook, seconds)
        except Exception:
            logger.exception("plugin %s: %s failed; skipped", plugin, hook)
        return None

    guard.switchboard_guarded = True  # type: ignore[attr-defined]
    return guard


class PluginManager(pluggy.PluginManager):
    """pluggy's manager for Switchboard's hooks, every implementation guarded (see the module's text)."""

    statuses: list[PluginStatus]

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` as pluggy does (its names checked against the specs), then guard its hooks."""
        registered = super().register(plugin, name)
        if registered is not None:
            for caller in self.get_hookcallers(plugin) or []:
                for impl in caller.get_hookimpls():
                    if impl.plugin is plugin and not (impl.hookwrapper or impl.wrapper) \
                            and not getattr(impl.function, "switchboard_guarded", False):
                        impl.function = _guarded(impl.function, impl.plugin_name, caller.name)  # type: ignore[misc]
        return registered


@dataclass(frozen=True)
class PluginStatus:
    """What became of one installed plugin: ``loaded`` (with its hooks), ``disabled`` or ``failed``."""

    name: str
    status: str
    hooks: tuple[str, ...] = ()
    error: str = ""


def plugin_manager(enabled: tuple[str, ...] = (), *, load_entrypoints: bool = True) -> PluginManager:
    """A plugin manager with every installed plugin (or only ``enabled`` ones when given); ``pm.statuses``
    says what became of each. A plugin that fails to import or to register is logged and left out."""
    pm = PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.statuses = [_load(pm, ep, enabled) for ep in entry_points(group=ENTRY_POINT_GROUP)] \
        if load_entrypoints else []
    logger.info("plugins loaded: %s", ", ".join(n for n, _ in pm.list_name_plugin()) or "none")
    return pm


def _load(pm: PluginManager, ep: EntryPoint, enabled: tuple[str, ...]) -> PluginStatus:
    if enabled and ep.name not in enabled:
        return PluginStatus(ep.name, "disabled")
    try:
        plugin = ep.load()
        pm.register(plugin, name=ep.name)
    except Exception as exc:  # a third party's import error or a misspelt hook: that plugin is left out
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"  # one line (pluggy's message has three)
        logger.error("plugin %s (%s) not loaded: %s", ep.name, ep.value, error)
        return PluginStatus(ep.name, "failed", error=error)
    hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or []))
    return PluginStatus(ep.name, "loaded", hooks)


async def safe_call(pm: pluggy.PluginManager, hook: str, timeout: float, **kwargs: Any) -> Any:
    """Call ``hook`` with ``kwargs`` off the event loop, each implementation given ``timeout`` seconds."""
    caller = getattr(pm.hook, hook)
    if not caller.get_hookimpls():  # most hooks on a call's path: no thread hop for nobody
        return None if caller.spec is not None and caller.spec.opts.get("firstresult") else []

    def call() -> Any:
        with budget(timeout):
            return caller(**kwargs)

    return await asyncio.to_thread(call)
