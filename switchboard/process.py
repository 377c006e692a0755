"""Process lifetime: a child that dies with the thread that started it (used by the control layer's
supervisor and Asterisk runner, and by the worker for its forked work horses).

Each child asks the kernel for a signal when its parent dies (``PR_SET_PDEATHSIG``); the "parent" the
kernel watches is the *thread* that forked the child, not the process.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
from collections.abc import Callable

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)  # loaded here: a preexec_fn must not import or load anything


def die_with_parent(sig: int = signal.SIGTERM, nice: int = 0) -> Callable[[], None]:
    """A ``preexec_fn`` that has the kernel send ``sig`` to the child when the thread that forked it ends,
    and gives the child the scheduling priority ``nice`` when it may (root).

    subprocess runs it in the child after ``setsid()`` (``start_new_session=True``) and before exec;
    the setting survives the exec of a binary that is not set-user-ID (``chroot``, ``asterisk``).
    """
    parent = os.getpid()

    def _preexec() -> None:
        if _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != parent:  # the runner died between fork and prctl: nobody would signal us
            os._exit(125)
        if nice:
            try:
                os.nice(nice)
            except OSError:  # not root: the default priority
                pass

    return _preexec
