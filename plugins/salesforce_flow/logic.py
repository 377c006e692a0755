"""Smart routing by a Salesforce Flow: which flow a call's queue runs, the flow's inputs, and its outputs as a
``switchboard.routing.Decision``. Pure: the Salesforce calls are the caller's (``plugins.salesforce_flow``).

Config (the plugin's section of the ``plugins`` setting)::

    flow: Switchboard_Language_VIP_Routing    # every queue's flow (optional)
    flows:                                    # per dialled queue; wins over ``flow``; null/"" turns it off
      cs-en: Switchboard_Language_VIP_Routing
      sales: Switchboard_Case_Owner_Routing
    identify: true                            # pass ContactId/AccountId of the caller found by phone
    outputs: {priority: Caller_Priority}      # output variable names, by decision field (defaults below)
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from switchboard.flows import INTERVIEW_KEYS, check_api_name
from switchboard.routing import DEFAULT_AGENT_SECONDS, MAX_AGENT_SECONDS, MAX_PRIORITY, Decision, InvalidDecision

# Decision field -> the flow's output variable, unless ``outputs`` renames it.
DEFAULT_OUTPUTS: dict[str, str] = {
    "queue": "Queue", "priority": "Priority", "skip_ivr": "SkipIvr", "agent_user_id": "AgentUserId",
    "agent_seconds": "AgentSeconds", "fallback_queue": "FallbackQueue", "announcement": "Announcement",
    "reason": "Reason",
}
CONFIG_KEYS = frozenset({"flow", "flows", "identify", "outputs"})
USER_ID = re.compile(r"^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")
VARIABLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


class FlowConfigError(ValueError):
    """The plugin's section of the ``plugins`` setting is wrong."""


def check_config(config: Mapping[str, Any]) -> None:
    """Refuse a config the plugin cannot run with (unknown keys, bad flow or output names)."""
    unknown = set(config) - CONFIG_KEYS
    if unknown:
        raise FlowConfigError(f"salesforce_flow: unknown setting(s) {', '.join(sorted(map(str, unknown)))}; "
                              f"known: {', '.join(sorted(CONFIG_KEYS))}")
    flows = config.get("flows") or {}
    if not isinstance(flows, Mapping):
        raise FlowConfigError("salesforce_flow: 'flows' must map queue names to flow API names")
    for name in [config.get("flow"), *flows.values()]:
        if name:
            try:
                check_api_name(name)
            except ValueError as exc:
                raise FlowConfigError(f"salesforce_flow: {exc}") from None
    output_names(config)


def output_names(config: Mapping[str, Any]) -> dict[str, str]:
    """Decision field -> flow output variable name: the defaults with ``outputs`` applied."""
    renamed = config.get("outputs") or {}
    if not isinstance(renamed, Mapping):
        raise FlowConfigError("salesforce_flow: 'outputs' must map decision fields to flow output names")
    unknown = set(renamed) - set(DEFAULT_OUTPUTS)
    if unknown:
        raise FlowConfigError(f"salesforce_flow: unknown output field(s) {', '.join(sorted(map(str, unknown)))}; "
                              f"known: {', '.join(DEFAULT_OUTPUTS)}")
    bad = [v for v in renamed.values() if not (isinstance(v, str) and VARIABLE.match(v))]
    if bad:
        raise FlowConfigError(f"salesforce_flow: {bad[0]!r} is not a flow variable name")
    return {**DEFAULT_OUTPUTS, **renamed}


def flow_for(call: Mapping[str, Any], config: Mapping[str, Any]) -> str | None:
    """The flow the call's dialled queue runs: ``flows[queue]``, else ``flow``; None when smart routing is off."""
    flows = config.get("flows") or {}
    queue = call.get("queue") or ""
    name = flows[queue] if isinstance(flows, Mapping) and queue in flows else config.get("flow")
    return check_api_name(name) if name else None


