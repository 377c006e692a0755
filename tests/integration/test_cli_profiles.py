"""``switchboard profile``: profiles with a skill level per queue land in the database, an agent's queues follow
the profile they use (penalty 10 - skill), bad values are refused; with no orchestrator running the CLI says
the change applies at its next start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.store import Store, upgrade

pytestmark = pytest.mark.integration


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'profiles.db'}"
    upgrade(url)
    store = Store(url)
    store.upsert_queue("cs-en", "Customer Service EN", "+35891000001")
    store.upsert_queue("cs-fi", "Customer Service FI", "+35891000002")
    store.upsert_queue("sales", "Sales", "+35891000003")
    store.create_user("anna", "pw", "Anna Agent", sip_username="anna", sip_password="sip-pw")
    store.add_member("anna", ["sales"])
    store.engine.dispose()
    return url


def profile_cli(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``switchboard profile ARGS`` on a database of its own, with no Redis (so no orchestrator) to tell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(SWITCHBOARD_DATABASE_URL=db, SWITCHBOARD_STATE_DIR="/nonexistent-state",
               SWITCHBOARD_REDIS_URL="redis://127.0.0.1:1/0", SWITCHBOARD_SECRET_KEY="profile-test")
    return subprocess.run([sys.executable, "-m", "control.cli", "profile", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def queues(db: str, agent: str = "anna") -> dict[str, int]:
    store = Store(db)
    try:
        return {m.queue.name: m.penalty for a in store.list_agents() if a.sip_username == agent
                for m in a.memberships}
    finally:
        store.engine.dispose()


def test_profiles_are_made_listed_used_and_removed(db):
    assert "no profiles" in ok(profile_cli(db, "list"))
    ok(profile_cli(db, "add", "Finnish specialist"))
    assert "skill 9 (penalty 1)" in ok(profile_cli(db, "skill", "Finnish specialist", "Customer Service FI", "9"))
    ok(profile_cli(db, "skill", "Finnish specialist", "+35891000001", "4"))  # by number
    assert "pick mode" in ok(profile_cli(db, "add", "Picker", "--pick-mode"))
    ok(profile_cli(db, "skill", "Picker", "cs-en", "5"))

    used = ok(profile_cli(db, "use", "anna", "Finnish specialist"))
    assert "cs-fi (penalty 1), cs-en (penalty 6)" in used and "no orchestrator running" in used
    assert queues(db) == {"cs-fi": 1, "cs-en": 6}  # sales is not in the profile: gone
    listed = ok(profile_cli(db, "list"))
    assert "Finnish specialist       offered    cs-fi 9, cs-en 4  agents: anna" in listed
    assert "Picker                   pick mode  cs-en 5  agents: -" in listed

    # a skill changed in the profile reaches its agents; 0 takes a queue out of it
    assert "agents anna follow" in ok(profile_cli(db, "skill", "Finnish specialist", "cs-en", "10"))
    ok(profile_cli(db, "skill", "Finnish specialist", "cs-fi", "0"))
    assert queues(db) == {"cs-en": 0}

    assert "no profile" in ok(profile_cli(db, "use", "anna", ""))
    assert queues(db) == {"cs-en": 0}
    ok(profile_cli(db, "use", "anna", "Picker"))
    assert "anna keep their queues" in ok(profile_cli(db, "remove", "Picker"))
    assert queues(db) == {"cs-en": 5}
    assert "Picker" not in ok(profile_cli(db, "list"))


def test_bad_profiles_levels_queues_and_agents_are_refused(db):
    ok(profile_cli(db, "add", "Front line"))
    for args, why in ((("skill", "Front line", "cs-en", "11"), "11 is not in the range"),
                      (("skill", "Front line", "nowhere", "5"), "unknown queue"),
                      (("skill", "Nobody", "cs-en", "5"), "unknown profile"),
                      (("use", "anna", "Nobody"), "unknown profile"),
                      (("use", "ghost", "Front line"), "unknown agent"),
                      (("remove", "Nobody"), "unknown profile"),
                      (("add", " "), "1 to 100 characters")):
        result = profile_cli(db, *args)
        assert result.returncode != 0 and why in result.stderr, (args, result.stderr)
    assert queues(db) == {"sales": 0}
