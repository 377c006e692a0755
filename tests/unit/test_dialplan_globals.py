"""The orchestrator writes the dialplan globals (outbound route, company number, display key) itself."""

from __future__ import annotations

import stat

from orchestrator.provisioning import write_dialplan_globals
from switchboard.config import Settings


def test_given_settings_then_the_globals_are_written_once_private_and_rewritten_when_they_change(tmp_path):
    settings = Settings(secret_key="s3cret", company_number="+35891000000", outbound_dial="PJSIP/{number}@trunk")
    assert write_dialplan_globals(tmp_path, settings) is True
    text = (tmp_path / "extensions_globals.conf").read_text()
    assert "SB_COMPANY_NUMBER = +35891000000\n" in text and "SB_OUTBOUND_SUFFIX = @trunk\n" in text
    assert "SB_DISPLAY_KEY = " in text and "s3cret" not in text  # a derived key, never the secret
    assert stat.S_IMODE((tmp_path / "extensions_globals.conf").stat().st_mode) == 0o600
    assert write_dialplan_globals(tmp_path, settings) is False  # unchanged: no dialplan reload
    other = Settings(secret_key="s3cret", company_number="+35891000009")
    assert write_dialplan_globals(tmp_path, other) is True
