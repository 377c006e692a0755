"""sObject Collections endpoints under ``/services/data/vXX.X/composite/sobjects``: one API request each."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from sfemu import sobject_collections as coll
from sfemu.api_guard import authenticate_and_count
from sfemu.errors import ApiError
from sfemu.state import get_state

logger = logging.getLogger(__name__)

bp = Blueprint("sfemu_collections", __name__, url_prefix="/services/data/v<version>/composite/sobjects")
bp.before_request(authenticate_and_count)


def _body() -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError as exc:
        raise ApiError("JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError("JSON_PARSER_ERROR", "The request body must be a JSON object")
    return body


def _split(param: str | None) -> list[str]:
    return [p.strip() for p in (param or "").split(",") if p.strip()]


@bp.post("/", strict_slashes=False)
def create(version: str) -> Response:
    """Create up to 200 records: 200 with a SaveResult per record."""
    state = get_state()
    body = _body()
    ops = coll.create_operations(state.store, body, g.sf_session.user_id)
    return jsonify(coll.run_batch(state.store, ops, coll.all_or_none_flag(body.get("allOrNone"))))


@bp.patch("/", strict_slashes=False)
def update(version: str) -> Response:
    """Update up to 200 records by Id: 200 with a SaveResult per record."""
    state = get_state()
    body = _body()
    ops = coll.update_operations(state.store, body)
    return jsonify(coll.run_batch(state.store, ops, coll.all_or_none_flag(body.get("allOrNone"))))


@bp.patch("/<sobject>/<field>", strict_slashes=False)
def upsert(version: str, sobject: str, field: str) -> Response:
    """Upsert up to 200 records of one object by an external id: 200 with an UpsertResult per record."""
    state = get_state()
    body = _body()
    ops = coll.upsert_operations(state.store, sobject, field, body, g.sf_session.user_id)
    return jsonify(coll.run_batch(state.store, ops, coll.all_or_none_flag(body.get("allOrNone"))))


@bp.delete("/", strict_slashes=False)
def delete(version: str) -> Response:
    """Delete up to 200 records: ``?ids=a,b&allOrNone=true``; 200 with a DeleteResult per id."""
    state = get_state()
    ops = coll.delete_operations(state.store, _split(request.args.get("ids")))
    return jsonify(coll.run_batch(state.store, ops, coll.all_or_none_flag(request.args.get("allOrNone"))))


@bp.get("/<sobject>", strict_slashes=False)
def retrieve(version: str, sobject: str) -> Response:
    """Records of one object by id: ``?ids=a,b&fields=Id,Name``; null for ids not found."""
    state = get_state()
    return jsonify(coll.retrieve(state.store, sobject, _split(request.args.get("ids")),
                                 _split(request.args.get("fields")), version))


@bp.post("/<sobject>", strict_slashes=False)
def retrieve_many(version: str, sobject: str) -> Response:
    """Like the GET, with ``{"ids": [...], "fields": [...]}`` in the body (up to 2,000 ids)."""
    state = get_state()
    body = _body()
    ids, fields = body.get("ids"), body.get("fields")
    if not isinstance(ids, list) or not isinstance(fields, list):
        raise ApiError("JSON_PARSER_ERROR", "The request body needs 'ids' and 'fields' lists")
    return jsonify(coll.retrieve(state.store, sobject, [str(i) for i in ids], [str(f) for f in fields], version))
