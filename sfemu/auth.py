"""Authentication: the emulator's credentials, issued sessions, SOAP login and OAuth token bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

logger = logging.getLogger(__name__)

ORG_ID = "00D5g000004DEMO"
DEFAULT_SESSION_TIMEOUT = 2 * 3600.0
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclass(frozen=True)
class Credentials:
    """What the emulator accepts: one integration user, its security token and one connected app (consumer key
    and secret; for the JWT bearer flow its certificate or RSA public key in PEM, and optionally another key)."""

    username: str = "integration@switchboard.demo"
    password: str = "switchboard-demo"
    security_token: str = "DEMOTOKEN123"
    client_id: str = "switchboard-demo-client"
    client_secret: str = "switchboard-demo-secret"
    jwt_public_key: str | None = None
    jwt_consumer_key: str | None = None

    @property
    def jwt_issuer(self) -> str:
        """The consumer key a JWT assertion's ``iss`` must name."""
        return self.jwt_consumer_key or self.client_id

    def password_ok(self, username: str | None, password: str | None) -> bool:
        """True for the user's password, with or without the security token appended."""
        if username is None or password is None or username.lower() != self.username.lower():
            return False
        return password in (self.password, self.password + self.security_token)

    def client_ok(self, client_id: str | None, client_secret: str | None) -> bool:
        """True for the connected app's consumer key and secret."""
        return client_id == self.client_id and client_secret == self.client_secret


@dataclass(frozen=True)
class Session:
    """An issued access token."""

    token: str
    user_id: str
    issued_at: float


class SessionRegistry:
    """Issues and checks access tokens. A session ends after ``timeout`` seconds without a request (Salesforce's
    session timeout, 2 hours by default; each request extends it); expiring kills existing tokens only (new
    logins still work)."""

    def __init__(self, timeout: float = DEFAULT_SESSION_TIMEOUT, clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions: dict[str, Session] = {}
        self._last_used: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self.timeout = timeout
        self.logins = 0

    def issue(self, user_id: str) -> Session:
        """A new session for ``user_id``."""
        session = Session(f"{ORG_ID}!AQ{secrets.token_urlsafe(48)}", user_id, time.time())
        with self._lock:
            self._sessions[session.token] = session
            self._last_used[session.token] = self._clock()
            self.logins += 1
        return session

    def check(self, authorization: str | None) -> Session | None:
        """The live session named by an ``Authorization: Bearer <token>`` header (now used again), else None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "oauth"):
            return None
        token = token.strip()
        now = self._clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - self._last_used[token] > self.timeout:
                del self._sessions[token], self._last_used[token]
                logger.info("session of %s timed out", session.user_id)
                return None
            self._last_used[token] = now
            return session

    def expire_all(self) -> int:
        """Invalidate every issued session; returns how many there were."""
        with self._lock:
            n = len(self._sessions)
            self._sessions.clear()
            self._last_used.clear()
        return n


def parse_soap_login(body: bytes) -> tuple[str | None, str | None]:
    """The username and password of a SOAP ``login`` request, or (None, None) when it is not one."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None, None
    values: dict[str, str] = {}
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1]
        if local in ("username", "password"):
            values[local] = el.text or ""
    return values.get("username"), values.get("password")


def soap_login_response(session: Session, server_base: str, version: str, username: str) -> str:
    """The SOAP body of a successful login (unprefixed ``sessionId`` and ``serverUrl``)."""
    base = escape(server_base.rstrip("/"))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns="urn:partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>'
        f"<metadataServerUrl>{base}/services/Soap/m/{version}/{ORG_ID}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
        f"<serverUrl>{base}/services/Soap/u/{version}/{ORG_ID}</serverUrl>"
        f"<sessionId>{escape(session.token)}</sessionId><userId>{session.user_id}</userId>"
        f"<userInfo><organizationId>{ORG_ID}</organizationId><userName>{escape(username)}</userName>"
        "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


def soap_fault(code: str, message: str) -> str:
    """A SOAP fault body with ``sf:exceptionCode`` and ``sf:exceptionMessage``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        f'<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode>'
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:LoginFault></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )


def basic_auth(header: str | None) -> tuple[str | None, str | None]:
    """The (client id, secret) of an ``Authorization: Basic`` header, else (None, None)."""
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode()
    except (ValueError, UnicodeDecodeError):
        return None, None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def oauth_token_body(session: Session, instance_url: str, signing_key: str) -> dict[str, Any]:
    """The JSON of a successful ``/services/oauth2/token`` response."""
    issued_at = str(int(session.issued_at * 1000))
    identity = f"{instance_url.rstrip('/')}/id/{ORG_ID}/{session.user_id}"
    digest = hmac.new(signing_key.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
    return {
        "access_token": session.token,
        "instance_url": instance_url.rstrip("/"),
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": base64.b64encode(digest).decode(),
    }
