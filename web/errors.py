"""Errors that carry data: JSON bodies with a stable ``error`` code for /api/*."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


class ApiError(Exception):
    """An API failure with a stable error code, a human message, an HTTP status and details."""

    def __init__(self, error: str, message: str, status: int = 400, **details: Any) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.status = status
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of this error."""
        return {"error": self.error, "message": self.message, **self.details}


def is_api_request() -> bool:
    """True when the current request is for the JSON API."""
    return request.path.startswith(API_PREFIX)


def error_code(exc: HTTPException) -> str:
    """A snake_case code from an HTTP exception's name: ``Not Found`` -> ``not_found``."""
    return re.sub(r"[^a-z0-9]+", "_", (exc.name or "error").lower()).strip("_")


def _api_error(exc: ApiError) -> tuple[Response, int]:
    return jsonify(exc.to_dict()), exc.status


def _http_error(exc: HTTPException) -> Any:
    if not is_api_request():
        return exc
    return jsonify({"error": error_code(exc), "message": exc.description}), exc.code or 500


def _internal_error(exc: InternalServerError) -> Any:
    original = getattr(exc, "original_exception", None)
    if original is not None:
        logger.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
    if not is_api_request():
        return exc
    return jsonify({"error": "internal_error", "message": "The server failed to handle this request."}), 500


def register_error_handlers(app: Flask) -> None:
    """Make /api/* errors JSON with a stable ``error`` code."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(InternalServerError, _internal_error)
    app.register_error_handler(HTTPException, _http_error)


def json_body() -> dict[str, Any]:
    """The request's JSON object (400 ``bad_request`` unless it is one)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("bad_request", "Send a JSON object.", 400)
    return data
