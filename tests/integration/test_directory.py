"""The directory API against the Salesforce emulator and a real Redis: agents first, then Contacts by
name and by phone; hostile search strings stay plain text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from sfemu.auth import Credentials
from sfemu.seed import DEMO_CONTACT_NAME, DEMO_CONTACT_PHONE
from sfemu.testing import running_emulator
from switchboard.config import Settings
from switchboard.sip import derive_sip_password
from switchboard.store import Store, upgrade
from tests.support.redis_server import running_redis
from tests.support.web import HOSTILE, logged_in
from web import create_app

pytestmark = pytest.mark.integration
CREDS = Credentials()
SECRET = "directory-test-secret"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_emulator("demo") as sf_url, running_redis() as redis_url:
        db = f"sqlite:///{tmp_path_factory.mktemp('dir') / 'dir.db'}"
        upgrade(db)
        store = Store(db)
        for sip, name in (("agent1", "Alice One"), ("agent2", "Maija Agent")):
            store.create_user(sip, "pw", name, sip_username=sip, sip_password=derive_sip_password(SECRET, sip, 1))
        settings = Settings(database_url=db, redis_url=redis_url, secret_key=SECRET, sf_emulator_url=sf_url,
                            sf_auth="password", sf_username=CREDS.username, sf_password=CREDS.password,
                            sf_security_token=CREDS.security_token, rq_queue="dir-test")
        app = create_app(settings)
        app.config["TESTING"] = True
        yield app


def search(app: Any, q: str) -> dict[str, Any]:
    response = logged_in(app, "agent1", "pw").get("/api/directory", query_string={"q": q})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_given_maija_then_agents_first_then_the_demo_contact_with_its_phone(app):
    body = search(app, "Maija")
    assert body["salesforce"] == "ok"
    types = [r["type"] for r in body["results"]]
    assert types[0] == "agent" and body["results"][0]["name"] == "Maija Agent"
    assert types == sorted(types)  # "agent" < "contact": every agent before any contact
    contacts = [r for r in body["results"] if r["type"] == "contact"]
    assert any(r["name"] == DEMO_CONTACT_NAME and r["number"] == DEMO_CONTACT_PHONE for r in contacts)
    assert len(body["results"]) <= 20


def test_given_a_phone_number_then_the_contact_is_found_by_phone(app):
    body = search(app, DEMO_CONTACT_PHONE.replace(" ", ""))
    assert any(r["name"] == DEMO_CONTACT_NAME for r in body["results"])


@pytest.mark.parametrize("hostile", HOSTILE)
def test_given_a_hostile_query_then_salesforce_answers_and_nothing_widens(app, hostile):
    response = logged_in(app, "agent1", "pw").get("/api/directory", query_string={"q": hostile})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        body = response.get_json()
        assert body["salesforce"] == "ok", hostile  # the SOSL stayed valid
        assert all(r["type"] == "contact" and r["name"] for r in body["results"])
        words = [w.casefold() for w in re.findall(r"[A-Za-z0-9]{2,}", hostile)]
        for r in body["results"]:  # a match only on the literal words, never "everything"
            assert any(w in r["name"].casefold() for w in words), (hostile, r["name"])
