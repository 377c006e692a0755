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
# Errors Salesforce answers without a ``fields`` entry (session, limit and availability failures).
NO_FIELDS_CODES = frozenset({"INVALID_SESSION_ID", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE"})


class ApiError(Exception):
    """An error the emulator answers with, in Salesforce's shape."""

    def __init__(self, code: str, message: str, fields: Sequence[str] = (), status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = list(fields)
        self.status = status if status is not None else STATUS_BY_CODE.get(code, 400)
        self.record_id: str | None = None  # the record a per-record error is about, when known

    def body(self) -> list[dict[str, Any]]:
        """The JSON body: a list holding one error (session, limit and availability errors carry no ``fields``)."""
        if self.status == 401 or self.code in NO_FIELDS_CODES:
            return [{"message": self.message, "errorCode": self.code}]
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]

    def record_error(self) -> dict[str, Any]:
        """The error as one entry of a per-record ``errors`` list (sObject Collections, flows)."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


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


def read_only_fields(names: Sequence[str]) -> ApiError:
    """A 400 INVALID_FIELD_FOR_INSERT_UPDATE naming fields that are not createable (insert) or updateable."""
    return ApiError("INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {', '.join(names)}. Please "
                    "check the security settings of this field and verify that it is read/write for your profile "
                    "or permission set.", names)


def invalid_type_for_operation(operation: str) -> ApiError:
    """A 400 INVALID_TYPE_FOR_OPERATION: the object does not support ``operation`` (inserted, updated, deleted)
    over the API, as for Omni-Channel's UserServicePresence."""
    return ApiError("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {operation}")


def exceeded_id_limit(limit: int = 200) -> ApiError:
    """A 400 EXCEEDED_ID_LIMIT: too many records in one sObject Collections request."""
    return ApiError("EXCEEDED_ID_LIMIT",
                    f"record limit reached. cannot submit more than {limit} records into this call")


def server_unavailable() -> ApiError:
    """A 503 SERVER_UNAVAILABLE (the emulator's "unavailable" fault)."""
    return ApiError("SERVER_UNAVAILABLE", "The server is temporarily unable to service your request due to "
                    "maintenance downtime or capacity problems. Please try again later.")


def request_limit_exceeded() -> ApiError:
    """A 403 REQUEST_LIMIT_EXCEEDED (daily API request limit)."""
    return ApiError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
