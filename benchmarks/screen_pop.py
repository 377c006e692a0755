"""Ring -> caller identity shown, with the Salesforce lookup included, cold and warm cache.

Starts the whole stack (Asterisk, Redis, orchestrator, worker, web, Salesforce emulator), logs an
agent in with Debian's Chromium, rings it with customer calls and reads, for each call, the time
between Asterisk's AgentCalled (seen by the orchestrator) and the identity appearing in the page.
Cold: the caller-lookup cache is emptied before each call; warm: the same callers again.

Run: .venv/bin/python -m benchmarks.screen_pop [--calls 15]
Targets: p95 <= 150 ms warm, <= 400 ms cold.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from control.stack import DEMO_PASSWORD, Stack
from tests.support.phone import CHROMIUM_ARGS, login, ring
from tests.support.sipp import SipCustomers


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[int(round(0.95 * (len(ordered) - 1)))]


def measure(page, stack: Stack, customers: SipCustomers, numbers: list[str], cold: bool) -> list[float]:
    """Ring once per number (a customer over the trunk); return ring -> identity shown in ms."""
    cache = redis.Redis.from_url(stack.settings.redis_url)
    out = []
    for number in numbers:
        if cold:
            for key in cache.scan_iter("switchboard:sf:phone:*"):
                cache.delete(key)
        page.evaluate("window.switchboardWorkflows.identityShownAt = 0")
        customer = ring(customers, number=number, name="Bench", queue_number="+35891000002")
        page.wait_for_function("window.switchboardWorkflows.identityShownAt > 0 && "
                               "window.switchboardPhone.timings.rang_at > 0", timeout=10000)
        shown = page.evaluate("window.switchboardWorkflows.identityShownAt")
        rang = page.evaluate("window.switchboardPhone.timings.rang_at")
        out.append(shown - rang * 1000)
        customer.stop()
        page.wait_for_selector("#incoming", state="hidden", timeout=5000)
        time.sleep(0.3)
    return out


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=15)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from sfemu.seed import DEMO_CALLER_NUMBER

    numbers = [DEMO_CALLER_NUMBER] + [f"+3584012{i:05d}" for i in range(args.calls - 1)]
    workdir = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    stack = Stack(workdir, "bench-screen-pop", demo=True, log=lambda _m: None)
    stack.start()
    try:
        subprocess.run([sys.executable, "-m", "control.cli", "--state-dir", str(workdir), "agent", "add",
                        "popbench", "--name", "Pop Bench", "--password", DEMO_PASSWORD, "--queue",
                        "Customer Service FI"], check=True, capture_output=True)
        time.sleep(1.0)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            page = login(browser, stack, "popbench")
            customers = SipCustomers(stack, workdir / "sipp")
            cold = measure(page, stack, customers, numbers, cold=True)
            warm = measure(page, stack, customers, numbers, cold=False)
            customers.close()
            browser.close()
    finally:
        stack.stop()
    for name, values, target in (("cold", cold, 400), ("warm", warm, 150)):
        print(f"screen_pop {name}: ring -> identity shown p50 {statistics.median(values):.0f} ms, "
              f"p95 {p95(values):.0f} ms, max {max(values):.0f} ms (n={len(values)}, target p95 <= {target} ms)")


if __name__ == "__main__":
    main()