def flow_inputs(call: Mapping[str, Any], caller: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The flow's inputs: CallerNumber, CallerName, DialledNumber, Queue, CallId and, when ``caller`` (a
    ``SalesforceData.caller`` answer) identified one, ContactId and AccountId. Empty values are left out."""
    values = {"CallerNumber": call.get("caller_number"), "CallerName": call.get("caller_name"),
              "DialledNumber": call.get("dialled") or call.get("dialed"), "Queue": call.get("queue"),
              "CallId": call.get("call_id")}
    if caller:
        contact = caller.get("contact") or {}
        account = caller.get("account") or {}
        values["ContactId"] = contact.get("Id")
        values["AccountId"] = account.get("Id") or contact.get("AccountId")
    return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _text(flow: str, output: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidDecision(f"flow {flow}: output {output} must be text, got {value!r}")
    return value.strip() or None


def _whole(flow: str, output: str, value: Any, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or not number.is_integer() or not low <= number <= high:
        raise InvalidDecision(f"flow {flow}: output {output} must be a whole number {low}..{high}, got {value!r}")
    return int(number)


def _flag(flow: str, output: str, value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidDecision(f"flow {flow}: output {output} must be true or false, got {value!r}")


def agent_user_id(flow: str, outputs: Mapping[str, Any], config: Mapping[str, Any]) -> str | None:
    """The Salesforce user id the flow named as the preferred agent (checked: a 15/18-character 005… id)."""
    name = output_names(config)["agent_user_id"]
    user = _text(flow, name, outputs.get(name))
    if user is not None and not USER_ID.match(user):
        raise InvalidDecision(f"flow {flow}: output {name} must be a user id (005…), got {user!r}")
    return user


def decision_from_outputs(flow: str, outputs: Mapping[str, Any], config: Mapping[str, Any],
                          agent: str | None = None) -> Decision:
    """The flow's outputs as a Decision (``agent``: the agent linked to the AgentUserId output, if any);
    InvalidDecision naming the output when one cannot be carried out."""
    names = output_names(config)
    if not isinstance(outputs, Mapping):
        raise InvalidDecision(f"flow {flow}: outputs must be a mapping, got {type(outputs).__name__}")
    user = agent_user_id(flow, outputs, config)
    seconds = _whole(flow, names["agent_seconds"], outputs.get(names["agent_seconds"]), 1, MAX_AGENT_SECONDS)
    reason = _text(flow, names["reason"], outputs.get(names["reason"])) or f"Flow {flow}"
    if user and not agent:
        reason += f" (user {user} is not linked to an agent)"
    facts = {k: v for k, v in outputs.items() if k not in INTERVIEW_KEYS}
    return Decision(
        queue=_text(flow, names["queue"], outputs.get(names["queue"])),
        priority=_whole(flow, names["priority"], outputs.get(names["priority"]), 0, MAX_PRIORITY),
        skip_ivr=_flag(flow, names["skip_ivr"], outputs.get(names["skip_ivr"])),
        agent=agent,
        agent_seconds=seconds or DEFAULT_AGENT_SECONDS,
        fallback_queue=_text(flow, names["fallback_queue"], outputs.get(names["fallback_queue"])),
        announcement=_text(flow, names["announcement"], outputs.get(names["announcement"])),
        reason=reason,
        rules=(flow,),
        data={"flow": flow, "outputs": facts},
    )


def agent_away(decision: Decision, agent: str) -> Decision:
    """The decision without its preferred agent, who cannot answer now (not Available, in a call, in
    wrap-up): the caller goes straight to the flow's fallback queue (else its queue) instead of ringing them."""
    return dataclasses.replace(decision, agent=None, queue=decision.fallback_queue or decision.queue,
                               reason=f"{decision.reason} (agent {agent} is not available)")


def changes_nothing(decision: Decision, call: Mapping[str, Any]) -> bool:
    """True when the decision leaves the call exactly where the dialplan sends it (its queue at most)."""
    return decision.keeps_path(str(call.get("queue") or ""))
