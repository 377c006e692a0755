"""Run the RQ worker: ``python -m worker [--burst] [--simple]`` (settings from the environment)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import redis
import rq

from worker.context import get_context

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m worker", description="Switchboard RQ worker")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--simple", action="store_true",
                        help="run jobs in this process (no fork per job; keeps the Salesforce session warm)")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load settings and work the Switchboard queue."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx = get_context()
    settings = ctx.settings
    logger.info("worker starting on queue %s at %s", settings.rq_queue, settings.redis_url)
    try:
        ctx.salesforce()  # log in once here so work horses inherit the session instead of each logging in
    except Exception:  # a Salesforce outage must not stop the worker; jobs log in again and retry
        logger.warning("could not log in to Salesforce at startup; jobs will try again", exc_info=True)
    worker_class: type[rq.worker.BaseWorker] = rq.SimpleWorker if args.simple else rq.Worker
    if not args.simple:
        # Each job runs in a forked work horse: it must not reuse the parent's pooled sockets.
        os.register_at_fork(after_in_child=ctx.after_fork)
    worker = worker_class([settings.rq_queue], connection=redis.from_url(settings.redis_url))
    worker.work(burst=args.burst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
