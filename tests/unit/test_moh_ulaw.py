"""Hold music gets a u-law copy once, so Asterisk streams it to G.711 callers without decoding GSM."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from control.asterisk import ulaw_music_on_hold


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed (scripts/setup.sh installs it)")
def test_given_gsm_hold_music_then_each_file_gets_a_ulaw_copy_once(tmp_path):
    moh = tmp_path / "usr/share/asterisk/moh"
    moh.mkdir(parents=True)
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(moh / "tune.gsm"), "synth", "1", "sine", "440"],
                   check=True)
    assert ulaw_music_on_hold(tmp_path) == 1
    assert (moh / "tune.ulaw").stat().st_size == 8000  # one second of 8 kHz u-law
    assert ulaw_music_on_hold(tmp_path) == 0  # already there
