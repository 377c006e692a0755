"""Run the RQ worker, the outbox flusher, the ledger reconciler and the screen-pop warm-ups:
``python -m worker [--burst] [--fork]``.

Jobs run in this process (rq's SimpleWorker: a few milliseconds each, the Salesforce session and
connections stay warm); ``--fork`` runs each in a forked work horse instead (about 60 ms more per
job). The flusher, the ledger reconciler (worker/reconciler.py), the warm-up lookups
(worker/warmer.py), the heartbeat that finds a dead worker's jobs (worker/liveness.py) and RQ's
scheduler of retries (worker/scheduling.py) run in threads. Settings come from the environment.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

import redis
import rq

from switchboard.plugins import call_hook
from switchboard.process import die_with_parent
from worker import rqworkers
from worker.context import get_context
from worker.liveness import Liveness
from worker.scheduling import Scheduler

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m worker", description="Switchboard RQ worker")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty (and the outbox flushed)")
    parser.add_argument("--fork", action="store_true", help="run each job in a forked work horse")
    parser.add_argument("--simple", action="store_true", help="(the default) run jobs in this process")
    parser.add_argument("--no-flusher", action="store_true", help="do not write the outbox from this process")
    parser.add_argument("--no-reconciler", action="store_true",
                        help="do not turn the call ledger's unrecorded calls into Tasks from this process")
    parser.add_argument("--no-warmer", action="store_true",
                        help="do not run the screen-pop caller lookups (worker/warmer.py) in this process")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load settings, start the flusher and work the Switchboard queue."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx = get_context()
    settings = ctx.settings
    logger.info("worker starting on queue %s at %s", settings.rq_queue, settings.redis_url)
    try:
        ctx.client.salesforce()  # one login (or the shared session) before any job needs it
    except Exception:  # a Salesforce outage must not stop the worker; jobs and flusher retry
        logger.warning("could not log in to Salesforce at startup; will try again", exc_info=True)
    call_hook(ctx.plugins, "startup", process="worker")
    flusher = None if args.no_flusher else ctx.flusher()
    if flusher is not None and not args.burst:
        threading.Thread(target=flusher.run_forever, name="flusher", daemon=True).start()
    reconciler = None if args.burst or args.no_reconciler else ctx.reconciler()
    if reconciler is not None:
        threading.Thread(target=reconciler.run_forever, name="ledger", daemon=True).start()
    omni = ctx.omni_poller() if settings.omni_sync and not args.burst else None
    if omni is not None:
        threading.Thread(target=omni.run_forever, name="omni", daemon=True).start()
    warmer = None if args.burst or args.no_warmer else ctx.warmer()
    if warmer is not None:
        threading.Thread(target=warmer.run_forever, name="warmer", daemon=True).start()
    worker_class: type[rq.worker.BaseWorker] = rqworkers.Worker if args.fork else rqworkers.SimpleWorker
    if args.fork:
        # a work horse that outlived a killed worker would keep the worker's Redis connections open,
        # and Redis would hand the next job to its dead BLMOVE
        os.register_at_fork(after_in_child=die_with_parent(signal.SIGKILL))
        os.register_at_fork(after_in_child=ctx.after_fork)
    connection = redis.from_url(settings.redis_url)
    worker = worker_class([settings.rq_queue], connection=connection)
    liveness = Liveness(connection, worker.queues[0], worker.name)
    try:
        liveness.run_once()  # alive before the first job; a dead worker's jobs queued again
    except redis.RedisError:
        logger.warning("could not reach Redis at startup; the worker retries", exc_info=True)
    scheduler = Scheduler(connection, [settings.rq_queue])
    scheduling = threading.Thread(target=scheduler.run_forever, name="scheduler", daemon=True)
    if not args.burst:
        threading.Thread(target=liveness.run_forever, name="liveness", daemon=True).start()
        scheduling.start()
    try:
        # RQ Retry intervals need a scheduler: in burst mode rq runs one pass in this process; otherwise
        # it would fork one (worker/scheduling.py says why not), so the thread above does the work.
        worker.work(burst=args.burst, with_scheduler=args.burst)
    finally:
        liveness.stopping.set()
        scheduler.stopping.set()
        if scheduling.is_alive():
            scheduling.join(5)  # the lock given up, so another worker schedules at once
        if warmer is not None:
            warmer.stopping.set()
        if omni is not None:
            omni.stopping.set()
        if reconciler is not None:
            reconciler.stopping.set()
        if flusher is not None:
            flusher.stopping.set()
            if args.burst:
                flusher.run_once(force=True)
        call_hook(ctx.plugins, "shutdown", process="worker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
