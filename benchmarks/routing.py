"""Smart routing: decision latency, Salesforce latency, and the deadline under trunk load.

Starts a stack of its own (Asterisk, Redis, the Salesforce emulator with demo data, orchestrator,
worker, web). It runs two routing plugins:
- `salesforce_rules` with the demo rules;
- the example plugin (`examples/switchboard-example-plugin`), told to hang for every caller whose
  number ends in 0.

It prints three parts.

1. Decision latency, measured in this process with the orchestrator's own chain (`ask_plugins`)
   and caller data (`SalesforceData`) against the stack's emulator:
   - p50/p99 of the whole `route_call` chain for the demo contacts' numbers with a warm cache;
   - the same cold, first as the emulator answers and then with 200 ms of latency injected into every
     Salesforce request;
   - the share of cold calls that still met the 500 ms deadline.
2. The deadline under load: customers call the language-menu number over the trunk from SIPp at
   `--rate` calls a second for `--seconds` (10 cps and 30 s by default), from numbers whose last digit
   cycles 0..9. So exactly a tenth of them meet the hanging plugin. From the traces the orchestrator
   stored, it reports:
   - the share of calls on the fallback path (timeout or error), which must equal the share of
     callers ending in 0;
   - every fallback decided within the deadline (the largest time taken);
   - that no other call fell back;
   - the decision times of the others.
3. The Salesforce API requests that routing spent in part 2, from the emulator's request log.

Run: .venv/bin/python -m benchmarks.routing            (10 cps for 30 s)
     .venv/bin/python -m benchmarks.routing --short    (the CI mode: 5 cps for 6 s, fewer samples)
Targets: warm p99 <= 20 ms; under load, the fallback share is exactly the hanging share, each within the
deadline (500 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.callwatch import percentile
from control.stack import Stack

LANGUAGE_MENU = "+35891000004"
PLUGINS = {"salesforce_rules": {"rules_file": "demo"},
           "example_plugin": {"hang_numbers_ending": ["0"], "hang_seconds": 2}}
DEADLINE = 0.5


def _emulator(stack: Stack, path: str, body: dict | None = None, method: str = "POST") -> Any:
    assert stack.settings is not None
    request = urllib.request.Request(f"{stack.settings.sf_emulator_url}/__emulator/{path}",
                                     data=None if method == "GET" else json.dumps(body or {}).encode(),
                                     method=method, headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as r:
        raw = r.read()
    return json.loads(raw) if raw else None


def demo_numbers(stack: Stack, limit: int) -> list[str]:
    """E.164 numbers of the emulator's demo contacts (callers routing can identify)."""
    from switchboard.numbers import normalize_number
    from tests.support.stack import sf_client

    rows = sf_client(stack).query(f"SELECT Phone FROM Contact WHERE Phone != null LIMIT {limit}")["records"]
    out = []
    for row in rows:
        number = normalize_number(row.get("Phone"), stack.settings.default_region)
        if number and number not in out:
            out.append(number)
    return out


def decision_latency(stack: Stack, numbers: list[str], rounds: int) -> list[str]:
    """Part 1: the route_call chain in this process (salesforce_rules + caller data), warm and cold."""
    from orchestrator.routing import ask_plugins
    from plugins import salesforce_rules
    from switchboard.callerdata import SalesforceData
    from switchboard.plugins import plugin_manager
    from switchboard.sfservices import SalesforceServices
    from switchboard.store import Store

    settings = stack.settings
    assert settings is not None
    pm = plugin_manager({"salesforce_rules": {"rules_file": "demo"}}, load_entrypoints=False)
    pm.register(salesforce_rules, name="salesforce_rules")
    store = Store(settings.database_url)
    provided = {"presence": None}

    def fresh() -> SalesforceData:
        return SalesforceData(SalesforceServices(settings).client, settings.default_region, store.linked_agents)

    def run(data: SalesforceData, callers: list[str]) -> list[float]:
        took = []
        for number in callers:
            call = {"channel_id": "bench", "call_id": "bench", "caller_number": number, "caller_name": "",
                    "dialled": LANGUAGE_MENU, "dialed": LANGUAGE_MENU, "queue": "cs-en", "ivr": "language"}
            t0 = time.perf_counter()
            ask_plugins(pm, call, time.monotonic() + 5.0, {**provided, "salesforce": data})
            took.append((time.perf_counter() - t0) * 1000)
        return took

    lines = []
    data = fresh()
    run(data, numbers[:1])  # the session (login) outside the figures
    cold = run(data, numbers)
    warm = run(data, numbers * rounds)
    lines.append(f"decision, warm cache: {len(warm)} decisions, p50 {percentile(warm, .5):.2f} ms, "
                 f"p99 {percentile(warm, .99):.2f} ms (target p99 <= 20 ms)")
    lines.append(f"decision, cold: {len(cold)} decisions, p50 {percentile(cold, .5):.1f} ms, "
                 f"p99 {percentile(cold, .99):.1f} ms")
    _emulator(stack, "faults", {"latency": 0.2})
    try:
        slow = run(fresh(), numbers)
    finally:
        _emulator(stack, "reset-faults")
    within = sum(t <= DEADLINE * 1000 for t in slow)
    lines.append(f"decision, cold, +200 ms per Salesforce request: p50 {percentile(slow, .5):.0f} ms, "
                 f"p99 {percentile(slow, .99):.0f} ms; {within}/{len(slow)} within the {DEADLINE * 1000:.0f} ms "
                 "deadline (the rest take the number's own path)")
    return lines


