"""No drift between what the code writes, the SFDX package and the emulator."""

from __future__ import annotations

from tests.salesforce_package import package_fields
from worker.activity import case_fields, task_fields

CALL = {"call_id": "1.2", "direction": "inbound", "caller_number": "+358401234567", "queue": "cs-en",
        "queue_label": "Customer Service EN", "dialed": "+35891000001", "agent": "agent1",
        "disposition": "answered", "started_at": "2026-11-25T10:00:00+00:00",
        "answered_at": "2026-11-25T10:00:05+00:00", "ended_at": "2026-11-25T10:01:00+00:00",
        "wait_seconds": 5, "duration_seconds": 55, "display_number": "+35891000009"}
MATCH = {"kind": "single", "records": [{"type": "Contact", "Id": "003000000000001AAA",
                                        "AccountId": "001000000000001AAA"}]}


def written(build) -> set[str]:
    fields = set()
    for direction in ("inbound", "outbound"):
        fields |= set(build({**CALL, "direction": direction}, MATCH, details_url="https://x/calls/1.2"))
    return {f for f in fields if f.endswith("__c")} | {"Call_Id__c"}  # the external id goes in the URL


def test_every_custom_task_field_the_code_writes_is_in_the_package():
    missing = written(task_fields) - package_fields()["Task"]
    assert not missing, f"add to salesforce/force-app/main/default/objects/Activity/fields: {sorted(missing)}"


def test_every_custom_case_field_the_code_writes_is_in_the_package():
    missing = written(case_fields) - package_fields()["Case"]
    assert not missing, f"add to salesforce/force-app/main/default/objects/Case/fields: {sorted(missing)}"
