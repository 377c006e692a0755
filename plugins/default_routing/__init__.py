"""Default routing: wiring only; the logic is in ``plugins.default_routing.rules``."""

from plugins.default_routing import rules
from switchboard.hookspecs import hookimpl


@hookimpl(trylast=True)
def route_call(call: dict) -> str | None:
    """Keep the queue the dialplan chose for the dialled number."""
    return rules.default_queue(call)
