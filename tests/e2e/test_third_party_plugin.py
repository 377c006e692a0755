"""A third party's plugin in the real stack: `examples/switchboard-example-plugin`, installed as its own
distribution (`pip install ./examples/switchboard-example-plugin`, done by `scripts/setup.sh --test`) and
configured in the `plugins` setting, refuses a status the agent chooses in the web phone (the page says
why), hears who a customer calling over the trunk is, and changes the Subject of the Task the call
leaves in Salesforce."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution

import pytest

from sfemu.seed import DEMO_CALLER_NUMBER
from tests.support.paths import ARTIFACTS
from tests.support.phone import login, ringing, wait_state
from tests.support.stack import cli, one_task, own_stack, wait_for

pytestmark = pytest.mark.e2e

PREFIX = "[Example]"
REASON = "Lunch breaks start at 11:00."
CONFIG = {"example_plugin": {"subject_prefix": PREFIX, "refuse": {"Lunch (45 min)": REASON}, "log_callers": True}}


@pytest.fixture(scope="module")
def plugin_stack():
    """A stack of its own whose ``plugins`` setting configures the example plugin."""
    try:
        distribution("switchboard-example-plugin")
    except PackageNotFoundError:
        pytest.fail("the example plugin is not installed: run scripts/setup.sh --test "
                    "(pip install ./examples/switchboard-example-plugin)")
    with own_stack("plugin", plugins=CONFIG) as stack:
        yield stack


@pytest.fixture
def plugin_customers(plugin_stack, tmp_path):
    from tests.support.sipp import SipCustomers

    placed = SipCustomers(plugin_stack, tmp_path / "sipp")
    yield placed
    placed.close()


def test_the_operator_sees_the_plugin_loaded_and_it_started_in_every_process(plugin_stack):
    listed = cli(plugin_stack, "plugins")
    assert listed.returncode == 0, listed.stderr
    assert ("example_plugin  loaded  call_activity, caller_identified, route_call, startup, status_change_requested"
            in listed.stdout.splitlines())
    logs = plugin_stack.workdir / "logs"
    for process in ("orchestrator", "worker"):
        said = f"example plugin ready in the {process}: subject prefix '[Example]', refusing Lunch (45 min)"
        wait_for(lambda said=said: any(said in f.read_text() for f in logs.glob("*.log")), 10,
                 f"the {process} did not start the example plugin")


def test_given_the_plugin_refuses_a_status_then_the_page_says_why_and_the_status_stays(browser, plugin_stack):
    page = login(browser, plugin_stack, "agent2")
    page.wait_for_function("document.querySelector('#presence-summary').textContent.startsWith('Available')",
                           timeout=10000)
    page.select_option("#presence-select", label="Lunch (45 min)")
    page.wait_for_function(f"document.querySelector('#presence-error').textContent === {REASON!r}", timeout=5000)
    assert page.is_visible("#presence-error")
    page.screenshot(path=str(ARTIFACTS / "e2e-plugin-status-refused.png"), full_page=True)
    assert page.text_content("#presence-summary").startswith("Available")
    assert page.eval_on_selector("#presence-select", "s => s.options[s.selectedIndex].text") == "Available"

    page.select_option("#presence-select", label="DND")  # a status the plugin lets through
    page.wait_for_function("document.querySelector('#presence-summary').textContent.startsWith('DND')",
                           timeout=5000)
    assert page.is_hidden("#presence-error")
    page.select_option("#presence-select", label="Available")
    page.wait_for_function("document.querySelector('#presence-summary').textContent.startsWith('Available')",
                           timeout=5000)
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_the_plugin_hears_who_calls_and_changes_the_subject_of_the_task_the_call_leaves(browser, plugin_stack,
                                                                                        plugin_customers):
    page = login(browser, plugin_stack, "agent1")
    call_id = ringing(page, plugin_customers, DEMO_CALLER_NUMBER, "Plugin Caller")
    said = f"example plugin: call {call_id} from {DEMO_CALLER_NUMBER} is single ['Maija Virtanen']"
    wait_for(lambda: any(said in f.read_text() for f in (plugin_stack.workdir / "logs").glob("worker*.log")), 10,
             f"no worker logged {said!r}")
    page.click("#answer")
    wait_state(page, "In call")
    page.click("#hangup")
    wait_state(page, "Call ended")
    task = one_task(plugin_stack, call_id)
    assert task["Subject"] == f"{PREFIX} Inbound call from {DEMO_CALLER_NUMBER} (Customer Service EN)", task["Subject"]
    assert task["CallDisposition"] == "answered"
