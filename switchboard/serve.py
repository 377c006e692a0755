"""Serving a WSGI app from a process of the stack: announce the bound address, stop cleanly."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from werkzeug.serving import BaseWSGIServer

logger = logging.getLogger(__name__)


def serve_until_stopped(server: BaseWSGIServer, name: str, host: str) -> None:
    """Print ``<name> listening on http://HOST:PORT`` once bound, serve until SIGTERM or Ctrl-C."""

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %s: stopping", signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"{name} listening on http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
