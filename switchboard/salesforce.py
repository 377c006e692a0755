"""Salesforce connector: log in with simple-salesforce, escape SOSL/SOQL, find a caller by phone number.

``connect`` always hands simple-salesforce an already issued session (it logs in itself, through
simple-salesforce's SOAP login or an OAuth token request), so simple-salesforce never re-logs in on its
own: on an expired session it raises ``SalesforceExpiredSession`` and the caller decides how often to
log in again (see ``switchboard.sfclient.SalesforceClient``), instead of the library's unbounded
retry.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import phonenumbers
import requests
from simple_salesforce import Salesforce, SalesforceAuthenticationFailed, SalesforceLogin

from switchboard.config import ConfigError, Settings
from switchboard.transport import make_session

logger = logging.getLogger(__name__)

SOSL_RESERVED = frozenset("?&|!{}[]()^~*:\\\"'+-")
SOSL_MAX_TERM = 200
SOSL_OPERATORS = frozenset({"AND", "OR", "NOT"})
SOQL_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
                "\f": "\\f"}
MIN_PHONE_DIGITS = 3
MAX_PHONE_DIGITS = 20
PER_OBJECT_LIMIT = 10
# What a phone lookup returns of each object (switchboard.callerid adds the admin's result columns).
LOOKUP_FIELDS: dict[str, tuple[str, ...]] = {
    "Contact": ("Id", "Name", "Phone", "AccountId"),
    "Account": ("Id", "Name", "Phone"),
    "Lead": ("Id", "Name", "Phone", "Company"),
}


def phone_returning(extra: Mapping[str, Sequence[str]] | None = None) -> str:
    """The phone lookup's RETURNING list: each object's lookup fields plus its ``extra`` ones (checked
    field names), at most 10 records of each."""
    parts = []
    for sobject, base in LOOKUP_FIELDS.items():
        fields = dict.fromkeys([*base, *(extra or {}).get(sobject, ())])
        parts.append(f"{sobject}({', '.join(fields)} LIMIT {PER_OBJECT_LIMIT})")
    return ", ".join(parts)


PHONE_RETURNING = phone_returning()


# connecting -------------------------------------------------------------------------------------------
def connect(settings: Settings, session: requests.Session | None = None) -> Salesforce:
    """Log in as configured (``sf_auth``: password, jwt or client_credentials) and return a client."""
    session = session or make_session(settings.sf_emulator_url)
    if settings.sf_auth == "password":
        session_id, instance = SalesforceLogin(
            username=settings.sf_username, password=settings.sf_password,
            security_token=settings.sf_security_token, domain=settings.sf_domain,
            sf_version=settings.sf_api_version, session=session,
        )
        logger.info("logged in to Salesforce as %s (instance %s)", settings.sf_username, instance)
        return Salesforce(session_id=session_id, instance=instance, version=settings.sf_api_version,
                          session=session)
    if settings.sf_auth == "jwt":
        if not (settings.sf_username and settings.sf_client_id and settings.sf_private_key):
            raise ConfigError("sf_auth=jwt needs SWITCHBOARD_SF_USERNAME, SWITCHBOARD_SF_CLIENT_ID and "
                              "SWITCHBOARD_SF_PRIVATE_KEY (or SWITCHBOARD_SF_PRIVATE_KEY_FILE)")
        session_id, instance = SalesforceLogin(
            username=settings.sf_username, consumer_key=settings.sf_client_id, privatekey=settings.sf_private_key,
            domain=settings.sf_domain, sf_version=settings.sf_api_version, session=session,
        )
        logger.info("logged in to Salesforce by JWT bearer as %s (instance %s)", settings.sf_username, instance)
        return Salesforce(session_id=session_id, instance=instance, version=settings.sf_api_version,
                          session=session)
    if settings.sf_auth == "client_credentials":
        token = client_credentials_token(settings, session)
        logger.info("obtained a client-credentials token for %s", token["instance_url"])
        return Salesforce(session_id=token["access_token"], instance_url=token["instance_url"],
                          version=settings.sf_api_version, session=session)
    raise ConfigError(f"unsupported sf_auth {settings.sf_auth!r}; use password, jwt or client_credentials")


def token_url(settings: Settings) -> str:
    """The OAuth token endpoint: on the instance URL when set, else on ``https://{sf_domain}.salesforce.com``."""
    if settings.sf_instance_url:
        return settings.sf_instance_url.rstrip("/") + "/services/oauth2/token"
    return f"https://{settings.sf_domain}.salesforce.com/services/oauth2/token"


def client_credentials_token(settings: Settings, session: requests.Session) -> dict[str, Any]:
    """Run the OAuth 2.0 client credentials flow; raises SalesforceAuthenticationFailed."""
    response = session.post(token_url(settings), data={
        "grant_type": "client_credentials", "client_id": settings.sf_client_id,
        "client_secret": settings.sf_client_secret,
    })
    try:
        body = response.json()
    except ValueError:
        raise SalesforceAuthenticationFailed(response.status_code, response.text[:500]) from None
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        error = body.get("error") if isinstance(body, dict) else response.status_code
        description = body.get("error_description") if isinstance(body, dict) else response.text[:500]
        raise SalesforceAuthenticationFailed(error, description)
    return body


