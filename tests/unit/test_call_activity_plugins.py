"""``call_activity``: what plugins add to or change in a call's Task before the worker writes it."""

from __future__ import annotations

import logging

from switchboard.hookspecs import hookimpl
from switchboard.plugins import plugin_manager
from worker.tasks import with_plugin_fields

CALL = {"call_id": "1800000000.9", "queue": "cs-vip", "caller_number": "+358401234567"}
FIELDS = {"Subject": "Inbound call from +358 40 1234567 (VIP)", "CallDisposition": "answered"}


class Vip:
    @hookimpl
    def call_activity(self, summary, sobject, fields, config):
        if sobject == "Task" and summary["queue"] == "cs-vip":
            return {"Priority": "High", "Subject": config.get("prefix", "VIP:") + " " + fields["Subject"]}
        return None


class Later:
    @hookimpl
    def call_activity(self, fields):
        fields["Subject"] = "mutated"  # a copy: this changes nothing
        return {"Priority": "Normal", "Custom_Field__c": 3}


def manager(*plugins: object, sections: dict | None = None):
    pm = plugin_manager(sections, load_entrypoints=False)
    for plugin in plugins:
        pm.register(plugin, name=type(plugin).__name__.lower())
    return pm


def test_given_no_plugin_then_the_fields_are_written_as_built():
    assert with_plugin_fields(manager(), CALL, "Task", FIELDS) == FIELDS


def test_a_plugin_changes_and_adds_fields_with_its_own_config_and_the_later_one_wins():
    pm = manager(Vip(), Later(), sections={"vip": {"enabled": True, "prefix": "[VIP]"}})
    out = with_plugin_fields(pm, CALL, "Task", FIELDS)
    assert out == {"Subject": "[VIP] " + FIELDS["Subject"], "CallDisposition": "answered", "Priority": "Normal",
                   "Custom_Field__c": 3}
    assert FIELDS["Subject"].startswith("Inbound")  # the caller's dict is untouched
    assert with_plugin_fields(pm, CALL, "Case", FIELDS)["Subject"] == FIELDS["Subject"]


def test_bad_names_values_and_answers_are_refused_and_logged_and_the_record_still_goes(caplog):
    class Hostile:
        @hookimpl
        def call_activity(self):
            return {"Subject": "x" * 400, "Bad Name; DROP": "v", "Nested__c": {"a": 1}, "Ok__c": True}

    class Wrong:
        @hookimpl
        def call_activity(self):
            return ["Subject", "nope"]

    class Crashing:
        @hookimpl
        def call_activity(self):
            raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        out = with_plugin_fields(manager(Hostile(), Wrong(), Crashing()), CALL, "Task", FIELDS)
    assert out == {"Subject": "x" * 255, "CallDisposition": "answered", "Ok__c": True}  # cut to the field
    text = caplog.text
    assert "'Bad Name; DROP'" in text and "Nested__c" in text and "not a dict" in text and "boom" in text
