"""Keeps a stack's processes running: one thread forks every child and restarts one that dies, with backoff.

Why one thread forks them all: each child asks the kernel for SIGTERM when its parent dies
(``PR_SET_PDEATHSIG``), and the "parent" the kernel watches is the *thread* that forked the child,
not the process. A child forked by a short-lived thread would be killed when that thread ends. The
supervisor thread forks every child (the first start, each restart, a test's ``start_child``) and
lives until the stack has stopped them all; when the runner dies, even by kill -9, every child gets
SIGTERM (``switchboard.process.die_with_parent``).
"""

from __future__ import annotations

import logging
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
@dataclass(frozen=True)
class Backoff:
    """Restart delays: ``first`` doubling up to ``cap``; a child that ran ``stable`` seconds starts over."""

    first: float = 0.5
    cap: float = 30.0
    stable: float = 30.0

    def delay(self, streak: int) -> float:
        """The wait before the ``streak``-th restart in a row of a child that keeps dying early."""
        return min(self.cap, self.first * 2 ** max(0, streak - 1))


@dataclass
class Watched:
    """One supervised child: how to launch it and what happened to it so far."""

    name: str
    launch: Callable[[], subprocess.Popen[bytes]]
    process: subprocess.Popen[bytes]
    wanted: bool = True  # False after hold(): stopped on purpose, not restarted
    restarts: int = 0
    streak: int = 0  # restarts in a row without a stable run in between
    started: float = field(default_factory=time.monotonic)
    due: float | None = None  # when the next restart is due, while the child is down


class Supervisor:
    """One long-lived thread that forks a stack's children and restarts those that die unless held."""

    def __init__(self, say: Callable[[str], None], backoff: Backoff | None = None, tick: float = 0.1) -> None:
        self._say = say
        self.backoff = backoff or Backoff()
        self._tick = tick
        self._watched: dict[str, Watched] = {}
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._changed = threading.Condition()
        self._armed = False
        self._ending = threading.Event()
        # Daemon: if the runner's main thread ends without stop(), the process still exits and the
        # kernel signals every child.
        self._thread = threading.Thread(target=self._run, name="switchboard-supervisor", daemon=True)

    # -- the thread ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the thread (children are launched and restarted only on it)."""
        self._thread.start()

    def stop(self) -> None:
        """End the thread; call after the children are stopped (any still running gets SIGTERM)."""
        if self._thread.is_alive():
            self._ending.set()
            self._thread.join(10)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the supervisor thread and return its result (or raise its exception)."""
        if threading.current_thread() is self._thread:
            return fn()
        if not self._thread.is_alive():
            raise RuntimeError("the supervisor thread is not running")
        future: Future[T] = Future()
        self._calls.put((fn, future))
        return future.result()

    def _run(self) -> None:
        while not self._ending.is_set():
            try:
                fn, future = self._calls.get(timeout=self._tick)
            except queue.Empty:
                pass
            else:
                try:
                    future.set_result(fn())
                except BaseException as exc:  # handed to the caller
                    future.set_exception(exc)
            try:
                if self._armed:
                    for watched in list(self._watched.values()):
                        self._check(watched)
            except Exception:  # the thread must outlive any bug here: the children die with it
                logger.exception("supervisor check failed")

    # -- restarting ------------------------------------------------------------------------------------
    def _check(self, w: Watched) -> None:
        code = w.process.poll()
        if code is None or not w.wanted:
            return
        now = time.monotonic()
        if w.due is None:
            w.streak = 1 if now - w.started >= self.backoff.stable else w.streak + 1
            delay = self.backoff.delay(w.streak)
            w.due = now + delay
            self._tell(f"{w.name} exited with {code}; restarting in {delay:.1f} s (restart {w.restarts + 1})")
        elif now >= w.due:
            self._relaunch(w, counted=True)

    def _relaunch(self, w: Watched, *, counted: bool) -> None:
        try:
            w.process = w.launch()
        except Exception as exc:  # e.g. the binary is gone: try again later, as if it had died at once
            w.streak += 1
            delay = self.backoff.delay(w.streak)
            w.due = time.monotonic() + delay
            self._tell(f"{w.name} could not start ({exc}); trying again in {delay:.1f} s")
            return
        w.started, w.due = time.monotonic(), None
        with self._changed:
            if counted:
                w.restarts += 1
            self._changed.notify_all()
        if counted:
            self._tell(f"{w.name} restarted (pid {w.process.pid})")

    def _tell(self, message: str) -> None:
        logger.info("%s", message)
        try:
            self._say(message)
        except Exception:  # a closed terminal must not stop the supervision
            logger.debug("could not show %r", message, exc_info=True)

    # -- the API the stack uses ------------------------------------------------------------------------
    def watch(self, name: str, launch: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        """Launch a child on the supervisor thread; once armed, restart it whenever it dies unexpectedly."""

        def _first() -> subprocess.Popen[bytes]:
            process = launch()
            self._watched[name] = Watched(name, launch, process)
            return process

        return self.call(_first)

    def arm(self, armed: bool = True) -> None:
        """Start (or stop) restarting children that die; before this a death is the starter's to report."""

        def _set() -> None:
            self._armed = armed

        if self._thread.is_alive():
            self.call(_set)

    def hold(self, name: str) -> None:
        """Do not restart ``name`` (about to be stopped on purpose) until ``resume``."""

        def _hold() -> None:
            w = self._watched[name]
            w.wanted, w.due = False, None

        self.call(_hold)

    def resume(self, name: str) -> subprocess.Popen[bytes]:
        """Launch a held child again now and supervise it again (not counted as a restart)."""

        def _resume() -> subprocess.Popen[bytes]:
            w = self._watched[name]
            if w.process.poll() is None:
                raise RuntimeError(f"{name} is running")
            w.wanted, w.streak = True, 0
            self._relaunch(w, counted=False)
            if w.due is not None:
                raise RuntimeError(f"{name} could not start")
            return w.process

        return self.call(_resume)

    def restarts(self, name: str) -> int:
        """How often ``name`` was restarted after dying."""
        return self._watched[name].restarts

    def wait_restarted(self, name: str, since: int, timeout: float) -> bool:
        """Wait until ``name`` has been restarted more than ``since`` times; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._watched[name].restarts > since, timeout)
