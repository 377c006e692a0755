"""``POST /services/data/vXX.X/composite``: up to 25 subrequests run inside the emulator, one API request."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from sfemu.api_guard import SUBREQUEST_SESSION, authenticate_and_count
from sfemu.auth import Session
from sfemu.composite import SubRequest, UnresolvedReference, halted, parse_composite, substitute
from sfemu.errors import ApiError
from sfemu.state import get_state

logger = logging.getLogger(__name__)

bp = Blueprint("sfemu_composite", __name__, url_prefix="/services/data/v<version>/composite")
bp.before_request(authenticate_and_count)


def _dispatch(app: Flask, sub: SubRequest, url: str, body: Any, session: Session) -> dict[str, Any]:
    """Answer one subrequest through the app's own routes, in a fresh app context (its own ``g``)."""
    kwargs: dict[str, Any] = {"method": sub.method, "headers": dict(sub.headers),
                              "environ_overrides": {SUBREQUEST_SESSION: session}}
    if body is not None:
        kwargs["json"] = body
    with app.app_context():
        response = app.test_client().open(url, **kwargs)
    data = response.get_data()
    headers = {"Location": response.headers["Location"]} if "Location" in response.headers else {}
    return {"body": json.loads(data) if data else None, "httpHeaders": headers,
            "httpStatusCode": response.status_code, "referenceId": sub.reference_id}


def _halted_answer(sub: SubRequest, message: str | None = None) -> dict[str, Any]:
    """The answer of a subrequest that was rolled back, not run, or referred to what is not there."""
    return {"body": halted(message) if message else halted(), "httpHeaders": {}, "httpStatusCode": 400,
            "referenceId": sub.reference_id}


@bp.post("/", strict_slashes=False)
def composite(version: str) -> Response:
    """Run the subrequests in order: ``{"compositeResponse": [{"body", "httpHeaders", "httpStatusCode",
    "referenceId"}]}``; with allOrNone the first failure rolls everything back."""
    try:
        payload = json.loads(request.get_data() or b"{}")
    except ValueError as exc:
        raise ApiError("JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}") from None
    subs, all_or_none = parse_composite(payload)
    state = get_state()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    results: dict[str, Any] = {}
    answers: list[dict[str, Any]] = []
    with state.store.lock:
        snap = state.store.snapshot() if all_or_none else None
        for sub in subs:
            try:
                url, body = substitute(sub.url, results), substitute(sub.body, results)
            except UnresolvedReference as exc:
                answer = _halted_answer(sub, str(exc))
            else:
                answer = _dispatch(app, sub, url, body, g.sf_session)
            answers.append(answer)
            if answer["httpStatusCode"] < 400:
                results[sub.reference_id] = answer["body"]
            elif snap is not None:
                state.store.restore(snap)
                failed = len(answers) - 1
                answers = [answers[i] if i == failed else _halted_answer(s) for i, s in enumerate(subs)]
                break
    logger.debug("composite of %s subrequests answered", len(subs))
    return jsonify({"compositeResponse": answers})
