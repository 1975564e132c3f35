"""Xero emulator (``dunning sandbox xero``): identity (authorize, token, revocation, connections) and the API gate.

``create_app(**options)`` builds a Flask app that stands in for login.xero.com, identity.xero.com and
api.xero.com on one host: the adapter's three URL settings all point at it. Every ``/api.xro/2.0`` call passes
the gate here (Bearer token, ``xero-tenant-id``, scope, rate limits with Xero's headers,
docs/providers/xero.md#rate-limits, docs/providers/xero.md#errors) before the accounting routes of ``api.py`` (reads)
and ``writeback.py`` (writes). The state object is ``app.extensions["sandbox"]`` (``XeroSandbox``, ``state.py``).
"""

from __future__ import annotations

import base64
import html
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flask import Flask, Response, g, redirect, request

from sandboxes.xero.api import register_api
from sandboxes.xero.oauth import TokenError
from sandboxes.xero.persist import load_state, save_state
from sandboxes.xero.render import error, json_response
from sandboxes.xero.seed import seed_books
from sandboxes.xero.state import XeroSandbox
from sandboxes.xero.writeback import register_writeback

API_PREFIX = "/api.xro/2.0"
# Which scopes open which resources; granular and broad (docs/providers/xero.md#scopes).
_TRANSACTIONS = ("accounting.transactions", "accounting.transactions.read")
_INVOICES = ("accounting.invoices", "accounting.invoices.read", *_TRANSACTIONS)
_PAYMENTS = ("accounting.payments", "accounting.payments.read", *_TRANSACTIONS)
_CONTACTS = ("accounting.contacts", "accounting.contacts.read")
_SETTINGS = ("accounting.settings", "accounting.settings.read")
_READ_SCOPES = {
    "Invoices": _INVOICES,
    "CreditNotes": _INVOICES,
    "Payments": _PAYMENTS,
    "Overpayments": _PAYMENTS,
    "Prepayments": _PAYMENTS,
    "Contacts": _CONTACTS,
    "ContactGroups": _CONTACTS,
    "Organisation": _SETTINGS,
    "InvoiceReminders": _SETTINGS,
}


def create_app(
    *,
    client_id: str = "sandbox-client",
    client_secret: str = "sandbox-secret",  # noqa: S107 - the emulator's fixed demo secret
    auto_consent: bool = True,
    seed: int = 42,
    state_path: Path | None = None,
    clock: Callable[[], datetime] | None = None,
    rate_limits: bool = True,
    tenants: int = 2,
    invoices_per_tenant: int = 300,
    contacts_per_tenant: int = 40,
    minute_limit: int = 60,
    day_limit: int = 5000,
    app_minute_limit: int = 10000,
    concurrent_limit: int = 5,
    sizes: Sequence[int] | None = None,
) -> Flask:
    sandbox = XeroSandbox(
        client_id=client_id,
        client_secret=client_secret,
        auto_consent=auto_consent,
        clock=clock,
        state_path=None,
        rate_limits=rate_limits,
        minute_limit=minute_limit,
        day_limit=day_limit,
        app_minute_limit=app_minute_limit,
        concurrent_limit=concurrent_limit,
        seed=seed,
    )
    if state_path is None or not load_state(sandbox, Path(state_path)):
        seed_books(
            sandbox,
            tenants=tenants,
            invoices_per_tenant=invoices_per_tenant,
            contacts_per_tenant=contacts_per_tenant,
            sizes=sizes,
        )
        if state_path is not None:
            save_state(sandbox, Path(state_path))
    sandbox.state_path = Path(state_path) if state_path is not None else None
    app = Flask(__name__)
    app.extensions["sandbox"] = sandbox
    _register_identity(app, sandbox)
    _register_gate(app, sandbox)
    register_api(app, sandbox)
    register_writeback(app, sandbox)
    return app


