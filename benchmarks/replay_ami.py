"""Events per second through translate + model on recorded AMI streams (one core).

Run: .venv/bin/python -m benchmarks.replay_ami [--seconds 3]
Target: >= 100,000 events/s.
"""

from __future__ import annotations

import argparse
import time

from orchestrator.model import Model
from orchestrator.translate import MalformedFrame, translate
from tests.amifixtures import messages

STREAMS = ("answered_call", "abandoned_call", "agent_refused", "hostile_callerid")


def run(seconds: float) -> dict[str, float]:
    """Replay the streams in a loop for ``seconds``; returns the figures."""
    stream = [m for name in STREAMS for m in messages(name)]
    model = Model({"cs-en": "Customer Service EN"})
    n_msgs = n_events = n_changes = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for at, msg in stream:
            try:
                event = translate(msg, at)
            except MalformedFrame:
                continue
            n_msgs += 1
            if event is not None:
                n_events += 1
                n_changes += len(model.apply(event))
    elapsed = time.perf_counter() - start
    return {"messages_per_s": n_msgs / elapsed, "events_per_s": n_events / elapsed,
            "changes": n_changes, "elapsed_s": elapsed}


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    r = run(parser.parse_args().seconds)
    print(f"replay_ami: {r['messages_per_s']:,.0f} AMI messages/s, {r['events_per_s']:,.0f} events/s "
          f"through translate + model ({r['changes']:,} changes in {r['elapsed_s']:.1f} s, one core)")


if __name__ == "__main__":
    main()
