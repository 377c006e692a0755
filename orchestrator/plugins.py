"""Plugin loading (entry points) and ``safe_call``: one failing or slow plugin never stalls the loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pluggy

from orchestrator import hookspecs

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "switchboard.plugins"


def plugin_manager(enabled: tuple[str, ...] = (), *, load_entrypoints: bool = True) -> pluggy.PluginManager:
    """A plugin manager with every installed plugin (or only ``enabled`` ones when given)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        if enabled:
            for name, plugin in list(pm.list_name_plugin()):
                if name not in enabled:
                    pm.unregister(plugin)
    logger.info("plugins loaded: %s", ", ".join(n for n, _ in pm.list_name_plugin()) or "none")
    return pm


async def safe_call(pm: pluggy.PluginManager, hook: str, timeout: float, **kwargs: Any) -> Any:
    """Call each implementation of ``hook`` in a thread with a deadline; firstresult hooks stop at a result.

    An implementation that raises or overruns is logged and skipped: the others still run.
    """
    caller = getattr(pm.hook, hook)
    first = bool(caller.spec and caller.spec.opts.get("firstresult"))
    results = []
    for impl in reversed(caller.get_hookimpls()):  # pluggy's order: last registered first
        try:
            result = await asyncio.wait_for(asyncio.to_thread(impl.function, **kwargs), timeout)
        except TimeoutError:
            logger.error("plugin %s: %s took longer than %.2f s; skipped", impl.plugin_name, hook, timeout)
            continue
        except Exception:
            logger.exception("plugin %s: %s failed; skipped", impl.plugin_name, hook)
            continue
        if result is not None:
            if first:
                return result
            results.append(result)
    return None if first else results