# escaping ---------------------------------------------------------------------------------------------
def sosl_escape(text: str, max_length: int = SOSL_MAX_TERM) -> str:
    """``text`` as a literal SOSL search term: control characters become spaces, the length is capped,
    every reserved character (``? & | ! { } [ ] ( ) ^ ~ * : \\ " ' + -``) gets a backslash, and the
    words AND, OR and NOT are quoted so they cannot act as operators and widen the search."""
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)[:max_length]
    escaped = "".join("\\" + c if c in SOSL_RESERVED else c for c in cleaned)
    words = re.split(r"(\s+)", escaped)
    return "".join(f'"{w}"' if w.upper() in SOSL_OPERATORS else w for w in words).strip()


def soql_quote(text: str) -> str:
    """``text`` as a quoted SOQL string literal (backslash, quotes and control escapes)."""
    return "'" + "".join(SOQL_ESCAPES.get(c, c) for c in text) + "'"


def soql_like(text: str, before: str = "%", after: str = "%") -> str:
    """A quoted SOQL LIKE pattern: ``before`` + ``text`` + ``after``, with ``text``'s own ``%`` and ``_``
    escaped so they match only themselves (``before``/``after`` are the wildcards, e.g. ``'%text%'``)."""
    literal = soql_quote(text)[1:-1].replace("%", "\\%").replace("_", "\\_")
    return f"'{before}{literal}{after}'"


# phone lookup -----------------------------------------------------------------------------------------
def ascii_digits(text: str) -> str:
    """The decimal digits of ``text`` (any script) as ASCII."""
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


def phone_search_terms(number: str, default_region: str) -> list[str]:
    """The forms of ``number`` worth searching: E.164, national with trunk prefix, national significant
    number (or just its digits when it does not parse). Empty when it is not plausibly a number."""
    digits = ascii_digits(number)
    if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
        return []
    terms: list[str] = []
    try:
        parsed = phonenumbers.parse(number, default_region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        terms = [
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
            ascii_digits(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)),
            phonenumbers.national_significant_number(parsed),
        ]
    else:
        terms = [digits]
    return list(dict.fromkeys(t for t in terms if len(ascii_digits(t)) >= MIN_PHONE_DIGITS))


def phone_search_sosl(terms: list[str], returning: str = PHONE_RETURNING) -> str:
    """The SOSL statement searching phone fields for any of ``terms`` (each escaped)."""
    term = " OR ".join(sosl_escape(t) for t in terms)
    return f"FIND {{{term}}} IN PHONE FIELDS RETURNING {returning}"


def plain_record(record: dict[str, Any]) -> dict[str, Any]:
    """A search/query record as a plain JSON-able dict: ``type`` plus the fields, no ``attributes``."""
    out: dict[str, Any] = {"type": record.get("attributes", {}).get("type")}
    out.update((k, v) for k, v in record.items() if k != "attributes")
    return out


def find_by_phone(sf: Salesforce, number: str, default_region: str = "FI",
                  returning: str = PHONE_RETURNING) -> dict[str, Any]:
    """Contacts, accounts and leads whose phone fields match ``number``:
    ``{"kind": "none"|"single"|"multiple", "records": [...]}`` (at most 10 per object)."""
    terms = phone_search_terms(number or "", default_region)
    if not terms:
        return {"kind": "none", "records": []}
    result = sf.search(phone_search_sosl(terms, returning)) or {}
    records = [plain_record(r) for r in result.get("searchRecords", [])]
    kind = "none" if not records else "single" if len(records) == 1 else "multiple"
    logger.debug("phone lookup of %s found %s record(s)", number, len(records))
    return {"kind": kind, "records": records}


# writing ----------------------------------------------------------------------------------------------
def upsert_by_external_id(sf: Salesforce, sobject: str, field: str, value: str, data: dict[str, Any]) -> str:
    """Create or update the record whose external id ``field`` is ``value``; returns its id."""
    sftype = getattr(sf, sobject)
    response = sftype.upsert(f"{field}/{quote(value, safe='')}", data, raw_response=True)
    if response.status_code in (200, 201) and response.content:
        return str(response.json()["id"])
    # Before API v46 an update by external id answers 204 without a body: read the id back.
    return str(sftype.get_by_custom_id(field, value)["Id"])


USER_ID = re.compile(r"^005[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$")


def find_user_id(sf: Salesforce, user: str) -> str | None:
    """The Id of the Salesforce user ``user`` (a User Id, checked, or a Username), or None."""
    field = "Id" if USER_ID.match(user) else "Username"
    rows = sf.query(f"SELECT Id FROM User WHERE {field} = {soql_quote(user)}")["records"]
    return str(rows[0]["Id"]) if rows else None


def omni_statuses(sf: Salesforce) -> list[dict[str, str]]:
    """The org's Omni-Channel presence statuses: ``Id``, ``DeveloperName``, ``MasterLabel``."""
    rows = sf.query_all("SELECT Id, DeveloperName, MasterLabel FROM ServicePresenceStatus ORDER BY MasterLabel")
    return [{k: str(r[k]) for k in ("Id", "DeveloperName", "MasterLabel")} for r in rows["records"]]
