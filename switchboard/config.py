"""Settings: defaults in code, then a YAML file, then environment variables.

Secrets (fields listed in ``SECRET_FIELDS``) are read only from the environment, either directly
(``SWITCHBOARD_AMI_SECRET``) or from a file reference (``SWITCHBOARD_AMI_SECRET_FILE``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

ENV_PREFIX = "SWITCHBOARD_"
SECRET_FIELDS = frozenset(
    {"ami_secret", "ari_password", "secret_key", "sf_password", "sf_security_token", "sf_client_secret",
     "sf_private_key"}
)


# A Salesforce API field name (no relationship paths): what an admin may add as a column or search field.
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
SEARCH_SCOPES = ("NAME", "ALL", "EMAIL", "PHONE")
OUTBOUND_OTHER_OBJECT = ("ignore", "relate")
# Settings an admin changes at run time (``switchboard admin workflow set``): kept in the database, they
# win over the defaults, the YAML file and the environment, and take effect without a restart.
ADMIN_SETTINGS = (
    "outbound_other_object", "workflow_search_in", "workflow_contact_columns", "workflow_account_columns",
    "workflow_lead_columns", "workflow_case_columns", "workflow_case_search_fields",
)


class ConfigError(Exception):
    """Raised when configuration is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    """Every setting of every Switchboard process, with its default."""

    database_url: str = "sqlite:///switchboard.db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    socketio_channel: str = "switchboard-socketio"
    rq_queue: str = "switchboard"
    # Screen-pop warm-ups (a caller's lookup started when the call enters a queue, worker/warmer.py) run
    # in ``lookup_warm_threads`` threads of each worker, newest first, beside the RQ jobs; one not started
    # within ``lookup_warm_ttl`` seconds is dropped (the phone has rung, the web app looked it up itself).
    lookup_warm_ttl: int = 20
    lookup_warm_threads: int = 4

    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = "switchboard"
    ami_secret: str = ""
    ari_url: str = "http://127.0.0.1:8088"
    ari_username: str = "switchboard"
    ari_password: str = ""
    ari_app: str = "switchboard"
    # Where the orchestrator writes the generated Asterisk includes (agents, queue members).
    asterisk_generated_dir: str = ""
    # The SIP-over-WebSocket URL the browser registers to.
    sip_ws_url: str = "ws://127.0.0.1:8088/ws"
    sip_domain: str = "127.0.0.1"
    # Where SIP phones (agents whose device is "sip": desk phones, softphones, SIPp) register: the
    # domain above, on these ports (Asterisk's transport-udp and transport-tcp).
    sip_udp_port: int = 5060
    sip_tcp_port: int = 5060

    web_host: str = "127.0.0.1"
    web_port: int = 8000
    public_url: str = ""
    # Where Asterisk's MixMonitor writes call recordings (<call id>.wav), as this host sees it.
    recordings_dir: str = ""
    secret_key: str = ""
    routing_timeout: float = 0.5
    # SLA scoring across queues (switchboard/sla.py, docs/routing.md): an agent in several queues with callers
    # waiting is offered the caller with the highest waiting time / queue SLA threshold first
    sla_routing: bool = True
    # Pick mode: how long a picked call rings the agent who picked it before it goes back to its queue
    pick_ring_seconds: int = 20

    default_region: str = "FI"
    # Agents' outbound calls: the company number shown by default (display number "default"), and
    # where Asterisk sends external numbers ({number} is the dialled number; the demo and tests use
    # "Local/{number}@sb-demo-customer", a local customer that answers and talks).
    company_number: str = ""
    outbound_dial: str = "PJSIP/{number}@trunk"
    # Where the trunk sends outbound calls (its AOR's contact), e.g. "sip:sbc.carrier.example:5060"; empty:
    # none (the trunk only takes the carrier's calls). The tests point it at a SIPp carrier.
    trunk_contact: str = ""

    # Salesforce connection. sf_auth: password | client_credentials | jwt
    sf_auth: str = "password"
    sf_domain: str = "login"
    sf_instance_url: str = ""
    sf_username: str = ""
    sf_password: str = ""
    sf_security_token: str = ""
    sf_client_id: str = ""
    sf_client_secret: str = ""
    sf_private_key: str = ""
    sf_api_version: str = "59.0"
    # When set, every https:// request for Salesforce goes to this plain-HTTP emulator instead.
    sf_emulator_url: str = ""
    # Caller lookups are cached in Redis: matches for this long, "no match" for the shorter time.
    sf_lookup_ttl: int = 3600
    sf_lookup_negative_ttl: int = 300
    # Call activities are written in batches (sObject Collections): at most this many records, and a
    # record waits at most this long for others to join its batch.
    sf_batch_size: int = 200
    sf_batch_window: float = 0.5
    # Transient errors (5xx, REQUEST_LIMIT_EXCEEDED, network) are retried with exponential backoff and
    # jitter, capped at this many seconds between tries.
    sf_backoff_max: float = 30.0
    # A job's Salesforce request stops retrying after this many seconds; RQ then retries the job later
    # (switchboard.contracts.RETRY) and finally keeps it in its failed registry (`switchboard jobs failed`).
    sf_job_retry_budget: float = 60.0
    # The flusher's Redis lock (one flusher at a time) lives this long and is renewed every third of it
    # while a flush runs; a flusher that dies holds the outbox no longer than this.
    sf_flush_lock_ttl: float = 30.0
    # The call ledger Asterisk writes (CEL, asterisk-conf/cel_custom.conf) as the worker sees it: the
    # worker's reconciler turns a finished call that got no activity into its Task ('' = off). A call's
    # activity is left to the live path (the orchestrator) for ledger_grace seconds after the call ended.
    ledger_path: str = ""
    ledger_grace: float = 3.0
    # The reconciler renames the ledger to <name>.1 once it is this big and read (Asterisk starts a new file).
    ledger_rotate_bytes: int = 64 * 1024 * 1024
    # Save call info on the Case (upsert on Case.Call_Id__c) instead of a Task (seed section 3.1 option).
    sf_call_info_on_case: bool = False
    # An outbound call dialled from a record that is not a Contact or Lead (an Account, a Case...):
    # "ignore" (seed 2.2.4: by default not related) leaves the Task unrelated, "relate" relates it to
    # that record (WhatId). A user's own setting (switchboard agent set --outbound-other-object) wins.
    outbound_other_object: str = "ignore"
    # The org's Salesforce URL of a record, for links (e.g. https://example.lightning.force.com).
    sf_lightning_url: str = ""
    # Phone workflows (seed section 2): where the agent's name search looks (SOSL: NAME, ALL, EMAIL,
    # PHONE) and the extra result columns an admin adds per object (API field names).
    workflow_search_in: str = "NAME"
    workflow_contact_columns: tuple[str, ...] = ("Title", "Email")
    workflow_account_columns: tuple[str, ...] = ()
    workflow_lead_columns: tuple[str, ...] = ("Company", "Email")
    workflow_case_columns: tuple[str, ...] = ("Status", "Priority", "Origin")
    # The CaseDialog's "search another case": by case number, and by these filterable text fields an
    # admin adds (e.g. Subject), matched with SOQL LIKE '%text%'.
    workflow_case_search_fields: tuple[str, ...] = ()
    # The session cookie's SameSite: "Lax" (default); "None" (needs https) when the phone is embedded
    # in Salesforce through Open CTI (a third-party iframe).
    session_cookie_samesite: str = "Lax"

    # Omni-Channel presence sync (seed 1.3, switchboard/omni.py): a worker reads the agents' Omni status
    # and workload (linked agents only: ``switchboard admin agent set --sf-user``) every
    # ``omni_poll_seconds`` (two SOQL queries each time: mind the org's daily API limit); the Lightning
    # component in salesforce/ writes it. Omni Offline -> any status activates the agent in
    # ``omni_voice_queues`` (empty: all their queues); a workload at ``omni_workload_limit`` or above
    # (0: never) shows "In a Case" (OffWork for voice).
    omni_sync: bool = False
    omni_poll_seconds: float = 2.0
    omni_workload_limit: int = 0
    omni_voice_queues: tuple[str, ...] = ()

    # Plugins (entry points of the ``switchboard.plugins`` group) by name: ``enabled`` (default true: an
    # installed plugin loads unless its section says false) and the plugin's own options, which its hooks
    # receive as ``config``. ``name: false`` is short for ``{enabled: false}``. In the environment: JSON.
    plugins: Mapping[str, Any] = field(default_factory=dict)

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict with secrets masked, for logs."""
        out = dataclasses.asdict(self)
        for name in SECRET_FIELDS:
            if out.get(name):
                out[name] = "***"
        return out


def _coerce(name: str, raw: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"setting {name!r} must be an integer, got {raw!r}") from exc
    if isinstance(default, float):
        try:
            return float(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"setting {name!r} must be a number, got {raw!r}") from exc
    if isinstance(default, Mapping):
        return plugin_sections(raw)
    if isinstance(default, tuple):
        if isinstance(raw, str):
            return tuple(p.strip() for p in raw.split(",") if p.strip())
        return tuple(raw)
    return str(raw)


def plugin_sections(raw: Any) -> dict[str, dict[str, Any]]:
    """The ``plugins`` setting (a mapping, or its JSON text) as name -> section with ``enabled``."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise ConfigError(f"setting 'plugins' must be JSON in the environment: {exc}") from exc
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"setting 'plugins' must map plugin names to their settings, got {raw!r}")
    out: dict[str, dict[str, Any]] = {}
    for name, section in raw.items():
        if isinstance(section, bool) or section is None:
            section = {"enabled": section is not False}
        if not isinstance(section, Mapping):
            raise ConfigError(f"plugins: {name!r} must be true, false or a mapping, got {section!r}")
        if not isinstance(section.get("enabled", True), bool):
            raise ConfigError(f"plugins: {name}.enabled must be true or false")
        out[str(name)] = {"enabled": True, **section}
    return out


