"""Composite requests: validate ``compositeRequest`` and resolve ``@{refId.path}`` references.

A reference names an earlier subrequest's response body and a path into it: ``@{NewAccount.id}``,
``@{Query.records[0].Id}``. A string that is exactly one reference takes the referenced value as is;
references inside longer strings (and in URLs) are replaced by their text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sfemu.errors import ApiError

MAX_SUBREQUESTS = 25
MAX_QUERIES = 5
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD")
REFERENCE_ID_RE = re.compile(r"^[A-Za-z0-9_]+$")
REFERENCE_RE = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]*)\}")
SEGMENT_RE = re.compile(r"^([^\[\]]+)((?:\[\d+\])*)$")
DATA_PATH_RE = re.compile(r"^/services/data/v\d+\.\d+(/[^?]*)")
ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed."


@dataclass(frozen=True)
class SubRequest:
    """One entry of ``compositeRequest``."""

    method: str
    url: str
    reference_id: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


class UnresolvedReference(Exception):
    """A reference names no successful earlier subrequest, or a path its body does not have."""


def _parser_error(message: str) -> ApiError:
    return ApiError("JSON_PARSER_ERROR", message)


def _is_query(sub: SubRequest) -> bool:
    m = DATA_PATH_RE.match(sub.url)
    rest = m.group(1) if m else ""
    return sub.method == "GET" and (rest.startswith(("/query", "/queryAll")) or rest.startswith("/composite/sobjects/"))


def parse_composite(body: Any) -> tuple[list[SubRequest], bool]:
    """The subrequests and the ``allOrNone`` flag of a composite body; raises a 400 ApiError when malformed."""
    if not isinstance(body, Mapping):
        raise _parser_error("The request body must be a JSON object")
    raw = body.get("compositeRequest")
    if not isinstance(raw, list) or not raw:
        raise _parser_error("'compositeRequest' is a required field.")
    if len(raw) > MAX_SUBREQUESTS:
        raise ApiError("LIMIT_EXCEEDED", f"Number of subrequests ({len(raw)}) exceeds the maximum of "
                       f"{MAX_SUBREQUESTS}.")
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool) or not isinstance(body.get("collateSubrequests", False), bool):
        raise _parser_error("allOrNone and collateSubrequests must be true or false")
    subs: list[SubRequest] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, Mapping):
            raise _parser_error("Each subrequest must be a JSON object")
        for key in ("method", "url", "referenceId"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise _parser_error(f"'{key}' is a required field.")
        ref, method, url = item["referenceId"], item["method"].upper(), item["url"]
        if not REFERENCE_ID_RE.match(ref):
            raise _parser_error(f"Invalid referenceId '{ref}': use only letters, numbers and underscores.")
        if ref in seen:
            raise _parser_error(f"Duplicate referenceId provided in the request: {ref}")
        if method not in METHODS:
            raise _parser_error(f"Invalid method '{item['method']}' for subrequest {ref}")
        m = DATA_PATH_RE.match(url)
        if m is None or m.group(1).rstrip("/") == "/composite":
            raise ApiError("INVALID_INPUT", f"Subrequest {ref}: the url must be a /services/data/vXX.X resource "
                           "other than /composite")
        headers = item.get("httpHeaders") or {}
        if not isinstance(headers, Mapping):
            raise _parser_error(f"httpHeaders of subrequest {ref} must be an object")
        seen.add(ref)
        subs.append(SubRequest(method, url, ref, item.get("body"), {str(k): str(v) for k, v in headers.items()}))
    queries = sum(_is_query(s) for s in subs)
    if queries > MAX_QUERIES:
        raise ApiError("LIMIT_EXCEEDED", f"Number of query subrequests ({queries}) exceeds the maximum of "
                       f"{MAX_QUERIES}.")
    return subs, all_or_none


def _follow(value: Any, path: str) -> Any:
    for segment in path.split("."):
        m = SEGMENT_RE.match(segment)
        if m is None:
            raise KeyError(segment)
        name, indexes = m.group(1), re.findall(r"\[(\d+)\]", m.group(2))
        if not isinstance(value, Mapping) or name not in value:
            raise KeyError(segment)
        value = value[name]
        for index in indexes:
            if not isinstance(value, list) or int(index) >= len(value):
                raise KeyError(segment)
            value = value[int(index)]
    return value


def resolve_reference(ref: str, path: str, results: Mapping[str, Any]) -> Any:
    """The value at ``path`` in the body of the successful subrequest ``ref``; raises UnresolvedReference."""
    expr = f"{ref}.{path}"
    if ref not in results:
        raise UnresolvedReference(f"Invalid reference specified. No value for {expr} found in {ref}. Provided "
                                  f"referenceId ('{ref}') does not name an earlier, successful subrequest.")
    try:
        return _follow(results[ref], path)
    except KeyError:
        raise UnresolvedReference(f"Invalid reference specified. No value for {expr} found in {ref}.") from None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def substitute(value: Any, results: Mapping[str, Any]) -> Any:
    """``value`` (a URL, or a JSON body) with every ``@{ref.path}`` replaced; raises UnresolvedReference."""
    if isinstance(value, str):
        whole = REFERENCE_RE.fullmatch(value)
        if whole:
            return resolve_reference(whole.group(1), whole.group(2), results)
        return REFERENCE_RE.sub(lambda m: _text(resolve_reference(m.group(1), m.group(2), results)), value)
    if isinstance(value, list):
        return [substitute(v, results) for v in value]
    if isinstance(value, Mapping):
        return {k: substitute(v, results) for k, v in value.items()}
    return value


def halted(message: str = ROLLED_BACK) -> list[dict[str, str]]:
    """The body of a subrequest that was not run or was rolled back."""
    return [{"errorCode": "PROCESSING_HALTED", "message": message}]
