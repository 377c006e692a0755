"""Run an autolaunched Salesforce Flow through the REST invocable-action endpoint and read its outputs.

``POST /services/data/vXX.X/actions/custom/flow/{api_name}`` with ``{"inputs": [{...}]}`` runs one interview
of the flow's active version and answers ``[{"actionName", "errors", "isSuccess", "outputValues"}]``;
``outputValues`` holds the flow's output variables and ``Flow__InterviewStatus``. Salesforce answers 400
when an interview failed (the same list, ``isSuccess`` false, with its errors) and 404 for a flow with no
active version. Both become :class:`FlowError`; session, limit and server errors are left to the caller's
retry policy (``switchboard.sfclient``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from simple_salesforce import Salesforce, SalesforceMalformedRequest, SalesforceResourceNotFound

logger = logging.getLogger(__name__)

# A flow's API name: a letter, then letters, digits and underscores (a managed package's ``ns__Name`` too).
API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
INTERVIEW_KEYS = ("Flow__InterviewGuid", "Flow__InterviewStatus")


class FlowError(RuntimeError):
    """A flow interview that failed, or a flow Salesforce cannot run: ``flow`` and Salesforce's ``errors``
    (``[{"statusCode", "message", "fields"}]``)."""

    def __init__(self, flow: str, errors: list[dict[str, Any]]) -> None:
        self.flow = flow
        self.errors = errors
        messages = "; ".join(f"{e.get('statusCode') or 'ERROR'}: {e.get('message') or ''}".rstrip(": ")
                             for e in errors) or "no error message"
        super().__init__(f"flow {flow} failed: {messages}")


def check_api_name(api_name: str) -> str:
    """``api_name`` if it is a flow API name (letters, digits, underscores); else ValueError."""
    if not isinstance(api_name, str) or not API_NAME.match(api_name):
        raise ValueError(f"{api_name!r} is not a flow API name (a letter, then letters, digits and underscores)")
    return api_name


def _errors(content: Any) -> list[dict[str, Any]]:
    """Salesforce's error entries from an actions answer: interview results or REST API errors."""
    items = content if isinstance(content, list) else [content]
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, Mapping):
            out.append({"statusCode": "UNKNOWN", "message": str(item), "fields": []})
        elif "isSuccess" in item:
            for err in item.get("errors") or []:
                err = err if isinstance(err, Mapping) else {"message": str(err)}
                out.append({"statusCode": err.get("statusCode") or err.get("errorCode") or "UNKNOWN",
                            "message": str(err.get("message") or ""), "fields": list(err.get("fields") or [])})
        else:
            out.append({"statusCode": item.get("errorCode") or item.get("statusCode") or "UNKNOWN",
                        "message": str(item.get("message") or ""), "fields": list(item.get("fields") or [])})
    return out


def invoke_flow(sf: Salesforce, api_name: str, inputs: Mapping[str, Any], *,
                timeout: float | None = None) -> dict[str, Any]:
    """Run one interview of the active autolaunched flow ``api_name`` with ``inputs``; its ``outputValues``.
    Raises FlowError when the interview fails or the flow cannot be run, ValueError for a bad API name."""
    check_api_name(api_name)
    if not isinstance(inputs, Mapping) or not all(isinstance(k, str) for k in inputs):
        raise ValueError("flow inputs must be a mapping of variable names to values")
    extra = {"timeout": timeout} if timeout is not None else {}
    try:
        answer = sf.restful(f"actions/custom/flow/{api_name}", method="POST", json={"inputs": [dict(inputs)]},
                            **extra)
    except SalesforceMalformedRequest as exc:
        raise FlowError(api_name, _errors(exc.content)) from None
    except SalesforceResourceNotFound as exc:
        errors = _errors(exc.content)
        for err in errors:
            err["message"] = f"no active autolaunched flow {api_name} ({err['message']})"
        raise FlowError(api_name, errors) from None
    if not isinstance(answer, list) or len(answer) != 1 or not isinstance(answer[0], Mapping):
        raise FlowError(api_name, [{"statusCode": "UNEXPECTED_RESPONSE",
                                    "message": f"expected one interview result, got {str(answer)[:200]}",
                                    "fields": []}])
    result = answer[0]
    if not result.get("isSuccess"):
        raise FlowError(api_name, _errors(result))
    outputs = result.get("outputValues") or {}
    if not isinstance(outputs, Mapping):
        raise FlowError(api_name, [{"statusCode": "UNEXPECTED_RESPONSE",
                                    "message": f"outputValues is {type(outputs).__name__}", "fields": []}])
    logger.debug("flow %s finished: %s", api_name, outputs)
    return dict(outputs)
