"""The Switchboard web process: login, the web phone page, and Socket.IO rooms for agents."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, Response
from flask_socketio import SocketIO

from switchboard.config import ConfigError, Settings, load_settings
from switchboard.store import Store
from web import (
    admin,
    auth,
    call_control,
    calls,
    calls_api,
    current_call,
    directory,
    metrics,
    phone,
    pick,
    presence,
    profiles,
    routing_view,
    workflows,
)
from web.context import install
from web.errors import register_error_handlers
from web.sockets import register_namespaces

logger = logging.getLogger(__name__)

__all__ = ["create_app", "get_socketio"]


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, or '' when it has none."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _content_security_policy(settings: Settings) -> str:
    """Scripts, styles and connections only from here (plus the SIP WebSocket)."""
    connect = " ".join(filter(None, ["'self'", _origin(settings.sip_ws_url), _origin(settings.public_url)]))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'self'"
    )


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> Flask:
    """Build the web app; an empty ``settings.redis_url`` runs Socket.IO without a message queue."""
    settings = settings or load_settings()
    if not settings.secret_key:
        raise ConfigError("SWITCHBOARD_SECRET_KEY is required: it signs sessions and derives SIP passwords")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="switchboard_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE=settings.session_cookie_samesite or "Lax",
        SESSION_COOKIE_SECURE=(settings.public_url.startswith("https://")
                               or (settings.session_cookie_samesite or "").lower() == "none"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    install(app, settings, store or Store(settings.database_url))
    app.register_blueprint(auth.bp)
    app.register_blueprint(phone.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(calls.bp)
    app.register_blueprint(presence.bp)
    app.register_blueprint(profiles.bp)
    app.register_blueprint(calls_api.bp)
    app.register_blueprint(call_control.bp)
    app.register_blueprint(pick.bp)
    app.register_blueprint(current_call.bp)
    app.register_blueprint(workflows.bp)
    app.register_blueprint(directory.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(routing_view.bp)
    register_error_handlers(app)

    csp = _content_security_policy(settings)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    socketio_options: dict[str, object] = {"async_mode": "threading"}
    if settings.redis_url:
        socketio_options.update(message_queue=settings.redis_url, channel=settings.socketio_channel)
    if settings.public_url:
        socketio_options["cors_allowed_origins"] = [_origin(settings.public_url)]
    socketio = SocketIO(app, **socketio_options)
    register_namespaces(socketio)
    logger.debug("web app created (message queue: %s)", "redis" if settings.redis_url else "none")
    return app


def get_socketio(app: Flask) -> SocketIO:
    """The Flask-SocketIO server of an app made by create_app()."""
    return app.extensions["socketio"]
