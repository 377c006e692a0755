"""Run the emulator: ``python -m sfemu --host 127.0.0.1 --port 8911 [--seed demo|empty]``."""

from __future__ import annotations

import argparse
import logging
import sys

from werkzeug.serving import make_server

from sfemu.app import create_app
from sfemu.seed import SEEDS
from sfemu.state import DEFAULT_API_LIMIT

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m sfemu", description="Salesforce REST emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8911, help="0 picks a free port (printed on start)")
    parser.add_argument("--seed", choices=SEEDS, default="demo")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every data request")
    parser.add_argument("--api-limit", type=int, default=DEFAULT_API_LIMIT, help="DailyApiRequests Max")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(args.seed, latency=args.latency, api_limit=args.api_limit)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"sfemu listening on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
