"""``python -m web``: serve the web app on settings.web_host:web_port."""

from __future__ import annotations

import logging
import sys

from werkzeug.serving import make_server

from switchboard.config import ConfigError, load_settings
from switchboard.serve import serve_until_stopped
from web import create_app
from web.phone import BUILD_HINT, missing_vendor_files

logger = logging.getLogger(__name__)


def main() -> int:
    """Run the web process until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        app = create_app(settings)
    except ConfigError as exc:
        print(f"web: configuration error: {exc}", file=sys.stderr)
        return 2
    missing = missing_vendor_files(app.static_folder or "")
    if missing:
        logger.warning("web phone bundles missing (%s): %s", ", ".join(missing), BUILD_HINT)
    # The Werkzeug server in threaded mode, as SocketIO.run(allow_unsafe_werkzeug=True) would start it;
    # made here so that "listening" is printed only once the socket is bound (port 0 picks a free port).
    server = make_server(settings.web_host, settings.web_port, app, threaded=True)
    serve_until_stopped(server, "web", settings.web_host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
