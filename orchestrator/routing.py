"""Routing hand-off: a Stasis channel asks the plugins where it goes, then goes back to the dialplan.

Every inbound call passes ``Stasis(switchboard,route,QUEUE,IVR)`` ([sb-route] in extensions.conf). The
``route_call`` chain runs in a thread against one hard deadline (``routing_timeout``, default 500 ms):
plugins are asked in pluggy's order; one that raises is skipped (the next is asked), one that overruns
ends the chain; the first answer wins. The decision (``switchboard.routing.Decision``) is checked and
handed to the dialplan as channel variables; anything else — no answer, an exception, the deadline, a
decision that cannot be carried out, the orchestrator down (Stasis fails at once) — continues the call on
the dialplan's own path. Each routed call's trace is stored for ``switchboard route explain``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from typing import Any

import pluggy

from orchestrator import events as ev
from orchestrator.ari import AriClient
from orchestrator.translate import MalformedFrame, translate_ari
from switchboard.plugins import budget, last_failure
from switchboard.routing import Decision, InvalidDecision, Trace, channel_variables, check, coerce

logger = logging.getLogger(__name__)


def route_call_args(request: ev.RouteRequested) -> dict[str, Any]:
    """The ``call`` a ``route_call`` hook receives."""
    return {"channel_id": request.channel_id, "call_id": request.channel_id,
            "caller_number": request.caller_number, "caller_name": request.caller_name,
            "dialled": request.dialed, "dialed": request.dialed, "queue": request.queue, "ivr": request.ivr}


def _short(answer: Any) -> Any:
    """An answer as the trace keeps it (JSON-able)."""
    if isinstance(answer, Decision):
        return {k: v for k, v in answer.as_dict().items() if v not in (None, False, "", (), [], {})}
    return answer if isinstance(answer, str | int | float | bool | dict | list | type(None)) else repr(answer)


def ask_plugins(pm: pluggy.PluginManager, call: dict[str, Any], deadline: float,
                provided: dict[str, Any]) -> tuple[Decision | None, Trace]:
    """Run the ``route_call`` chain (blocking) until ``deadline`` (``time.monotonic()``); the decision and
    the trace (outcome decided/default/timeout/error/rejected is settled by the caller for ``rejected``)."""
    trace = Trace(call_id=call["call_id"], at=time.time(), caller_number=call["caller_number"],
                  dialled=call["dialled"], queue=call["queue"], caller_name=call.get("caller_name") or "")
    values = {**provided, "call": call, "config": {}}
    started = time.perf_counter()
    errors: list[str] = []
    decision: Decision | None = None
    try:
        for impl in reversed(pm.hook.route_call.get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                trace.outcome = "timeout"
                break
            t0 = time.perf_counter()
            with budget(remaining):
                answer = impl.function(*[values.get(name) for name in impl.argnames])
            failure = last_failure()
            step = {"plugin": impl.plugin_name, "answer": _short(answer), "ms": (time.perf_counter() - t0) * 1000}
            trace.steps.append(step)
            if failure == "timeout":
                step["error"] = f"no answer within the deadline ({remaining * 1000:.0f} ms)"
                trace.outcome, trace.plugin = "timeout", impl.plugin_name
                trace.error = f"plugin {impl.plugin_name} did not answer within the deadline"
                break
            if failure:
                step["error"] = failure
                errors.append(f"plugin {impl.plugin_name}: {failure}")
                continue
            if answer is None:
                continue
            trace.plugin = impl.plugin_name
            try:
                decision = coerce(answer)
            except InvalidDecision as exc:
                trace.outcome, trace.error = "rejected", f"plugin {impl.plugin_name}: {exc}"
                break
            trace.outcome = "decided"
            break
        else:
            trace.outcome = "error" if errors else "default"
    finally:
        trace.took_ms = (time.perf_counter() - started) * 1000
    if errors and not trace.error:
        trace.error = "; ".join(errors)
    return (decision if trace.outcome == "decided" else None), trace


class Router:
    """Answers StasisStart(route) events within a hard deadline; on any failure the dialplan decides."""

    def __init__(self, ari: AriClient, pm: pluggy.PluginManager, timeout: float, queues: Collection[str],
                 *, salesforce: Any = None, save_trace: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.ari = ari
        self.pm = pm
        self.timeout = timeout
        self.queues = set(queues)
        self.salesforce = salesforce
        self.save_trace = save_trace
        self.routing: set[str] = set()  # channels whose StasisStart this process is answering
        self.saving: set[asyncio.Task] = set()

    async def on_ari(self, message: dict[str, Any]) -> None:
        """Handle one ARI event."""
        try:
            request = translate_ari(message, time.time())
        except MalformedFrame as exc:
            logger.warning("skipped malformed ARI message: %s", exc)
            return
        if isinstance(request, ev.RouteRequested):
            await self.route(request)

    async def recover(self, settle: float = 1.0) -> None:
        """After (re)connecting: hand back to the dialplan every channel left in routing, one that entered
        ``Stasis()`` while a previous orchestrator was connected and died before it answered (Asterisk keeps
        such a channel in the application and sends its StasisStart to nobody again). Waits ``settle``
        seconds first, so that a call arriving now is answered through its own StasisStart."""
        await asyncio.sleep(settle)
        for channel_id in await self.ari.app_channels():
            if channel_id in self.routing:
                continue
            logger.warning("channel %s was left in routing; the dialplan's queue takes it", channel_id)
            try:
                await self.ari.continue_in_dialplan(channel_id)
            except Exception as exc:  # routed meanwhile by its own StasisStart (this connection's): fine
                logger.info("channel %s not continued: %s", channel_id, exc)

    async def decide(self, request: ev.RouteRequested) -> tuple[Decision | None, Trace]:
        """Ask the plugins (off the event loop, within the deadline) and check their decision."""
        call = route_call_args(request)
        deadline = time.monotonic() + self.timeout
        provided = {**getattr(self.pm, "provided", {}), "salesforce": self.salesforce}
        try:
            decision, trace = await asyncio.wait_for(
                asyncio.to_thread(ask_plugins, self.pm, call, deadline, provided), self.timeout + 0.05)
        except TimeoutError:  # the chain's own guard failed to stop it: the deadline holds anyway
            return None, Trace(call["call_id"], time.time(), request.caller_number, request.dialed, request.queue,
                               outcome="timeout", took_ms=self.timeout * 1000, error="routing overran the deadline")
        if decision is not None:
            try:
                check(decision, self.queues)
            except InvalidDecision as exc:
                trace.outcome, trace.error = "rejected", f"plugin {trace.plugin}: {exc}"
                decision = None
        if decision is not None and decision.keeps_path(request.queue):
            # e.g. default_routing: the dialled number's queue; "error" when a plugin before it failed
            trace.outcome = "error" if trace.error else "default"
        if decision is not None:
            trace.decision = decision.as_dict()
        return (decision if trace.outcome == "decided" else None), trace

    async def route(self, request: ev.RouteRequested) -> None:
        """Decide (within the deadline), hand the decision to the channel, continue it in the dialplan."""
        self.routing.add(request.channel_id)
        trace: Trace | None = None
        try:
            decision, trace = await self.decide(request)
            if decision is not None:
                for name, value in channel_variables(decision, request.queue).items():
                    await self.ari.set_variable(request.channel_id, name, value)
                logger.info("routed %s (%s): %s", request.caller_number, trace.plugin, decision.reason
                            or decision.queue or "decided")
            elif trace.outcome in ("timeout", "error", "rejected"):
                logger.warning("routing of %s: %s (%s); the dialplan's path is kept", request.caller_number,
                               trace.outcome, trace.error)
        except Exception as exc:
            logger.exception("routing failed; the dialplan's path is kept")
            if trace is not None:
                trace.outcome, trace.error = "error", f"{type(exc).__name__}: {exc}"
        finally:
            try:
                await self.ari.continue_in_dialplan(request.channel_id)
            finally:
                self.routing.discard(request.channel_id)
        if trace is not None and self.save_trace is not None:
            task = asyncio.create_task(asyncio.to_thread(self._save, trace.as_dict()))
            self.saving.add(task)
            task.add_done_callback(self.saving.discard)

    def _save(self, trace: dict[str, Any]) -> None:
        try:
            self.save_trace(trace)  # type: ignore[misc]
        except Exception:
            logger.exception("routing trace of %s not stored", trace.get("call_id"))
