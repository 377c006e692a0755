"""OAuth 2.0 JWT bearer flow through Flask's test client: accepted assertions and Salesforce's error answers."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from flask.testing import FlaskClient

from sfemu.app import create_app
from sfemu.auth import Credentials
from sfemu.jwt_bearer import JWT_BEARER_GRANT
from sfemu.seed import DEMO_AGENT_USERNAMES
from sfemu.testing import generate_rsa_key_pair

CREDS = Credentials()
V = "/services/data/v59.0"


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_rsa_key_pair()


@pytest.fixture(scope="module")
def client(keys: tuple[str, str]) -> FlaskClient:
    return create_app("empty", jwt_public_key=keys[1]).test_client()


def assertion(private_key: str, **overrides: Any) -> str:
    claims = {"iss": CREDS.client_id, "sub": CREDS.username, "aud": "https://login.salesforce.com",
              "exp": f"{time.time() + 180:.0f}", **overrides}  # exp as a string, as simple-salesforce sends it
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, private_key, algorithm="RS256")


def token(client: FlaskClient, signed: str | None) -> Any:
    data = {"grant_type": JWT_BEARER_GRANT}
    if signed is not None:
        data["assertion"] = signed
    return client.post("/services/oauth2/token", data=data)


@pytest.mark.parametrize("aud", ["https://login.salesforce.com", "https://test.salesforce.com/",
                                 "http://localhost/", ["https://elsewhere.example", "https://login.salesforce.com"]])
def test_valid_assertions_get_a_bearer_token(client: FlaskClient, keys: tuple[str, str], aud: Any) -> None:
    r = token(client, assertion(keys[0], aud=aud))
    assert r.status_code == 200
    assert r.json["token_type"] == "Bearer" and r.json["instance_url"] == "http://localhost"
    assert r.json["scope"] == "api" and r.json["access_token"].startswith("00D")
    me = client.get(f"{V}/limits", headers={"Authorization": f"Bearer {r.json['access_token']}"})
    assert me.status_code == 200


def test_the_token_acts_as_the_named_user(client: FlaskClient, keys: tuple[str, str]) -> None:
    r = token(client, assertion(keys[0], sub=DEMO_AGENT_USERNAMES[0].upper()))
    assert r.status_code == 200
    headers = {"Authorization": f"Bearer {r.json['access_token']}"}
    created = client.post(f"{V}/sobjects/Task", json={"Subject": "mine"}, headers=headers).json["id"]
    row = client.get(f"{V}/query", headers=headers,
                     query_string={"q": f"SELECT Owner.Username FROM Task WHERE Id = '{created}'"}).json
    assert row["records"][0]["Owner"]["Username"] == DEMO_AGENT_USERNAMES[0]


def test_salesforce_error_answers(client: FlaskClient, keys: tuple[str, str]) -> None:
    other_private, _ = generate_rsa_key_pair()
    cases = [
        (assertion(keys[0], iss="someone-else"), "invalid_client_id", "client identifier invalid"),
        (assertion(other_private), "invalid_grant", "invalid assertion"),
        (jwt.encode({"iss": CREDS.client_id, "sub": CREDS.username, "aud": "https://login.salesforce.com",
                     "exp": int(time.time()) + 60}, "shared-secret-long-enough-for-hs256-0123456789",
                    algorithm="HS256"), "invalid_grant", "invalid assertion"),
        ("not.a.jwt", "invalid_grant", "invalid assertion"),
        (None, "invalid_grant", "invalid assertion"),
        (assertion(keys[0], aud="https://example.my.salesforce.com"), "invalid_grant", "audience is invalid"),
        (assertion(keys[0], exp=int(time.time()) - 5), "invalid_grant", "expired authorization code"),
        (assertion(keys[0], exp=None), "invalid_grant", "invalid assertion"),
        (assertion(keys[0], sub="nobody@example.com"), "invalid_grant", "user hasn't approved this consumer"),
    ]
    for signed, error, description in cases:
        r = token(client, signed)
        assert (r.status_code, r.json) == (400, {"error": error, "error_description": description}), signed


def test_a_certificate_works_like_a_public_key(keys: tuple[str, str]) -> None:
    private = serialization.load_pem_private_key(keys[0].encode(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "switchboard-jwt")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(private, hashes.SHA256()))  # type: ignore[arg-type]
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    creds = Credentials(jwt_public_key=pem, jwt_consumer_key="3MVG9-key")
    client = create_app("empty", credentials=creds).test_client()
    assert token(client, assertion(keys[0], iss="3MVG9-key")).status_code == 200
    assert token(client, assertion(keys[0])).json["error"] == "invalid_client_id"


def test_without_a_configured_key_jwt_logins_fail(keys: tuple[str, str]) -> None:
    client = create_app("empty").test_client()
    r = token(client, assertion(keys[0]))
    assert (r.status_code, r.json["error"]) == (400, "invalid_grant")
    log = client.get("/__emulator/requests?kind=login").json
    assert log["counts"]["login"] == 1 and log["requests"][0]["status"] == 400
