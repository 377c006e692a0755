"""The web app in-process (Flask's test client), logged in as the login form does it (with its CSRF token)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

SECRET = "unit-test-secret-key"  # the web unit tests' server secret (tests/unit/conftest.py)
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
# Search strings that must stay plain text through SOQL/SOSL escaping.
HOSTILE = ["x'y", 'a"b', "{Robert}", "back\\slash", "a OR b", "?&|!{}[]()^~*:\\\"'+-", "Maija') OR Name != ('",
           "}) RETURNING User(Id", "%_%", "\n\tNOT x"]


def csrf_from(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form (or page) at ``path``."""
    match = CSRF_INPUT.search(client.get(path).get_data(as_text=True))
    assert match, "no CSRF field in the form"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str) -> Any:
    """Post the login form; the response (a redirect to the phone when it worked)."""
    token = csrf_from(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def signed_in(client: FlaskClient, username: str, password: str) -> None:
    """Log in, and check that it worked."""
    assert login(client, username, password).status_code in (302, 303)


def logged_in(app: Any, username: str, password: str) -> FlaskClient:
    """A new client of ``app`` logged in, with its session's CSRF token as ``.csrf``."""
    client = app.test_client()
    login(client, username, password)
    client.csrf = csrf_from(client, "/login")  # type: ignore[attr-defined]  # the new session's token
    return client
