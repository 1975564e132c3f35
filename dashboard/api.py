"""The read-only JSON API under ``/api/v1/``: the organisation's administrations and worklist, for bearer tokens.

Reads through ``connector.queries`` like the pages; authenticated by the tokens in ``DUNNING_API_TOKENS``
(compared in constant time), not by the dashboard login.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, jsonify, request

from connector import queries
from dashboard.common import services

bp = Blueprint("api", __name__)
UNAUTHORISED = "missing or wrong bearer token: set DUNNING_API_TOKENS and send it"


def _authorised() -> bool:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip().encode()
    tokens = [t.get_secret_value().encode() for t in services().runtime.settings.api_tokens]
    return bool(token) and any(hmac.compare_digest(token, t) for t in tokens)


@bp.get("/api/v1/administrations")
def administrations() -> Any:
    if not _authorised():
        return jsonify(error=UNAUTHORISED), 401
    ctx = services()
    return jsonify(queries.as_dicts(queries.administrations(ctx.runtime, ctx.org_id)))


@bp.get("/api/v1/worklist")
def worklist() -> Any:
    if not _authorised():
        return jsonify(error=UNAUTHORISED), 401
    ctx = services()
    return jsonify(queries.worklist(ctx.runtime, ctx.org_id))
