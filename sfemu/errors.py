"""Salesforce REST error shapes: ``[{"message", "errorCode", "fields"}]`` with the matching status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The HTTP status Salesforce answers with for each error code (400 unless listed).
STATUS_BY_CODE = {
    "INVALID_SESSION_ID": 401,
    "REQUEST_LIMIT_EXCEEDED": 403,
    "INSUFFICIENT_ACCESS": 403,
    "NOT_FOUND": 404,
    "ENTITY_IS_DELETED": 404,
    "METHOD_NOT_ALLOWED": 405,
    "UNKNOWN_EXCEPTION": 500,
    "SERVER_UNAVAILABLE": 503,
}


class ApiError(Exception):
    """An error the emulator answers with, in Salesforce's shape."""

    def __init__(self, code: str, message: str, fields: Sequence[str] = (), status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = list(fields)
        self.status = status if status is not None else STATUS_BY_CODE.get(code, 400)

    def body(self) -> list[dict[str, Any]]:
        """The JSON body: a list holding one error (a 401 carries no ``fields``, as Salesforce's does not)."""
        if self.status == 401:
            return [{"message": self.message, "errorCode": self.code}]
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]


def malformed_query(message: str) -> ApiError:
    """A 400 MALFORMED_QUERY."""
    return ApiError("MALFORMED_QUERY", message)


def malformed_search(message: str) -> ApiError:
    """A 400 MALFORMED_SEARCH."""
    return ApiError("MALFORMED_SEARCH", message)


def invalid_field(message: str, fields: Sequence[str] = ()) -> ApiError:
    """A 400 INVALID_FIELD."""
    return ApiError("INVALID_FIELD", message, fields)


def invalid_type(sobject: str) -> ApiError:
    """A 400 INVALID_TYPE for an unknown sObject in a query or search."""
    return ApiError("INVALID_TYPE", f"sObject type '{sobject}' is not supported. If you are attempting to use "
                    "a custom object, be sure to append the '__c' after the entity name.")


def not_found(message: str = "The requested resource does not exist") -> ApiError:
    """A 404 NOT_FOUND."""
    return ApiError("NOT_FOUND", message)


def invalid_session() -> ApiError:
    """A 401 INVALID_SESSION_ID."""
    return ApiError("INVALID_SESSION_ID", "Session expired or invalid")
