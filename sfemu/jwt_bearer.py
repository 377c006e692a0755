"""OAuth 2.0 JWT bearer flow: check an RS256 assertion as Salesforce does and name the user it is for.

The connected app's consumer key (``iss``) and its certificate or RSA public key (PEM) come from
``sfemu.auth.Credentials``. Errors are Salesforce's: 400 ``{"error", "error_description"}`` with
``invalid_client_id`` / "client identifier invalid" for an unknown ``iss``, and ``invalid_grant`` with
"invalid assertion" (malformed, not RS256, bad signature), "audience is invalid", "expired authorization
code" (``exp`` past) or "user hasn't approved this consumer" (``sub`` is not an active user).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

logger = logging.getLogger(__name__)

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEFAULT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


class OAuthError(Exception):
    """A refused token request: ``{"error", "error_description"}`` with an HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class JwtClaims:
    """The checked claims of an assertion."""

    issuer: str
    subject: str
    audience: str
    expires: float


def load_public_key(pem: str) -> RSAPublicKey:
    """The RSA public key of a PEM public key or X.509 certificate; ValueError otherwise."""
    data = pem.encode()
    key: Any
    if b"BEGIN CERTIFICATE" in data:
        key = x509.load_pem_x509_certificate(data).public_key()
    else:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, RSAPublicKey):
        raise ValueError("the JWT signing key must be an RSA key")
    return key


def _normalize(url: str) -> str:
    return url.strip().rstrip("/").lower()


def verify_assertion(assertion: str | None, *, consumer_key: str, public_key_pem: str | None,
                     audiences: Iterable[str], now: float | None = None) -> JwtClaims:
    """The claims of a valid assertion; raises OAuthError as Salesforce would (the user is checked by the caller)."""
    invalid = OAuthError("invalid_grant", "invalid assertion")
    if not assertion:
        raise invalid
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise invalid from None
    if claims.get("iss") != consumer_key:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if header.get("alg") != "RS256" or not public_key_pem:
        if not public_key_pem:
            logger.warning("JWT bearer login refused: no public key configured (--jwt-public-key)")
        raise invalid
    try:
        jwt.decode(assertion, load_public_key(public_key_pem), algorithms=["RS256"],
                   options={"verify_exp": False, "verify_aud": False, "verify_iss": False, "verify_iat": False,
                            "verify_nbf": False, "verify_sub": False, "verify_jti": False})
    except (jwt.PyJWTError, ValueError):
        raise invalid from None
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    allowed = {_normalize(a) for a in audiences}
    if not any(isinstance(a, str) and _normalize(a) in allowed for a in auds):
        raise OAuthError("invalid_grant", "audience is invalid")
    try:
        expires = float(claims["exp"])  # simple-salesforce sends exp as a string of seconds
    except (KeyError, TypeError, ValueError):
        raise invalid from None
    if expires <= (time.time() if now is None else now):
        raise OAuthError("invalid_grant", "expired authorization code")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    return JwtClaims(str(claims["iss"]), subject, str(auds[0]), expires)
