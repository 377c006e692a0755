"""Smart routing by a Salesforce Flow (seed section 5): wiring only; the logic is in
``plugins.salesforce_flow.logic``."""

from __future__ import annotations

import logging
import time
from typing import Any

from plugins.salesforce_flow import logic
from switchboard.hookspecs import Presence, SalesforceData, hookimpl
from switchboard.routing import Decision, agent_available

logger = logging.getLogger(__name__)


@hookimpl
def startup(process: str, config: dict[str, Any]) -> None:
    """Say what is wrong with the plugin's settings as the process starts."""
    try:
        logic.check_config(config)
    except logic.FlowConfigError as exc:
        logger.error("%s (in the %s)", exc, process)


@hookimpl
def route_call(call: dict[str, Any], salesforce: SalesforceData, presence: Presence,
               config: dict[str, Any]) -> Decision | None:
    """Run the dialled queue's flow and route the call as its outputs say (None: no flow, or no change)."""
    flow = logic.flow_for(call, config)
    if flow is None:
        return None
    logic.check_config(config)
    caller = None
    if config.get("identify", True) and call.get("caller_number"):
        caller = salesforce.caller(call["caller_number"])
    outputs = salesforce.invoke_flow(flow, logic.flow_inputs(call, caller))
    user = logic.agent_user_id(flow, outputs, config)
    agent = salesforce.agent_for_user(user) if user else None
    if user and agent is None:
        logger.info("flow %s named user %s for call %s, who is not linked to an agent", flow, user,
                    call.get("call_id"))
    decision = logic.decision_from_outputs(flow, outputs, config, agent)
    if agent is not None and presence is not None and not agent_available(presence.status(agent), time.time()):
        decision = logic.agent_away(decision, agent)
    if logic.changes_nothing(decision, call):
        logger.debug("flow %s leaves call %s where it is: %s", flow, call.get("call_id"), decision.reason)
        return None
    return decision
