"""Fixtures of the web unit tests: a migrated SQLite database with two agents and a supervisor."""

from __future__ import annotations

import pytest

from switchboard.config import Settings
from switchboard.sip import derive_sip_password
from switchboard.store import Store, upgrade
from tests.support.web import SECRET


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}"
    upgrade(url)
    store = Store(url)
    for n in (1, 2):
        sip = f"agent{n}"
        store.create_user(f"alice{n}", f"pw{n}", f"Alice {n}", sip_username=sip,
                          sip_password=derive_sip_password(SECRET, sip, 1))
    store.create_user("sam", "pw-sam", "Sam Supervisor", role="supervisor")
    store.engine.dispose()
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, redis_url="", secret_key=SECRET,
                    sip_ws_url="ws://127.0.0.1:8088/ws", sip_domain="pbx.example")


