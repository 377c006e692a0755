"""Salesforce secrets come only from the environment (or a file it names), never from the YAML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.config import SECRET_FIELDS, ConfigError, load_settings


@pytest.mark.parametrize("name", sorted(SECRET_FIELDS))
def test_a_secret_in_the_config_file_is_refused(tmp_path: Path, name: str) -> None:
    config = tmp_path / "switchboard.yaml"
    config.write_text(f"sf_username: integration@example.com\n{name}: hunter2\n")
    with pytest.raises(ConfigError, match=f"secret '{name}' may not be set in a file; use SWITCHBOARD_{name.upper()}"):
        load_settings(config, env={})


def test_salesforce_secrets_from_the_environment_or_a_file_reference(tmp_path: Path) -> None:
    config = tmp_path / "switchboard.yaml"
    config.write_text("sf_auth: jwt\nsf_username: integration@example.com\nsf_job_retry_budget: 5\n")
    key = tmp_path / "server.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    settings = load_settings(config, env={"SWITCHBOARD_SF_CLIENT_SECRET": "from-env",
                                          "SWITCHBOARD_SF_PRIVATE_KEY_FILE": str(key)})
    assert (settings.sf_auth, settings.sf_username, settings.sf_job_retry_budget) == (
        "jwt", "integration@example.com", 5.0)
    assert settings.sf_client_secret == "from-env"
    assert settings.sf_private_key == key.read_text().strip()
    assert settings.redacted()["sf_client_secret"] == settings.redacted()["sf_private_key"] == "***"
