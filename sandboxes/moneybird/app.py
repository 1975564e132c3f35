"""Moneybird sandbox: a stateful Flask app that behaves like Moneybird on the wire (``create_app(**options)``).

Served by ``sandboxes.runner`` for ``dunning demo``, ``dunning sandbox moneybird``, the adapter tests and the
benchmarks; the Moneybird adapter talks to it through ``DUNNING_MONEYBIRD__BASE_URL`` exactly as to
``https://moneybird.com``. This module holds the app factory, the OAuth endpoints (``/oauth/authorize``,
``/oauth/token``) and the gate every ``/api/v2`` call passes (bearer token, rate limit, request log); the API
routes are in ``api.py`` (reads) and ``writeback.py`` (writes), the emulator state (``app.extensions["sandbox"]``)
in ``state.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, request
from werkzeug.routing import BaseConverter

from sandboxes.moneybird import writeback  # noqa: F401 - registers the write-back routes on `api`
from sandboxes.moneybird.api import api
from sandboxes.moneybird.render import SandboxError
from sandboxes.moneybird.state import MoneybirdSandbox
from sandboxes.moneybird.webhooks import DeliveryWorker
from sandboxes.pdf import invoice_pdf


class DigitsConverter(BaseConverter):
    regex = r"\d+"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def create_app(
    *,
    client_id: str = "sandbox-client-id",
    client_secret: str = "sandbox-client-secret",  # noqa: S107 - sandbox default
    auto_consent: bool = True,
    seed: int = 42,
    state_path: Path | str | None = None,
    clock: Callable[[], datetime] | None = None,
    rate_limits: bool = True,
    rate_limit_per_window: int = 150,
    administrations: int = 2,
    invoices_per_administration: int = 300,
    contacts_per_administration: int = 40,
    duplicate_rate: float = 0.0,
    background_delivery: bool = False,
    **state_options: Any,
) -> Flask:
    """Build the emulator. ``state_options`` go to ``MoneybirdSandbox`` (``probe_webhooks``, ``public_url``,
    ``auto_reminders``, ``webhook_timeout``, ``rate_limit_window_seconds``, ``sizes``: invoices per administration,
    one each, replacing ``administrations`` x ``invoices_per_administration``)."""
    state = MoneybirdSandbox(
        client_id=client_id,
        client_secret=client_secret,
        seed=seed,
        administrations=administrations,
        invoices_per_administration=invoices_per_administration,
        contacts_per_administration=contacts_per_administration,
        state_path=state_path,
        clock=clock,
        rate_limits=rate_limits,
        rate_limit_per_window=rate_limit_per_window,
        duplicate_rate=duplicate_rate,
        **state_options,
    )
    app = Flask(__name__)
    app.url_map.converters["digits"] = DigitsConverter
    app.url_map.strict_slashes = False
    app.extensions["sandbox"] = state
    app.config["SANDBOX_AUTO_CONSENT"] = auto_consent
    _register_oauth(app, state)
    _register_gate(app, state)
    app.register_blueprint(api)
    _register_downloads(app, state)
    if background_delivery:
        worker = DeliveryWorker(lambda: state.deliver_webhooks(respect_backoff=True))
        worker.start()
        app.extensions["sandbox_worker"] = worker
    return app


def _register_downloads(app: Flask, state: MoneybirdSandbox) -> None:
    """Where ``download_pdf`` redirects: the PDF for 30 seconds, then 403 like an expired signed URL."""

    @app.get("/downloads/<digits:adm_id>/sales_invoices/<digits:invoice_id>.pdf")
    def invoice_pdf_file(adm_id: str, invoice_id: str) -> Response:
        expires = request.args.get("expires", "")
        with state.lock:
            if not expires.isdigit() or int(expires) < int(state.now().timestamp()):
                return Response("Request has expired", status=403, mimetype="text/plain")
            info = state.administration(adm_id)["info"]
            inv = state.invoice_record(adm_id, invoice_id)
            total = Decimal(inv["excl_cents"] + inv["tax_cents"]) / 100
            body = invoice_pdf(
                info["name"], inv["invoice_id"] or f"draft {inv['draft_id']}", f"{total:.2f}", info["currency"]
            )
        return Response(body, mimetype="application/pdf")


def _register_gate(app: Flask, state: MoneybirdSandbox) -> None:
    @app.before_request
    def gate() -> Response | None:
        if not request.path.startswith("/api/v2/"):
            return None
        with state.lock:
            state.api_calls += 1
            state.tick()
            grant = state.oauth.scopes_of(request.headers.get("Authorization"))
            if grant is None:
                # docs/providers/moneybird.md#errors
                return json_response({"error": "The access token is invalid"}, 401)
            token, scopes = grant
            if state.rate_limits:
                throttled = state.limiter.admit(token, int(state.now().timestamp()))
                if throttled is not None:
                    return json_response("Retry later", 429, throttled)  # docs/providers/moneybird.md#rate-limits
        g.scopes = scopes
        return None

    @app.after_request
    def log_call(response: Response) -> Response:
        if request.path.startswith("/api/v2/"):
            with state.lock:
                state.request_log.append((request.method, request.path, response.status_code))
        return response

    @app.errorhandler(SandboxError)
    def sandbox_error(error: SandboxError) -> Response:
        return json_response(error.body, error.status)

    @app.errorhandler(404)
    def not_found(_: Exception) -> Response:
        return json_response({"error": "Route not found"}, 404)

    @app.errorhandler(405)
    def not_allowed(_: Exception) -> Response:
        return json_response({"error": "Method not allowed"}, 405)


CONSENT_PAGE = """<!doctype html><html><head><title>Moneybird sandbox - toegang verlenen</title></head>
<body><h1>Moneybird sandbox</h1><p>De applicatie <b>{client_id}</b> vraagt toegang tot: {scope}</p>
<form method="post" action="/oauth/authorize">{fields}
<button type="submit" name="decision" value="allow">Toegang verlenen</button>
<button type="submit" name="decision" value="deny">Weigeren</button></form></body></html>"""


def _register_oauth(app: Flask, state: MoneybirdSandbox) -> None:
    def redirect_with(redirect_uri: str, params: dict[str, str]) -> Response:
        separator = "&" if "?" in redirect_uri else "?"
        return Response(status=302, headers={"Location": redirect_uri + separator + urlencode(params)})

    def grant(values: dict[str, str]) -> Response:
        redirect_uri = values.get("redirect_uri", "")
        if values.get("client_id") != state.oauth.client_id or not redirect_uri:
            return Response(
                "Client authentication failed: unknown client or missing redirect_uri.", 400, mimetype="text/plain"
            )
        echo = {"state": values["state"]} if values.get("state") is not None else {}
        if values.get("response_type") != "code":
            return redirect_with(redirect_uri, {"error": "unsupported_response_type", **echo})
        scope = state.oauth.normalise_scope(values.get("scope"))
        if scope is None:
            return redirect_with(redirect_uri, {"error": "invalid_scope", **echo})
        if request.method == "GET" and not app.config["SANDBOX_AUTO_CONSENT"]:
            fields = "".join(
                f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                for k, v in values.items()
                if k != "decision"
            )
            return Response(
                CONSENT_PAGE.format(client_id=escape(values["client_id"]), scope=escape(scope), fields=fields),
                mimetype="text/html",
            )
        if values.get("decision") == "deny":
            return redirect_with(redirect_uri, {"error": "access_denied", **echo})
        with state.lock:
            code = state.oauth.issue_code(values["client_id"], redirect_uri, scope, int(state.now().timestamp()))
            state.save()
        if redirect_uri == "urn:ietf:wg:oauth:2.0:oob":  # docs/providers/moneybird.md#endpoints: the code is displayed
            return Response(
                f"<html><body><p>Autorisatiecode: <code>{escape(code)}</code></p></body></html>", mimetype="text/html"
            )
        return redirect_with(redirect_uri, {"code": code, **echo})

    @app.get("/oauth/authorize")
    def authorize() -> Response:
        return grant(request.args.to_dict())

    @app.post("/oauth/authorize")
    def consent() -> Response:
        return grant(request.form.to_dict())

    @app.post("/oauth/token")
    def token() -> Response:
        with state.lock:
            status, body = state.oauth.token_endpoint(request.form.to_dict(), int(state.now().timestamp()))
            if status == 200:
                state.save()
        return json_response(body, status, {"Cache-Control": "no-store", "Pragma": "no-cache"})
