"""Login endpoints: SOAP ``login`` and the OAuth 2.0 token endpoint (password, client credentials, JWT bearer)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from sfemu.auth import basic_auth, oauth_token_body, parse_soap_login, soap_fault, soap_login_response
from sfemu.jwt_bearer import DEFAULT_AUDIENCES, JWT_BEARER_GRANT, OAuthError, verify_assertion
from sfemu.state import EmulatorState, get_state

logger = logging.getLogger(__name__)

bp = Blueprint("sfemu_auth", __name__)

INVALID_LOGIN = "Invalid username, password, security token; or user locked out."
GRANTS = ("password", "client_credentials", JWT_BEARER_GRANT)


@bp.post("/services/Soap/u/<version>", strict_slashes=False)
def soap_login(version: str) -> Response:
    """SOAP login: 200 with sessionId and serverUrl, or 500 with sf:exceptionCode INVALID_LOGIN."""
    state = get_state()
    username, password = parse_soap_login(request.get_data())
    if not state.credentials.password_ok(username, password):
        logger.info("SOAP login refused for %s", username)
        return Response(soap_fault("INVALID_LOGIN", INVALID_LOGIN), status=500, content_type="text/xml")
    session = state.sessions.issue(state.user_id)
    body = soap_login_response(session, request.host_url, version, state.credentials.username)
    return Response(body, status=200, content_type="text/xml; charset=utf-8")


def _oauth_error(error: str, description: str, status: int = 400) -> tuple[Response, int]:
    return jsonify({"error": error, "error_description": description}), status


def _jwt_user_id(state: EmulatorState) -> str:
    """The id of the active user a valid JWT bearer assertion names; raises OAuthError."""
    claims = verify_assertion(
        request.form.get("assertion"), consumer_key=state.credentials.jwt_issuer,
        public_key_pem=state.credentials.jwt_public_key, audiences=(*DEFAULT_AUDIENCES, request.host_url))
    users = [u for u in state.store.match_field("User", "Username", claims.subject) if u.get("IsActive")]
    if not users:
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    return str(users[0]["Id"])


@bp.post("/services/oauth2/token", strict_slashes=False)
def oauth_token() -> Response | tuple[Response, int]:
    """OAuth token endpoint: grant_type password, client_credentials or the JWT bearer grant."""
    state = get_state()
    grant = request.form.get("grant_type")
    if grant not in GRANTS:
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    if grant == JWT_BEARER_GRANT:
        try:
            user_id = _jwt_user_id(state)
        except OAuthError as exc:
            logger.info("JWT bearer login refused: %s", exc)
            return _oauth_error(exc.error, exc.description, exc.status)
        body = oauth_token_body(state.sessions.issue(user_id), request.host_url, state.signing_key)
        return jsonify({**body, "scope": "api"})
    client_id, client_secret = basic_auth(request.headers.get("Authorization"))
    client_id = request.form.get("client_id", client_id)
    client_secret = request.form.get("client_secret", client_secret)
    if not state.credentials.client_ok(client_id, client_secret):
        return _oauth_error("invalid_client", "invalid client credentials")
    if grant == "password" and not state.credentials.password_ok(
            request.form.get("username"), request.form.get("password")):
        return _oauth_error("invalid_grant", "authentication failure")
    session = state.sessions.issue(state.user_id)
    return jsonify(oauth_token_body(session, request.host_url, state.signing_key))
