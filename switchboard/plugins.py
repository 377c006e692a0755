"""Plugin loading (entry points) and isolation: one failing or slow plugin never stalls a caller.

Hooks are called through pluggy's own machinery (``pm.hook.call_ended(summary=..., config={})``): pluggy passes an
implementation only the arguments it names, checks those names against the spec at registration, and
stops a ``firstresult`` hook at the first answer. What pluggy does not do is keep one implementation's
failure from the others: every implementation registered here runs guarded — in a thread of its own
with a time budget (``budget``, per call; ``DEFAULT_BUDGET`` otherwise); one that raises or overruns is
logged with its plugin's name and counts as no answer, and the others still run. The guard also hands
each implementation that names ``config`` its own plugin's section of the ``plugins`` setting.
``call_hook`` calls a hook where it is (a worker's job); ``safe_call`` off the event loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from switchboard import hookspecs

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "switchboard.plugins"
DEFAULT_BUDGET = 5.0  # seconds an implementation may take when the caller set no budget
_budget: contextvars.ContextVar[float] = contextvars.ContextVar("plugin_budget", default=DEFAULT_BUDGET)
# Implementations run here; one that overruns keeps its thread until it returns, so there are spares.
# A plugin with MAX_UNFINISHED calls still running (it hangs) is skipped at once until some return, so a
# hanging plugin can never take every thread: the other plugins, and the calls, go on.
_runner = ThreadPoolExecutor(max_workers=128, thread_name_prefix="plugin")
MAX_UNFINISHED = 32
_unfinished: dict[str, int] = {}
_unfinished_lock = threading.Lock()
_outcome = threading.local()  # per calling thread: how the last guarded implementation ended


def last_failure() -> str | None:
    """How the last guarded implementation called in this thread failed (``timeout`` or ``error: …``), or
    None when it returned (its answer, None included, is then what the hook got)."""
    return getattr(_outcome, "failure", None)


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Give each implementation called in this block (this thread or task) ``seconds`` at most."""
    token = _budget.set(seconds)
    try:
        yield
    finally:
        _budget.reset(token)


def _guarded(function: Callable[..., Any], plugin: str, hook: str, config_at: int | None,
             configs: Mapping[str, Mapping[str, Any]]) -> Callable[..., Any]:
    @functools.wraps(function)
    def guard(*args: Any, **kwargs: Any) -> Any:
        # what one plugin changes in a data argument the next one does not see (``presence`` is shared)
        args = tuple(copy.deepcopy(a) if isinstance(a, dict | list | set) else a for a in args)
        if config_at is not None and config_at < len(args):  # this plugin's own section, a fresh copy
            args = (*args[:config_at], copy.deepcopy(dict(configs.get(plugin, {}))), *args[config_at + 1:])
        seconds = _budget.get()
        _outcome.failure = None
        with _unfinished_lock:
            running = _unfinished.get(plugin, 0)
            if running >= MAX_UNFINISHED:
                _outcome.failure = f"error: {running} earlier calls still running; skipped"
                logger.error("plugin %s: %s skipped: %d earlier calls have not returned", plugin, hook, running)
                return None
            _unfinished[plugin] = running + 1
        future = _runner.submit(function, *args, **kwargs)
        future.add_done_callback(lambda _f: _finished(plugin))
        try:
            return future.result(timeout=seconds)
        except FutureTimeout:
            _outcome.failure = "timeout"
            logger.error("plugin %s: %s took longer than %.2f s; skipped", plugin, hook, seconds)
        except Exception as exc:
            _outcome.failure = f"error: {type(exc).__name__}: {exc}"
            logger.exception("plugin %s: %s failed; skipped", plugin, hook)
        return None

    guard.switchboard_guarded = True  # type: ignore[attr-defined]
    return guard


def _finished(plugin: str) -> None:
    with _unfinished_lock:
        _unfinished[plugin] = _unfinished.get(plugin, 1) - 1


