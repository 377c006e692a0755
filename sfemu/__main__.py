"""Run the emulator: ``python -m sfemu --host 127.0.0.1 --port 8911 [--seed demo|large|empty] [options]``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from werkzeug.serving import make_server

from sfemu.app import create_app
from sfemu.auth import DEFAULT_SESSION_TIMEOUT, Credentials
from sfemu.seed import SEEDS
from sfemu.state import DEFAULT_API_LIMIT
from switchboard.serve import serve_until_stopped

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m sfemu", description="Salesforce REST emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8911, help="0 picks a free port (printed on start)")
    parser.add_argument("--seed", choices=SEEDS, default="demo")
    parser.add_argument("--api-limit", type=int, default=DEFAULT_API_LIMIT, help="DailyApiRequests Max")
    parser.add_argument("--flows", metavar="SOURCE", action="append",
                        help="invocable flows: a YAML/JSON rules file, a .flow-meta.xml file or a folder of them; "
                             "'demo' = sfemu/flows/demo.yaml, 'package' = the Salesforce package's flows "
                             "(repeatable)")
    parser.add_argument("--jwt-public-key", metavar="PEM_FILE", type=Path,
                        help="connected app certificate or RSA public key (PEM) for the JWT bearer flow")
    parser.add_argument("--jwt-consumer-key", metavar="KEY",
                        help="consumer key a JWT assertion's iss must name (default: the demo client id)")
    faults = parser.add_argument_group("faults (also switchable at run time: POST /__emulator/faults)")
    faults.add_argument("--latency", type=float, default=0.0, help="seconds added to every API request")
    faults.add_argument("--unavailable-for", type=float, default=0.0, metavar="SECONDS",
                        help="API requests answer 503 SERVER_UNAVAILABLE for this long after start")
    faults.add_argument("--limit-exceeded-for", type=float, default=0.0, metavar="SECONDS",
                        help="API requests answer 403 REQUEST_LIMIT_EXCEEDED for this long after start")
    faults.add_argument("--invalid-session-for", type=float, default=0.0, metavar="SECONDS",
                        help="API requests answer 401 INVALID_SESSION_ID for this long after start, even with "
                             "fresh tokens")
    faults.add_argument("--faults-include-logins", action="store_true",
                        help="latency and the outage also hit SOAP login and the OAuth token endpoint")
    parser.add_argument("--session-timeout", type=float, default=DEFAULT_SESSION_TIMEOUT, metavar="SECONDS",
                        help="a session ends after this long without a request (Salesforce's default: 2 h)")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    credentials = Credentials(
        jwt_public_key=args.jwt_public_key.read_text(encoding="utf-8") if args.jwt_public_key else None,
        jwt_consumer_key=args.jwt_consumer_key)
    app = create_app(args.seed, latency=args.latency, api_limit=args.api_limit, credentials=credentials,
                     flows=args.flows, unavailable_for=args.unavailable_for,
                     limit_exceeded_for=args.limit_exceeded_for, invalid_session_for=args.invalid_session_for,
                     faults_include_logins=args.faults_include_logins, session_timeout=args.session_timeout)
    server = make_server(args.host, args.port, app, threaded=True)
    serve_until_stopped(server, "sfemu", args.host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
