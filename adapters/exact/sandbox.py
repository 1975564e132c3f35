"""The Exact Online emulator: a Flask app faithful to Exact on the wire (``dunning sandbox exact``, tests, demo).

Serves any host (so every country site works as a base URL): ``/api/oauth2/auth`` + ``/api/oauth2/token``
(``sandbox_oauth.py``), ``/api/v1/current/Me`` and ``/api/v1/{division}/...`` OData v3 reads with ``$select``
required, ``$filter``, ``$top`` and ``__next`` paging (60 rows on CRUD, 1,000 on bulk/, sync/ and read/),
per-division minute/day limits with Exact's ``X-RateLimit-*`` headers and 429, the hourly error cap, webhook
subscriptions with the empty validation POST, and the write endpoints. Entity rows: ``sandbox_rows.py``;
state and the common sandbox API: ``sandbox_state.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import Flask, Response, redirect, request
from markupsafe import escape

from adapters.exact import sandbox_oauth, sandbox_rows
from adapters.exact.sandbox_limits import check_limits, record_status
from adapters.exact.sandbox_odata import ODataError, dumps, error_body, parse_filter, to_wire
from adapters.exact.sandbox_seed import seed_state
from adapters.exact.sandbox_state import ExactState

SELECT_MESSAGE = "Please add a $select or a $top=1 statement to the query string"


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(payload), status=status, headers=headers or {}, content_type="application/json")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(error_body(message), status=status, headers=headers or {}, content_type="application/json")


def _read(state: ExactState, division: str, resource: str, spec: sandbox_rows.Read) -> Response:
    args = request.args
    select = args.get("$select")
    top = args.get("$top")
    if not select and (spec.select_always or top != "1"):
        return _error(400, SELECT_MESSAGE)  # exact.md §3.3
    fields = [f.strip() for f in select.split(",")] if select else list(spec.fields)
    unknown = [f for f in fields if f not in spec.fields]
    if unknown:
        return _error(400, f"Property '{unknown[0]}' does not exist on type '{resource}'.")
    flt = args.get("$filter")
    if spec.mandatory_filter and not flt:
        return _error(
            400,
            "This endpoint has mandatory filtering applied. A GET request for this endpoint must "
            "have a $filter parameter with one of the following fields in the url: ID, Code, Name, "
            "Modified",
        )
    rows = spec.rows(state, division)
    if flt:
        predicate, _ = parse_filter(flt, spec.filterable)
        rows = [r for r in rows if predicate(r)]
    rows.sort(key=lambda r: r[spec.key])
    skip = args.get("$skiptoken")
    if skip:
        after: Any = int(skip.rstrip("L")) if spec.key == "Timestamp" else skip.removeprefix("guid'").rstrip("'")
        rows = [r for r in rows if r[spec.key] > after]
    limit = min(int(top), spec.page) if top else spec.page
    page, more = rows[:limit], len(rows) > limit and not top
    body: dict[str, Any] = {"results": [to_wire({f: r.get(f) for f in fields}) for r in page]}
    if more:
        last = page[-1][spec.key]
        token = f"{last}L" if spec.key == "Timestamp" else f"guid'{last}'"
        params = {k: v for k, v in args.items() if k != "$skiptoken"} | {"$skiptoken": token}
        query = urlencode(params, safe="$,'", quote_via=quote)  # Exact's links keep $, commas and quotes
        body["__next"] = f"{request.base_url}?{query}"
    return _json({"d": body})


def _api(state: ExactState, division: str, resource: str) -> Response:
    if "application/json" not in request.headers.get("Accept", ""):  # exact.md §3.3: Atom/XML by default
        return Response('<feed xmlns="http://www.w3.org/2005/Atom"/>', content_type="application/atom+xml")
    name, key = sandbox_rows.split_resource(resource)
    if request.method == "GET" and key is None and name in sandbox_rows.READS:
        return _read(state, division, name, sandbox_rows.READS[name])
    handler = sandbox_rows.WRITES.get((request.method, name))
    if handler is None:
        return _error(404 if request.method == "GET" else 405, f"Resource not found: {name}")
    body = request.get_json(silent=True) if request.method in ("POST", "PUT") else None
    if request.method in ("POST", "PUT") and not isinstance(body, dict):
        return _error(400, "Error processing request stream. The request should be a valid top-level resource object.")
    status, payload = handler(state, division, key, body or {})
    if status == 204:
        return Response(status=204)
    return _json({"d": to_wire(payload)}, status) if status < 400 else _error(status, str(payload))


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
    (60), ``day_limit`` (5000), ``token_calls_per_day`` (200), ``error_cap`` (10), ``webhook_key``."""
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
        )
        state.save()
    app = Flask("exact-sandbox")
    app.extensions["sandbox"] = state

    @app.get("/api/oauth2/auth")
    def authorize() -> Any:
        if request.args.get("client_id") != client_id or request.args.get("response_type") != "code":
            return _error(400, "invalid client_id or response_type")
        redirect_uri = request.args.get("redirect_uri", "")
        if not auto_consent and request.args.get("consent") != "1":
            return Response(
                f'<form><input type="hidden" name="consent" value="1">{_hidden(request.args)}'
                "<button>Toestaan</button></form>",
                content_type="text/html",
            )
        code = sandbox_oauth.issue_code(state, redirect_uri)
        params = {"code": code, **({"state": request.args["state"]} if "state" in request.args else {})}
        return redirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(params)}")

    @app.post("/api/oauth2/token")
    def token() -> Response:
        status, payload, headers = sandbox_oauth.token(state, request.form)
        state.request_log.append(("POST", request.path, status))
        return Response(dumps(payload), status=status, headers=headers, content_type="application/json")

    @app.route("/api/v1/<division>/<path:resource>", methods=["GET", "POST", "PUT", "DELETE"])
    def api(division: str, resource: str) -> Response:
        with state.lock:
            user = sandbox_oauth.bearer_user(state, request.headers.get("Authorization"))
            endpoint = sandbox_rows.split_resource(resource)[0]
            limited = check_limits(state, division, endpoint)
            if limited is not None:
                response = limited
            elif user is None:
                response = _error(401, "Authentication Required")
            elif division == "current" and resource == "Me":
                me = {k: v for k, v in state.db["user"].items()} | {"ServerTime": state.now(), "ServerUtcOffset": 1}
                response = _json({"d": {"results": [to_wire(me)]}})
            elif division not in state.tenant_ids():
                response = _error(
                    403, "Forbidden - User division is not within division scope", {"Reason": "NoDivisionAccess"}
                )
            else:
                try:
                    response = _api(state, division, resource)
                except ODataError as exc:
                    response = _error(400, str(exc))
            record_status(state, division, endpoint, response)
            state.request_log.append((request.method, request.path, response.status_code))
            return response

    return app


def _hidden(args: Any) -> str:
    return "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in args.items())
