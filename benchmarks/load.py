"""Load, with real everything: customers over the PJSIP trunk from SIPp, agents on SIP phones (SIPp).

Starts its own stack (Asterisk, Redis, the Salesforce emulator, orchestrator, worker, web), registers
``--agents`` SIP-phone agents (one SIPp UAS for all their phones: they answer after 1, 2 or 3 s and talk
``--talk`` seconds), then steps the call rate: customers call the customer-service queues' numbers over the trunk,
each staying on the line ``--hold`` seconds at most (waiting, then talking with an agent), with audio.

For each step it prints: calls offered, answered, abandoned and failed with a SIP error; the peak of
concurrent customer calls; Tasks in the emulator, missing and duplicated (both must be 0); p50/p95 of
call end (Asterisk's Hangup of the customer's channel) -> its Task created in the emulator; p95 of ring
(Asterisk's AgentCalled) -> ``call_offered`` published for the web app; CPU seconds and peak RSS of each
process. The last line is the highest rate held: every customer through (no SIP error), 0 lost, 0 duplicated.

Run: .venv/bin/python -m benchmarks.load                 (5 -> 10 -> 20 -> 40 cps, 60 s each, 50 agents)
     .venv/bin/python -m benchmarks.load --short         (the CI mode: 2 -> 5 cps, 15 s each, 10 agents)
Goal on a 2-core machine, SIPp included: >= 20 cps with >= 200 concurrent calls, 0 lost, 0 duplicated,
call end -> Task p95 <= 2 s, orchestrator RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from benchmarks.callwatch import Sampler, Watch, percentile, sf_time, stack_pids, tasks_by_number, watching
from control.stack import DEMO_QUEUES, Stack
from tests.support.sipagent import SipAgentPhones, make_sip_agents
from tests.support.sipp import SipCustomers

logger = logging.getLogger(__name__)

ANSWER_AFTER = (1.0, 2.0, 3.0)  # the agents' phones ring this long, a third of them each
# The customer-service pools: Sales' wrap-up waits for a code, which SIPp phones never pick.
LOAD_QUEUES = tuple((name, number) for name, _, number in DEMO_QUEUES if name.startswith("cs-"))


SIPP_ENTRY = re.compile(r"(?=\d{4}-\d\d-\d\d\t)")  # where each of SIPp's error-trace entries starts


# -- one step -------------------------------------------------------------------------------------------
@dataclass
class StepResult:
    """What one step measured."""

    rate: float
    offered: int
    answered: int
    abandoned: int
    failed: int
    peak: int
    tasks: int
    missing: int
    duplicated: int
    end_to_task: list[float]
    ring_to_offer: list[float]
    processes: dict[str, tuple[float, float]]
    errors: str = ""  # the first of SIPp's error lines, when calls failed

    def held(self) -> bool:
        """Every customer offered became a call (answered or abandoned, no SIP error), each has one Task,
        none has two."""
        return (self.offered > 0 and self.answered + self.abandoned == self.offered and self.failed == 0
                and self.missing == 0 and self.duplicated == 0)

    def lines(self) -> list[str]:
        """The step as printed lines."""
        procs = "  ".join(f"{n} {cpu:.1f} s/{rss:.0f} MB" for n, (cpu, rss) in self.processes.items())
        return [
            f"{self.rate:g} cps: offered {self.offered}, answered {self.answered}, abandoned {self.abandoned}, "
            f"failed (SIP error) {self.failed}; peak concurrent {self.peak}",
            f"  Tasks {self.tasks}: missing {self.missing}, duplicated {self.duplicated}; call end -> Task "
            f"p50 {percentile(self.end_to_task, .5):.2f} s p95 {percentile(self.end_to_task, .95):.2f} s; "
            f"ring -> call_offered p95 {percentile(self.ring_to_offer, .95) * 1000:.0f} ms",
            f"  CPU / peak RSS: {procs}",
            *([f"  SIP errors (first lines): {self.errors}"] if self.failed else []),
        ]


def run_step(stack: Stack, customers: SipCustomers, watch: Watch, step: int, rate: float, seconds: float,
             hold: float, drain: float, phones: dict[str, int] | None = None) -> StepResult:
    """Customers at ``rate`` calls a second for ``seconds``, spread over the demo queues; then wait for the
    calls to end and their Tasks to land, and measure."""
    n = max(1, int(rate * seconds))
    prefix = f"+35845{step:02d}"
    numbers = [f"{prefix}{i:06d}" for i in range(1, n + 1)]
    pids = {**stack_pids(stack), **(phones or {})}
    sampler = Sampler(pids)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)  # the customers' SIPp, once waited for
    with watch.lock:
        watch.peak = len(watch.up)
    queues = [number for _, number in LOAD_QUEUES]
    runs = []
    for i, to in enumerate(queues):
        mine = numbers[i::len(queues)]
        if mine:
            runs.append(customers.burst(len(mine), rate / len(queues), to, hold, numbers=mine,
                                        names=[f"Load Caller {m[-6:]}" for m in mine],
                                        max_seconds=seconds * 3 + hold + 120))
    outcomes = [r.wait(seconds * 3 + hold + 120) for r in runs]
    deadline = time.monotonic() + drain
    wanted = set(numbers)
    while time.monotonic() < deadline:  # wait for the Tasks (the emulator counts them)
        got = tasks_by_number(stack, prefix)
        if wanted <= set(got) and not watch.up:
            break
        time.sleep(1)
    processes = sampler.finish()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    processes["sipp-customers"] = (after.ru_utime + after.ru_stime - reaped.ru_utime - reaped.ru_stime,
                                   after.ru_maxrss / 1024)
    got = tasks_by_number(stack, prefix)
    with watch.lock:
        ids = {cid for cid, num in watch.number.items() if num in wanted}
        through = {watch.number[cid] for cid in ids}  # customers Asterisk took (an INVITE refused is not a call)
        end_to_task = [sf_time(got[watch.number[cid]][0]["CreatedDate"]) - watch.ended[cid]
                       for cid in ids if cid in watch.ended and got.get(watch.number[cid])]
        ring_to_offer = [watch.offered[cid] - watch.rang[cid] for cid in ids if cid in watch.rang
                         and cid in watch.offered]
        answered = len(ids & watch.answered)
        abandoned = len(ids & watch.abandoned)
        peak = watch.peak
    failed = sum(o.failed for o in outcomes) if outcomes and hasattr(outcomes[0], "failed") else 0
    return StepResult(rate, n, answered, abandoned, failed, peak, sum(len(v) for v in got.values()),
                      len(through - set(got)), sum(len(v) - 1 for v in got.values() if len(v) > 1),
                      end_to_task, ring_to_offer, processes,
                      " | ".join(" ".join(e.split()) for o in outcomes
                                 for e in SIPP_ENTRY.split(o.errors)[:3] if e.strip())[:400])


# -- the whole run ------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--short", action="store_true", help="the CI mode: 2 -> 5 cps, 15 s each, 10 agents")
    p.add_argument("--steps", default="5,10,20,40", help="calls a second, one step each (default 5,10,20,40)")
    p.add_argument("--step-seconds", type=float, default=60)
    p.add_argument("--agents", type=int, default=50)
    p.add_argument("--hold", type=float, default=12, help="seconds a customer stays on the line at most")
    p.add_argument("--talk", type=float, default=4, help="seconds an agent talks before hanging up")
    p.add_argument("--drain", type=float, default=60, help="seconds to wait for calls and Tasks after a step")
    p.add_argument("--workers", type=int, default=2, help="RQ worker processes in the stack (default 2)")
    p.add_argument("--keep", action="store_true", help="keep the stack's folder (logs) afterwards")
    args = p.parse_args(argv)
    if args.short:
        args.steps, args.step_seconds, args.agents, args.hold, args.talk = "2,5", 15, 10, 6, 2
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the steps and print the figures."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="sb-load-"))
    stack = Stack(workdir, f"load-{os.getpid()}", demo=True, rtp_ports=4000, workers=args.workers,
                  log=lambda m: None)
    results: list[StepResult] = []
    t0 = time.monotonic()
    try:
        stack.start()
        names = [f"load{i:02d}" for i in range(1, args.agents + 1)]
        make_sip_agents(stack, names, queues=[q for q, _ in LOAD_QUEUES], timeout=60)
        print(f"stack up and {len(names)} SIP-phone agents provisioned in {time.monotonic() - t0:.1f} s",
              flush=True)
        watch = Watch()
        groups = [names[i::len(ANSWER_AFTER)] for i in range(len(ANSWER_AFTER))]
        with ExitStack() as phones, watching(stack, watch):
            uas: dict[str, int] = {}
            for after, group in zip(ANSWER_AFTER, groups, strict=True):
                if group:
                    started = phones.enter_context(SipAgentPhones(stack, group, answer_after=after,
                                                                  talk_time=args.talk, trace=False,
                                                                  workdir=workdir / f"phones-{after:g}"))
                    uas[f"sipp-agents-{after:g}s"] = started.uas.pid
            customers = SipCustomers(stack, workdir / "customers")
            try:
                for step, rate in enumerate(float(r) for r in args.steps.split(",")):
                    result = run_step(stack, customers, watch, step + 1, rate, args.step_seconds, args.hold,
                                      args.drain, uas)
                    results.append(result)
                    for line in result.lines():
                        print(line, flush=True)
            finally:
                customers.close()
    finally:
        stack.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            shutil.rmtree(stack.asterisk.base, ignore_errors=True) if stack.asterisk else None
    held = [r.rate for r in results if r.held()]
    print(f"highest rate held (no SIP error, 0 lost, 0 duplicated): {max(held):g} cps" if held
          else "no rate held (no SIP error, 0 lost, 0 duplicated)")
    return 0 if results and all(r.held() for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
