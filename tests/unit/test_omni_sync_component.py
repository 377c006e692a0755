"""The Omni-Channel presence sync utility component (salesforce/): its Node tests pass and its files are complete.

The decision logic is JavaScript (static resource ``SwitchboardOmniSyncLogic``), tested with Node's built-in test
runner in ``salesforce/tests/``; this module runs those tests. Node is required: CI has it (the web build uses npm),
so a missing ``node`` fails here instead of silently skipping.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.salesforce_package import PACKAGE_ROOT, REPO_ROOT, SOURCE_ROOT, parse, q, text

BUNDLE = SOURCE_ROOT / "aura" / "SwitchboardOmniSync"
BUNDLE_FILES = (
    "SwitchboardOmniSync.cmp",
    "SwitchboardOmniSync.cmp-meta.xml",
    "SwitchboardOmniSyncController.js",
    "SwitchboardOmniSyncHelper.js",
)
CHANNEL = SOURCE_ROOT / "messageChannels" / "SwitchboardPresence.messageChannel-meta.xml"
RESOURCE = SOURCE_ROOT / "staticresources" / "SwitchboardOmniSyncLogic.js"
RESOURCE_META = SOURCE_ROOT / "staticresources" / "SwitchboardOmniSyncLogic.resource-meta.xml"
NODE_TESTS = PACKAGE_ROOT / "tests"
README = PACKAGE_ROOT / "README-omni-sync.md"


def test_node_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the Omni sync logic tests (salesforce/tests/*.test.js) need Node.js 18+")
    assert sorted(p.name for p in NODE_TESTS.glob("*.test.js")), "no Node tests found"
    proc = subprocess.run(
        [node, "--test", str(NODE_TESTS.relative_to(REPO_ROOT)) + "/"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"node --test salesforce/tests/ failed:\n{output[-6000:]}"
    passed = re.search(r"^# pass (\d+)$", output, re.MULTILINE)
    assert passed and int(passed.group(1)) > 0 and "# fail 0" in output, output[-2000:]


def test_every_file_exists() -> None:
    missing = [p for p in (*(BUNDLE / f for f in BUNDLE_FILES), CHANNEL, RESOURCE, RESOURCE_META, README)
               if not p.is_file()]
    assert not missing, f"missing: {[str(p.relative_to(REPO_ROOT)) for p in missing]}"
    names = {p.name for p in BUNDLE.iterdir()}
    assert all(name.startswith("SwitchboardOmniSync") for name in names), "bundle files start with the bundle name"


def test_message_channel() -> None:
    root = parse(CHANNEL)
    assert root.tag == q("LightningMessageChannel")
    assert text(root, "masterLabel")
    assert text(root, "isExposed") == "true"
    assert text(root, "description")
    fields = [text(f, "fieldName") for f in root.findall(q("lightningMessageFields"))]
    assert fields == ["type", "payload"]
    assert all(text(f, "description") for f in root.findall(q("lightningMessageFields")))


def test_aura_bundle_meta() -> None:
    root = parse(BUNDLE / "SwitchboardOmniSync.cmp-meta.xml")
    assert root.tag == q("AuraDefinitionBundle")
    project = json.loads((PACKAGE_ROOT / "sfdx-project.json").read_text())
    assert text(root, "apiVersion") == project["sourceApiVersion"]
    assert text(root, "description")


def test_static_resource_meta() -> None:
    root = parse(RESOURCE_META)
    assert root.tag == q("StaticResource")
    assert text(root, "contentType") == "application/javascript"
    assert text(root, "cacheControl") == "Public"


def test_component_markup_wires_the_channel_toolkit_and_events() -> None:
    markup = (BUNDLE / "SwitchboardOmniSync.cmp").read_text()
    for needle in (
        'implements="lightning:utilityItem,flexipage:availableForAllPageTypes"',
        '<lightning:omniToolkitAPI aura:id="omniToolkit"/>',
        'type="SwitchboardPresence__c"',
        'onMessage="{!c.onMessage}"',
        'scope="APPLICATION"',
        "$Resource.SwitchboardOmniSyncLogic",
        'event="lightning:omniChannelStatusChanged"',
        'event="lightning:omniChannelLogout"',
        'event="lightning:omniChannelLoginSuccess"',
        'event="lightning:omniChannelWorkloadChanged"',
    ):
        assert needle in markup, needle