def _register_identity(app: Flask, sandbox: XeroSandbox) -> None:
    @app.route("/identity/connect/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        args = {k: v for k, v in (request.form if request.method == "POST" else request.args).items()}
        if request.method == "GET" and not sandbox.auto_consent:
            return _consent_page(args)
        try:
            with sandbox.lock:
                return redirect(sandbox.authorize(args), code=302)
        except TokenError as exc:
            return Response(f"Error: {exc.error}", status=400, content_type="text/plain")

    @app.post("/connect/token")
    def token() -> Response:
        form = {k: v for k, v in request.form.items()}
        try:
            with sandbox.lock:
                return json_response(sandbox.token(form, _basic_auth()))
        except TokenError as exc:
            return json_response({"error": exc.error}, status=exc.status)

    @app.post("/connect/revocation")
    def revocation() -> Response:
        with sandbox.lock:
            sandbox.revoke(request.form.get("token", ""))
        return Response(status=200)

    @app.get("/connections")
    def connections() -> Response:
        record, detail = sandbox.bearer(request.headers.get("Authorization", ""))
        if record is None:
            return json_response(error(401, detail), status=401)
        event = request.args.get("authEventId")
        with sandbox.lock:
            items = [
                {
                    **c,
                    "createdDateUtc": _net_datetime(c["createdDateUtc"]),
                    "updatedDateUtc": _net_datetime(c["updatedDateUtc"]),
                }
                for c in sandbox.connections.values()
                if event is None or c["authEventId"] == event
            ]
        return json_response(items)

    @app.delete("/connections/<connection_id>")
    def delete_connection(connection_id: str) -> Response:
        record, detail = sandbox.bearer(request.headers.get("Authorization", ""))
        if record is None:
            return json_response(error(401, detail), status=401)
        with sandbox.lock:
            found = sandbox.delete_connection(connection_id)
        return Response(status=204 if found else 404)

    @app.after_request
    def log(response: Response) -> Response:
        sandbox.request_log.append((request.method, request.path, response.status_code))
        return response


def _register_gate(app: Flask, sandbox: XeroSandbox) -> None:
    @app.before_request
    def gate() -> Response | None:
        if not request.path.startswith(API_PREFIX + "/"):
            return None
        record, detail = sandbox.bearer(request.headers.get("Authorization", ""))
        if record is None:
            return json_response(error(401, detail), status=401)
        tenant = request.headers.get("xero-tenant-id", "")
        if not tenant or not sandbox.tenant_connected(tenant):
            return json_response(error(403, "AuthenticationUnsuccessful"), status=403)  # docs/providers/xero.md#errors
        resource = request.path[len(API_PREFIX) + 1 :].split("/")[0]
        allowed = _READ_SCOPES.get(resource, ())
        granted = set(record["scope"].split())
        if request.method != "GET":
            allowed = tuple(s for s in allowed if not s.endswith(".read"))
        if not granted.intersection(allowed):
            return json_response(error(401, "AuthorizationUnsuccessful"), status=401)
        verdict = sandbox.limiter.acquire(tenant)
        g.limit_headers = verdict.headers
        if not verdict.allowed:
            return Response(status=429, headers=verdict.headers)
        g.tenant = tenant
        return None

    @app.after_request
    def limit_headers(response: Response) -> Response:
        for name, value in getattr(g, "limit_headers", {}).items():
            response.headers[name] = value
        if request.path.startswith(API_PREFIX + "/"):
            response.headers["Xero-Correlation-Id"] = str(uuid.uuid4())
        return response

    @app.teardown_request
    def release(_exc: BaseException | None) -> None:
        tenant = getattr(g, "tenant", None)
        if tenant is not None:
            sandbox.limiter.release(tenant)


def _basic_auth() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return ("", "")
    return unquote(client_id), unquote(secret)


def _net_datetime(moment: datetime) -> str:
    """``/connections`` timestamps: 7 fractional digits, no zone (docs/providers/xero.md#tenants)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0"


def _consent_page(args: dict[str, str]) -> Response:
    fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in args.items())
    page = (
        f"<!doctype html><title>Xero sandbox consent</title><h1>Allow access to your organisations?</h1>"
        f'<form method="post">{fields}<button type="submit">Allow access</button></form>'
    )
    return Response(page, content_type="text/html; charset=utf-8")
