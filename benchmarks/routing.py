"""Smart routing: decision latency, Salesforce latency, and the deadline under trunk load.

It starts a stack of its own: Asterisk, Redis, the Salesforce emulator with demo data, orchestrator, worker
and web. Two routing plugins run there:
- `salesforce_rules` with the demo rules;
- the example plugin (`examples/switchboard-example-plugin`), asked first. It hangs for every caller who
  sends the name "Hang Test".

It prints three parts.

1. **No load**, in this process, using the orchestrator's own chain (`ask_plugins`) and caller data
   (`SalesforceData`) against the stack's emulator. It reports the p50/p99 of the `route_call` chain for
   demo contacts:
   - warm (cached);
   - cold;
   - cold with 200 ms added to every Salesforce request.
2. **Under load, warm.** Customers call the language-menu number over the trunk from SIPp at `--rate`
   calls a second for `--seconds` (10 cps and 30 s by default). They call from `--callers` demo contacts in
   turn, and every tenth call sends the hanging name. From the traces the orchestrator stored, it reports:
   - the share of calls on the fallback path, which must be exactly the hanging calls, and the slowest of
     them (the deadline is 500 ms);
   - p50/p99 of the other decisions once the caller is cached (target p99 <= 20 ms);
   - the Salesforce API requests spent.
3. **Under load, 200 ms added to every Salesforce request in the emulator.** Other contacts call at the
   same rate. It reports:
   - the decision times of each caller's first, uncached lookup, and how many were answered within the
     deadline;
   - the decision times once the callers are cached.

Run: .venv/bin/python -m benchmarks.routing            (10 cps; 30 s warm, then 10 s slow)
     .venv/bin/python -m benchmarks.routing --short    (the CI mode: 5 cps, 6 s, 10 callers)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.callwatch import percentile
from control.stack import Stack

LANGUAGE_MENU = "+35891000004"
HANG_NAME = "Hang Test"
PLUGINS = {"salesforce_rules": {"rules_file": "demo"},
           "example_plugin": {"hang_names": [HANG_NAME], "hang_seconds": 2}}
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

    rows = sf_client(stack).query(f"SELECT Phone FROM Contact WHERE Phone != null LIMIT {limit * 2}")["records"]
    out = []
    for row in rows:
        number = normalize_number(row.get("Phone"), stack.settings.default_region)
        if re.fullmatch(r"\+\d{6,15}", number) and number not in out:
            out.append(number)
    return out[:limit]


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


def _routed(store, started: float, numbers: set[str], n: int) -> list[dict]:  # noqa: ANN001
    """The traces of the calls from ``numbers`` routed since ``started`` (waits for ``n`` of them, 20 s at most)."""
    deadline = time.monotonic() + 20
    found: list[dict] = []
    while time.monotonic() < deadline:
        found = [t for t in store.recent_traces(n * 3 + 50) if t["at"] >= started and t["caller_number"] in numbers]
        if len(found) >= n:
            break
        time.sleep(0.5)
    return sorted(found, key=lambda t: t["at"])


def _burst(stack: Stack, rate: float, numbers: list[str], names: list[str]) -> None:
    from tests.support.sipp import SipCustomers

    customers = SipCustomers(stack, Path(tempfile.mkdtemp(prefix="sb-routing-bench-")))
    try:
        customers.burst(len(numbers), rate, LANGUAGE_MENU, talk=3.0, numbers=numbers, names=names).wait(
            timeout=len(numbers) / rate + 60)
    finally:
        customers.close()


def under_load(stack: Stack, contacts: list[str], rate: float, seconds: float) -> list[str]:
    """Part 2: trunk callers at ``rate`` cps, known contacts; the stored traces say how each was routed."""
    from switchboard.store import Store

    assert stack.settings is not None
    store = Store(stack.settings.database_url)
    half = len(contacts) // 2
    warm_set, cold_set = contacts[:half], contacts[half:]
    n = max(20, int(rate * seconds))
    numbers = [warm_set[i % len(warm_set)] for i in range(n)]
    names = [HANG_NAME if i % 10 == 9 else f"Load Caller {i}" for i in range(n)]  # every tenth call hangs
    _emulator(stack, "reset-log")
    started = time.time()
    _burst(stack, rate, numbers, names)
    traces = _routed(store, started, set(warm_set), n)
    requests = _emulator(stack, "requests", method="GET")
    spent = len(requests.get("requests", requests)) if isinstance(requests, dict) else len(requests or [])
    fallback = {t["call_id"] for t in traces if t["outcome"] in ("timeout", "error")}
    hanging = {t["call_id"] for t in traces if t.get("caller_name") == HANG_NAME}
    seen: set[str] = set()
    warm = []
    for t in traces:
        if t["call_id"] not in fallback and t["caller_number"] in seen:
            warm.append(t["took_ms"])
        seen.add(t["caller_number"])
    slowest = max((t["took_ms"] for t in traces if t["call_id"] in fallback), default=0.0)
    expected = sum(name == HANG_NAME for name in names)
    verdict = ("exactly the hanging calls" if fallback == hanging and len(hanging) == expected and len(traces) == n
               else f"NOT the hanging calls: {len(fallback ^ hanging)} differ, {len(hanging)}/{expected} hanging seen")
    lines = [
        f"under load, warm: {n} trunk calls at {rate:g} cps to the language menu from {len(warm_set)} demo contacts; "
        f"{len(traces)} routed",
        f"  fallback path: {len(fallback)}/{len(traces)} = {100 * len(fallback) / max(1, len(traces)):.1f} % "
        f"(calls to a hanging plugin: {expected}/{n} = {100 * expected / n:.1f} %); {verdict}",
        f"  slowest fallback {slowest:.0f} ms (deadline {DEADLINE * 1000:.0f} ms)",
        f"  decision, warm cache: p50 {percentile(warm, .5):.1f} ms, p99 {percentile(warm, .99):.1f} ms "
        f"over {len(warm)} decisions (target p99 <= 20 ms)",
        f"  Salesforce API requests: {spent} for {n} calls ({len(warm_set)} callers looked up once each; a Task "
        "per call from the worker)",
    ]
    # the same load with 200 ms added to every Salesforce request, callers not looked up yet
    m = max(10, int(rate * seconds / 3))
    numbers = [cold_set[i % len(cold_set)] for i in range(m)]
    _emulator(stack, "faults", {"latency": 0.2})
    try:
        started = time.time()
        _burst(stack, rate, numbers, [f"Slow Caller {i}" for i in range(m)])
        slow = _routed(store, started, set(cold_set), m)
    finally:
        _emulator(stack, "reset-faults")
    seen = set()
    cold, warm = [], []
    for t in slow:
        (warm if t["caller_number"] in seen else cold).append(t)
        seen.add(t["caller_number"])
    kept = sum(t["outcome"] != "timeout" for t in cold)
    lines += [
        f"under load, +200 ms per Salesforce request: {m} calls at {rate:g} cps, {len(cold_set)} callers",
        f"  first lookup of a caller: p50 {percentile([t['took_ms'] for t in cold], .5):.0f} ms, "
        f"p99 {percentile([t['took_ms'] for t in cold], .99):.0f} ms; answered within the deadline {kept}/{len(cold)} "
        "(a timeout takes the number's own path)",
        f"  cached: p50 {percentile([t['took_ms'] for t in warm], .5):.1f} ms, "
        f"p99 {percentile([t['took_ms'] for t in warm], .99):.1f} ms over {len(warm)}",
    ]
    return lines


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
        contacts = demo_numbers(stack, 2 * args.callers + args.callers)
        lines += decision_latency(stack, contacts[2 * args.callers:], args.rounds)
        lines += under_load(stack, contacts[:2 * args.callers], args.rate, args.seconds)
    finally:
        stack.stop()
    for line in lines:
        print(line)
    return 0 if any("exactly the hanging calls" in x for x in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
