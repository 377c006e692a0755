"""`switchboard demo` starts every process, prints the web phone URL and logins, rings with `switchboard
call` (a customer over the trunk), and Ctrl-C stops them all."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_demo_starts_prints_url_and_ctrl_c_stops_every_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    proc = subprocess.Popen([sys.executable, "-m", "control.cli", "--state-dir", str(tmp_path), "demo",
                             "--web-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    out = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        out.append(line)
        if "Press Ctrl-C to stop." in line or proc.poll() is not None:
            break
    text = "".join(out)
    assert "Press Ctrl-C to stop." in text, text
    assert "agent1, agent2, agent3  (password: switchboard)" in text
    url = next(line.split()[-1] for line in out if "Web phone:" in line)
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url.replace("/phone", "/login")) as r:
        assert r.status == 200
    # "ring yourself" (README's Try it): the demo customer comes over the trunk
    rang = subprocess.run([sys.executable, "-m", "control.cli", "--state-dir", str(tmp_path), "call", "--from",
                           "+358401234567", "--name", "Maija Virtanen", "--queue", "Customer Service EN",
                           "--hangup-after", "1"], capture_output=True, text=True, env=env, timeout=60)
    assert rang.returncode == 0, rang.stderr
    assert "Calling Customer Service EN (+35891000001) from +358401234567: PJSIP/sb-loopback-" in rang.stdout
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    settings = json.loads((tmp_path / "stack.json").read_text())["settings"]
    asterisk_log = Path(settings["asterisk_generated_dir"]).parent.parent / "console.log"
    assert "PJSIP/trunk-" in asterisk_log.read_text(errors="replace")  # it arrived on the trunk
    assert len(children) >= 5  # redis, emulator, orchestrator, worker, web (+ chroot'ed asterisk)
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, rest
    assert "Stopped." in rest
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    # this state dir's own Asterisk instance in the shared chroot
    shutil.rmtree(Path(settings["asterisk_generated_dir"]).parent.parent, ignore_errors=True)
