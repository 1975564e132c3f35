"""The Exact Online emulator: a Flask app faithful to Exact on the wire (``dunning sandbox exact``, tests, demo).

Serves any host (so every country site works as a base URL): ``/api/oauth2/auth`` + ``/api/oauth2/token``
(``oauth.py``), ``/api/v1/current/Me`` and ``/api/v1/{division}/...`` OData v3 reads with ``$select``
required, ``$filter``, ``$top`` and ``__next`` paging (60 rows on CRUD, 1,000 on bulk/, sync/ and read/),
per-division minute/day limits with Exact's ``X-RateLimit-*`` headers and 429, the hourly error cap, webhook
subscriptions with the empty validation POST, and the write endpoints. Reads: ``api.py``; writes:
``writeback.py``; state and the common sandbox API: ``state.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, redirect, request
from markupsafe import escape

from sandboxes.exact import api, oauth
from sandboxes.exact.limits import check_limits, record_status
from sandboxes.exact.query import ODataError
from sandboxes.exact.render import dumps, error_response, json_response, to_wire
from sandboxes.exact.seed import seed_state
from sandboxes.exact.state import ExactState
from sandboxes.exact.writeback import WRITES


def _dispatch(state: ExactState, division: str, resource: str) -> Response:
    """A GET on an entity set goes to ``api.read``, a write to its handler in ``writeback.WRITES``."""
    # docs/providers/exact.md#requests: Atom/XML by default
    if "application/json" not in request.headers.get("Accept", ""):
        return Response('<feed xmlns="http://www.w3.org/2005/Atom"/>', content_type="application/atom+xml")
    name, key = api.split_resource(resource)
    if request.method == "GET" and key is None and name in api.READS:
        return api.read(state, division, name, api.READS[name])
    handler = WRITES.get((request.method, name))
    if handler is None:
        return error_response(404 if request.method == "GET" else 405, f"Resource not found: {name}")
    body = request.get_json(silent=True) if request.method in ("POST", "PUT") else None
    if request.method in ("POST", "PUT") and not isinstance(body, dict):
        message = "Error processing request stream. The request should be a valid top-level resource object."
        return error_response(400, message)
    status, payload = handler(state, division, key, body or {})
    if status == 204:
        return Response(status=204)
    return json_response({"d": to_wire(payload)}, status) if status < 400 else error_response(status, str(payload))


def create_app(
    *,
    client_id: str = "exact-client-id",
    client_secret: str = "exact-client-secret",  # noqa: S107
    auto_consent: bool = True,
    seed: int = 42,
    state_path: Path | None = None,
    clock: Callable[[], datetime] | None = None,
    rate_limits: bool = True,
    **options: Any,
) -> Flask:
    """Options: ``divisions`` (3), ``items_per_division`` (300), ``accounts_per_division`` (40), ``minute_limit``
    (60), ``day_limit`` (5000), ``token_calls_per_day`` (200), ``error_cap`` (10), ``webhook_key``, ``sizes`` (open
    receivables per division, one per division: replaces ``divisions`` x ``items_per_division``)."""
    state = ExactState(
        client_id=client_id,
        client_secret=client_secret,
        clock=clock or (lambda: datetime.now(UTC)),
        seed=seed,
        state_path=state_path,
        options={"rate_limits": rate_limits, **options},
    )
    if not state.load():
        seed_state(
            state,
            divisions=int(options.get("divisions", 3)),
            items_per_division=int(options.get("items_per_division", 300)),
            accounts_per_division=int(options.get("accounts_per_division", 40)),
            sizes=options.get("sizes"),
        )
        state.save()
    app = Flask("exact-sandbox")
    app.extensions["sandbox"] = state

    @app.get("/api/oauth2/auth")
    def authorize() -> Any:
        if request.args.get("client_id") != client_id or request.args.get("response_type") != "code":
            return error_response(400, "invalid client_id or response_type")
        redirect_uri = request.args.get("redirect_uri", "")
        if not auto_consent and request.args.get("consent") != "1":
            return Response(
                f'<form><input type="hidden" name="consent" value="1">{_hidden(request.args)}'
                "<button>Toestaan</button></form>",
                content_type="text/html",
            )
        code = oauth.issue_code(state, redirect_uri)
        params = {"code": code, **({"state": request.args["state"]} if "state" in request.args else {})}
        return redirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(params)}")

    @app.post("/api/oauth2/token")
    def token() -> Response:
        status, payload, headers = oauth.token(state, request.form)
        state.request_log.append(("POST", request.path, status))
        return Response(dumps(payload), status=status, headers=headers, content_type="application/json")

    @app.route("/api/v1/<division>/<path:resource>", methods=["GET", "POST", "PUT", "DELETE"])
    def entity(division: str, resource: str) -> Response:
        with state.lock:
            user = oauth.bearer_user(state, request.headers.get("Authorization"))
            endpoint = api.split_resource(resource)[0]
            limited = check_limits(state, division, endpoint)
            if limited is not None:
                response = limited
            elif user is None:
                response = error_response(401, "Authentication Required")
            elif division == "current" and resource == "Me":
                me = {k: v for k, v in state.db["user"].items()} | {"ServerTime": state.now(), "ServerUtcOffset": 1}
                response = json_response({"d": {"results": [to_wire(me)]}})
            elif division not in state.tenant_ids():
                response = error_response(
                    403, "Forbidden - User division is not within division scope", {"Reason": "NoDivisionAccess"}
                )
            else:
                try:
                    response = _dispatch(state, division, resource)
                except ODataError as exc:
                    response = error_response(400, str(exc))
            record_status(state, division, endpoint, response)
            state.request_log.append((request.method, request.path, response.status_code))
            return response

    return app


def _hidden(args: Any) -> str:
    return "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in args.items())
