"""The connector logs in by configuration alone: JWT bearer, client credentials and password."""

from __future__ import annotations

import dataclasses

import pytest
from simple_salesforce import SalesforceAuthenticationFailed

from sfemu.auth import Credentials
from sfemu.testing import generate_rsa_key_pair, running_emulator
from switchboard.config import ConfigError, Settings, load_settings
from switchboard.salesforce import connect

pytestmark = pytest.mark.integration
CONSUMER_KEY = "3MVG9switchboard.test.key"


@pytest.fixture(scope="module")
def keys():
    return generate_rsa_key_pair()


@pytest.fixture(scope="module")
def emulator(keys, tmp_path_factory):
    public_pem = tmp_path_factory.mktemp("jwt") / "public.pem"
    public_pem.write_text(keys[1])
    with running_emulator("demo", args=["--jwt-public-key", str(public_pem), "--jwt-consumer-key",
                                        CONSUMER_KEY]) as url:
        yield url


def test_jwt_bearer_login_from_environment_with_a_key_file(emulator, keys, tmp_path):
    key_file = tmp_path / "server.key"
    key_file.write_text(keys[0])
    settings = load_settings(env={
        "SWITCHBOARD_SF_AUTH": "jwt", "SWITCHBOARD_SF_USERNAME": Credentials().username,
        "SWITCHBOARD_SF_CLIENT_ID": CONSUMER_KEY, "SWITCHBOARD_SF_PRIVATE_KEY_FILE": str(key_file),
        "SWITCHBOARD_SF_DOMAIN": "login", "SWITCHBOARD_SF_EMULATOR_URL": emulator})
    sf = connect(settings)
    assert sf.query("SELECT Id FROM Account LIMIT 1")["totalSize"] == 1


def test_jwt_with_another_key_is_refused(emulator):
    other_private, _ = generate_rsa_key_pair()
    settings = Settings(sf_auth="jwt", sf_username=Credentials().username, sf_client_id=CONSUMER_KEY,
                        sf_private_key=other_private, sf_emulator_url=emulator)
    with pytest.raises(SalesforceAuthenticationFailed):
        connect(settings)


def test_jwt_without_a_key_is_a_clear_configuration_error(emulator):
    with pytest.raises(ConfigError, match="SWITCHBOARD_SF_PRIVATE_KEY"):
        connect(Settings(sf_auth="jwt", sf_username="x", sf_client_id=CONSUMER_KEY, sf_emulator_url=emulator))


def test_client_credentials_and_password_logins(emulator):
    creds = Credentials()
    base = Settings(sf_emulator_url=emulator, sf_instance_url="https://example.my.salesforce.com")
    cc = connect(dataclasses.replace(base, sf_auth="client_credentials", sf_client_id=creds.client_id,
                                     sf_client_secret=creds.client_secret))
    pw = connect(dataclasses.replace(base, sf_auth="password", sf_username=creds.username,
                                     sf_password=creds.password, sf_security_token=creds.security_token))
    for sf in (cc, pw):
        assert sf.query("SELECT Id FROM Contact LIMIT 2")["totalSize"] == 2