class PluginManager(pluggy.PluginManager):
    """pluggy's manager for Switchboard's hooks, every implementation guarded (see the module's text)."""

    statuses: list[PluginStatus]

    def __init__(self, project_name: str, configs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        super().__init__(project_name)
        self.configs: Mapping[str, Mapping[str, Any]] = configs or {}
        self.statuses = []
        self.provided: dict[str, Any] = {}  # arguments the process gives every hook that has them

    def provide(self, name: str, value: Any) -> None:
        """Give every hook call an argument ``name`` (e.g. the orchestrator's ``presence``) its spec names."""
        self.provided[name] = value

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` as pluggy does (its names checked against the specs), then guard its hooks."""
        registered = super().register(plugin, name)
        if registered is not None:
            for caller in self.get_hookcallers(plugin) or []:
                for impl in caller.get_hookimpls():
                    if impl.plugin is plugin and not (impl.hookwrapper or impl.wrapper) \
                            and not getattr(impl.function, "switchboard_guarded", False):
                        at = impl.argnames.index("config") if "config" in impl.argnames else None
                        impl.function = _guarded(  # type: ignore[misc]
                            impl.function, impl.plugin_name, caller.name, at, self.configs)
        return registered


@dataclass(frozen=True)
class PluginStatus:
    """What became of one plugin: ``loaded`` (with its hooks), ``disabled``, ``failed`` or ``missing``
    (configured, not installed)."""

    name: str
    status: str
    hooks: tuple[str, ...] = ()
    error: str = ""


def plugin_manager(sections: Mapping[str, Mapping[str, Any]] | None = None, *,
                   load_entrypoints: bool = True) -> PluginManager:
    """A plugin manager with every installed plugin its section (the ``plugins`` setting, normalised by
    ``switchboard.config.plugin_sections``) does not disable; ``pm.statuses`` says what became of each,
    and of each configured plugin that is not installed. One that fails to import or register is left out."""
    sections = sections or {}
    pm = PluginManager(hookspecs.PROJECT, {name: {k: v for k, v in section.items() if k != "enabled"}
                                           for name, section in sections.items()})
    pm.add_hookspecs(hookspecs)
    if load_entrypoints:
        installed = list(entry_points(group=ENTRY_POINT_GROUP))
        pm.statuses = [_load(pm, ep, sections.get(ep.name, {})) for ep in installed]
        names = {ep.name for ep in installed}
        for name in sections:
            if name not in names:
                logger.warning("plugin %s is configured but not installed", name)
                pm.statuses.append(PluginStatus(name, "missing", error="configured but not installed"))
    logger.info("plugins loaded: %s", ", ".join(n for n, _ in pm.list_name_plugin()) or "none")
    return pm


def _load(pm: PluginManager, ep: EntryPoint, section: Mapping[str, Any]) -> PluginStatus:
    if section.get("enabled") is False:
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


def call_hook(pm: pluggy.PluginManager, hook: str, timeout: float = DEFAULT_BUDGET, **kwargs: Any) -> Any:
    """Call ``hook`` here (blocking), each implementation given ``timeout`` seconds and its own ``config``."""
    caller = getattr(pm.hook, hook)
    if not caller.get_hookimpls():  # most hooks on a call's path: nobody listens
        return None if caller.spec is not None and caller.spec.opts.get("firstresult") else []
    spec = caller.spec.argnames if caller.spec is not None else ()
    provided = getattr(pm, "provided", {})
    # what this process does not provide is None (the worker has no ``presence``): never a HookCallError
    extra = {n: provided.get(n) for n in spec if n not in kwargs and n != "config"}
    with budget(timeout):
        return caller(config={}, **extra, **kwargs)  # the guard hands each implementation its own section


async def safe_call(pm: pluggy.PluginManager, hook: str, timeout: float, **kwargs: Any) -> Any:
    """Call ``hook`` with ``kwargs`` off the event loop, each implementation given ``timeout`` seconds."""
    caller = getattr(pm.hook, hook)
    if not caller.get_hookimpls():  # no thread hop for nobody
        return None if caller.spec is not None and caller.spec.opts.get("firstresult") else []
    return await asyncio.to_thread(call_hook, pm, hook, timeout, **kwargs)