def load_settings(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from defaults, the YAML file (``path`` or ``$SWITCHBOARD_CONFIG``) and the environment."""
    env = os.environ if env is None else env
    defaults = Settings()
    values: dict[str, Any] = {}
    path = path or env.get(ENV_PREFIX + "CONFIG")
    if path:
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must hold a mapping")
        for key, raw in data.items():
            if key in SECRET_FIELDS:
                raise ConfigError(f"secret {key!r} may not be set in a file; use {ENV_PREFIX}{key.upper()}")
            if not hasattr(defaults, key):
                raise ConfigError(f"unknown setting {key!r} in {path}")
            values[key] = raw
    for f in dataclasses.fields(Settings):
        var = ENV_PREFIX + f.name.upper()
        if var in env:
            values[f.name] = env[var]
        elif var + "_FILE" in env:
            values[f.name] = Path(env[var + "_FILE"]).read_text().strip()
    coerced = {k: _coerce(k, v, getattr(defaults, k)) for k, v in values.items()}
    return dataclasses.replace(defaults, **coerced)


def check_admin_setting(name: str, raw: Any) -> Any:
    """``raw`` as the value of the admin setting ``name``; raises ConfigError when it is not valid."""
    if name not in ADMIN_SETTINGS:
        raise ConfigError(f"{name!r} is not a setting an admin may change; use one of {', '.join(ADMIN_SETTINGS)}")
    value = _coerce(name, raw, getattr(Settings(), name))
    if isinstance(value, tuple):
        bad = [f for f in value if not FIELD_NAME.match(f)]
        if bad:
            raise ConfigError(f"{name}: not a Salesforce field name: {', '.join(map(repr, bad))}")
        return tuple(dict.fromkeys(value))
    choices = {"workflow_search_in": SEARCH_SCOPES, "outbound_other_object": OUTBOUND_OTHER_OBJECT}[name]
    value = value.upper() if name == "workflow_search_in" else value.lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return value


def with_overrides(settings: Settings, overrides: Mapping[str, Any]) -> Settings:
    """``settings`` with the admin's stored overrides; an invalid stored value is logged and left out."""
    values: dict[str, Any] = {}
    for name, raw in overrides.items():
        try:
            values[name] = check_admin_setting(name, raw)
        except ConfigError as exc:
            logger.warning("ignoring the stored admin setting: %s", exc)
    return dataclasses.replace(settings, **values) if values else settings


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that reproduce ``settings`` in a child process."""
    out: dict[str, str] = {}
    for f in dataclasses.fields(Settings):
        value = getattr(settings, f.name)
        if isinstance(value, tuple):
            value = ",".join(value)
        elif isinstance(value, Mapping):
            value = json.dumps(value)
        out[ENV_PREFIX + f.name.upper()] = str(value)
    return out
