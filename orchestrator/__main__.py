"""``python -m orchestrator``: run the orchestrator with settings from the environment."""

import asyncio
import logging

from orchestrator.service import Orchestrator
from switchboard.config import load_settings


def main() -> None:
    """Run the orchestrator until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s orchestrator %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    try:
        asyncio.run(Orchestrator(settings).run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