def under_load(stack: Stack, rate: float, seconds: float) -> list[str]:
    """Part 2: trunk callers at ``rate`` cps; the stored traces say how each was routed."""
    from switchboard.store import Store
    from tests.support.sipp import SipCustomers

    assert stack.settings is not None
    store = Store(stack.settings.database_url)
    n = max(10, int(rate * seconds))
    numbers = [f"+35840777{i:04d}" for i in range(n)]  # last digits cycle 0..9: a tenth end in 0
    hanging = {x for x in numbers if x.endswith("0")}
    _emulator(stack, "reset-log")
    started = time.time()
    workdir = Path(tempfile.mkdtemp(prefix="sb-routing-bench-"))
    customers = SipCustomers(stack, workdir)
    try:
        run = customers.burst(n, rate, LANGUAGE_MENU, talk=3.0, numbers=numbers)
        run.wait(timeout=seconds + 60)
    finally:
        customers.close()
    deadline = time.monotonic() + 15
    traces: dict[str, dict] = {}
    while time.monotonic() < deadline:
        traces = {t["caller_number"]: t for t in store.recent_traces(n * 3)
                  if t["at"] >= started and t["caller_number"] in numbers}
        if len(traces) >= n:
            break
        time.sleep(0.5)
    fallback = {x for x, t in traces.items() if t["outcome"] in ("timeout", "error")}
    others = [t["took_ms"] for x, t in traces.items() if x not in fallback]
    slowest_fallback = max((traces[x]["took_ms"] for x in fallback), default=0.0)
    requests = _emulator(stack, "requests", method="GET")
    spent = len(requests.get("requests", requests)) if isinstance(requests, dict) else len(requests or [])
    verdict = ("exactly the hanging callers" if fallback == hanging
               else f"NOT the hanging callers: {sorted(fallback ^ hanging)[:5]}")
    return [
        f"under load: {n} trunk calls at {rate:g} cps to the language menu; {len(traces)} routed "
        f"({n - len(traces)} without a trace)",
        f"fallback path: {len(fallback)}/{len(traces)} = {100 * len(fallback) / max(1, len(traces)):.1f} % "
        f"(hanging callers: {len(hanging)}/{n} = {100 * len(hanging) / n:.1f} %); {verdict}",
        f"slowest fallback {slowest_fallback:.0f} ms (deadline {DEADLINE * 1000:.0f} ms); the others: "
        f"p50 {percentile(others, .5):.1f} ms, p99 {percentile(others, .99):.1f} ms",
        f"Salesforce API requests during the load: {spent} for {n} calls (callers are unknown numbers: one SOSL "
        "each, a Task each from the worker)",
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.routing", description=__doc__.split("\n\n")[0])
    p.add_argument("--short", action="store_true", help="the CI mode: 5 cps for 6 s, fewer samples")
    p.add_argument("--rate", type=float, default=10.0)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--callers", type=int, default=40, help="demo contacts for the latency part")
    p.add_argument("--rounds", type=int, default=25, help="warm passes over them")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    args = parse_args(argv)
    if args.short:
        args.rate, args.seconds, args.callers, args.rounds = 5.0, 6.0, 10, 5
    workdir = Path(tempfile.mkdtemp(prefix="sb-routing-"))
    stack = Stack(workdir, f"routing-bench-{os.getpid()}", demo=True, plugins=PLUGINS, log=lambda m: None)
    lines: list[str] = []
    try:
        stack.start()
        numbers = demo_numbers(stack, args.callers)
        lines += decision_latency(stack, numbers, args.rounds)
        lines += under_load(stack, args.rate, args.seconds)
    finally:
        stack.stop()
    for line in lines:
        print(line)
    return 0 if any("exactly the hanging callers" in x for x in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
