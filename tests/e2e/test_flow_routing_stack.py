"""Smart routing built in Flow Builder, in the whole stack: the orchestrator loads `salesforce_flow` through its
entry point, configured with the package's template `Switchboard_Language_VIP_Routing` for Customer Service
EN (the language menu's queue), and the Salesforce emulator runs the template's own `.flow-meta.xml`. A
Finnish-speaking demo contact calling over the trunk skips the language menu into the Finnish pool, at the
front-ish of it (her account's Gold SLA: priority 80), and `switchboard route explain` names the flow."""

from __future__ import annotations

import time

import pytest

from sfemu.seed import DEMO_CALLER_NUMBER
from tests.support.ami import AmiWatch
from tests.support.stack import cli, own_stack

pytestmark = pytest.mark.e2e

LANGUAGE_MENU = "+35891000004"
FLOW = "Switchboard_Language_VIP_Routing"
CONFIG = {"salesforce_flow": {"flows": {"cs-en": FLOW}}, "salesforce_rules": {"enabled": False}}


@pytest.fixture(scope="module")
def flow_stack():
    with own_stack("flowroute", plugins=CONFIG) as stack:
        yield stack


def test_given_the_language_flow_then_a_finnish_contact_skips_the_menu_into_the_finnish_pool(flow_stack, tmp_path):
    from tests.support.sipp import SipCustomers

    customers = SipCustomers(flow_stack, tmp_path / "sipp")
    try:
        with AmiWatch(flow_stack) as watch:
            t0 = time.monotonic()
            call = customers.call(LANGUAGE_MENU, DEMO_CALLER_NUMBER, "Maija Virtanen")  # presses no key
            joined = watch.wait_for(lambda e: e.get("Event") == "QueueCallerJoin"
                                    and e.get("CallerIDNum") == DEMO_CALLER_NUMBER, 15)
            waited = time.monotonic() - t0
            call.stop()
    finally:
        customers.close()
    assert joined["Queue"] == "cs-fi"
    assert waited < 3, f"{waited:.1f} s: the caller heard the menu"
    recent = cli(flow_stack, "route", "recent").stdout
    call_id = next(line.split()[2] for line in recent.splitlines() if DEMO_CALLER_NUMBER in line)
    text = cli(flow_stack, "route", "explain", call_id).stdout
    assert "outcome: decided by plugin salesforce_flow" in text, text
    assert f"rules matched: {FLOW}" in text and "priority: 80" in text and "skip IVR: True" in text, text
    print(text)
