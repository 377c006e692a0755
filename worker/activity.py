"""A finished call as the fields of its Salesforce Task (pure mapping, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from switchboard.numbers import display_number

# Salesforce field lengths: values are cut to fit so one odd caller id cannot fail the job forever.
FIELD_LENGTHS = {
    "Subject": 255, "CallObject": 255, "CallDisposition": 255, "Phone_Number_2__c": 40,
    "Service_Pool_Queue__c": 255, "Phone_From__c": 40, "Phone_To__c": 40, "Call_Result__c": 40,
    "Description": 32000,
}


def parse_time(value: str) -> datetime:
    """An ISO 8601 timestamp (naive means UTC)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def sf_datetime(value: str) -> str:
    """An ISO 8601 timestamp as a Salesforce UTC datetime, ``2024-06-03T08:00:07Z``."""
    return parse_time(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hms(seconds: int) -> str:
    """Seconds as ``HH:MM:SS``."""
    seconds = max(int(seconds), 0)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def call_subject(call: Mapping[str, Any]) -> str:
    """``Inbound call from +358401234567 (Customer Service EN)`` / ``Outbound call to ...``."""
    number = display_number(call.get("caller_number"))
    label = call.get("queue_label") or call.get("queue")
    text = f"Inbound call from {number}" if call.get("direction") == "inbound" else f"Outbound call to {number}"
    return f"{text} ({label})" if label else text


def related_ids(match: Mapping[str, Any] | None) -> dict[str, str]:
    """WhoId (contact or lead) and WhatId (the contact's account, or a matched account) of a single match."""
    if not match or match.get("kind") != "single":
        return {}
    record = match["records"][0]
    kind = record.get("type")
    if kind in ("Contact", "Lead"):
        out = {"WhoId": record["Id"]}
        if kind == "Contact" and record.get("AccountId"):
            out["WhatId"] = record["AccountId"]
        return out
    if kind == "Account":
        return {"WhatId": record["Id"]}
    return {}


def workflow_ids(call: Mapping[str, Any], match: Mapping[str, Any] | None) -> dict[str, str]:
    """WhoId/WhatId: what the agent chose in the phone workflow (``who_id``, ``case_id`` or ``what_id``
    in the call) wins over the automatic single match."""
    out = related_ids(match)
    if call.get("who_id"):
        out["WhoId"] = call["who_id"]
    if call.get("case_id") or call.get("what_id"):
        out["WhatId"] = call.get("case_id") or call["what_id"]
    return out


def fit_lengths(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with each text cut to its Salesforce field's length (in place)."""
    for name, length in FIELD_LENGTHS.items():
        if isinstance(fields.get(name), str):
            fields[name] = fields[name][:length]
    return fields


def call_details(call: Mapping[str, Any], details_url: str = "") -> dict[str, Any]:
    """The seed's call details (section 3.1) common to Task and Case, with the call result (answered or not)."""
    inbound = call.get("direction") == "inbound"
    number = call.get("caller_number") or ""
    wait = int(call.get("wait_seconds") or 0)
    out: dict[str, Any] = {
        "Phone_Number_2__c": number,
        "Service_Pool_Queue__c": call.get("queue_label") or call.get("queue") or "",
        "Queue_Wait_Time__c": hms(wait),
        "Queue_Wait_Time_Sec__c": wait,
        "Call_End_Time__c": sf_datetime(call["ended_at"]),
        "Call_Date__c": sf_datetime(call["started_at"]),
        "Call_Result__c": call.get("disposition") or "",
    }
    # Seed 3.1: "Phone From" is our number shown to the customer on an outbound call, "Phone To" our
    # number the customer reached (the service pool's number on an inbound queue call).
    if inbound and call.get("dialed"):
        out["Phone_To__c"] = call["dialed"]
    if not inbound and call.get("display_number"):
        out["Phone_From__c"] = call["display_number"]
    if details_url:
        out["Advanced_Call_Details__c"] = details_url
    return out


def case_fields(call: Mapping[str, Any], match: Mapping[str, Any] | None = None, *,
                details_url: str = "") -> dict[str, Any]:
    """The Case fields when the admin saves call info on the Case instead of a Task."""
    ids = related_ids(match)
    fields: dict[str, Any] = {
        "Subject": call_subject(call),
        "Origin": "Phone",
        "SuppliedPhone": call.get("caller_number") or "",
        "Call_Type__c": "Inbound" if call.get("direction") == "inbound" else "Outbound",
        "Call_Duration_Sec__c": int(call.get("duration_seconds") or 0),
        **call_details(call, details_url),
    }
    if ids.get("WhoId", "").startswith("003"):
        fields["ContactId"] = ids["WhoId"]
    if ids.get("WhatId", "").startswith("001"):
        fields["AccountId"] = ids["WhatId"]
    return fit_lengths(fields)


def task_fields(call: Mapping[str, Any], match: Mapping[str, Any] | None = None, *,
                details_url: str = "") -> dict[str, Any]:
    """The Task fields logging ``call`` (without the external id, which goes in the upsert URL)."""
    inbound = call.get("direction") == "inbound"
    wait = int(call.get("wait_seconds") or 0)
    duration = int(call.get("duration_seconds") or 0)
    label = call.get("queue_label") or call.get("queue") or ""
    fields: dict[str, Any] = {
        "Subject": call_subject(call),
        "Status": "Completed",
        "TaskSubtype": "Call",
        "CallType": "Inbound" if inbound else "Outbound",
        "CallDurationInSeconds": duration,
        "CallObject": call["call_id"],
        "CallDisposition": call.get("wrapup_code") or call.get("disposition") or "",
        "ActivityDate": parse_time(call["started_at"]).date().isoformat(),
        **call_details(call, details_url),
        "Description": "\n".join([
            f"Queue: {label or '-'}", f"Agent: {call.get('agent') or '-'}",
            f"Result: {call.get('disposition') or '-'}", f"Waited {wait} s, talked {duration} s",
        ]),
    }
    fields.update(workflow_ids(call, match))
    return fit_lengths(fields)
