"""The web app: ``create_app`` wires the webhook receiver and the blueprints: pages, OAuth connect, /api/v1.

Served by gunicorn at scale (``dunning serve``) and in a thread by ``dunning demo``. The app serves one organisation:
the only one there is, or the one ``DUNNING_ORG`` names when there are several (a fresh install starts one called
"default"); every view reads through ``connector.queries`` scoped to it (``dashboard.pages``, ``dashboard.oauth``,
``dashboard.api``, which checks API keys; what they share is ``dashboard.common``). An error in a page shows a short
explanation in the user's language, never a bare "Internal Server Error" (``dashboard.errors``). What
makes it safe to expose (the Host check, trusted proxies, security headers, cookie flags) is ``dashboard.security``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from connector.jobs import build_queue
from connector.ports import JobQueue
from connector.runtime import Runtime
from connector.services import choose_organisation
from connector.settings import Settings
from dashboard import (
    access,
    api,
    auth,
    cockpit,
    connections,
    debtor_pages,
    integrations,
    oauth,
    onboarding,
    pages,
    policies,
    portal,
    reports,
    security,
    signup,
)
from dashboard.errors import register_error_pages
from dashboard.i18n import init_i18n
from dashboard.inputs import init_inputs
from webhooks import bp as webhooks_bp


@dataclass
class Services:
    runtime: Runtime
    queue: JobQueue
    org_id: int  # the organisation of this machine's operator until the first account exists
    has_users: bool = False


def create_app(
    settings: Settings, *, runtime: Runtime | None = None, queue: JobQueue | None = None, org_id: int | None = None
) -> Flask:
    rt = runtime or Runtime(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.webhook_max_bytes
    # the session-signing key is derived, never the token-encryption key itself
    app.config["SECRET_KEY"] = hmac.new(settings.fernet_keys()[0].encode(), b"dashboard-session", "sha256").hexdigest()
    app.config["WTF_CSRF_FIELD_NAME"] = "csrf"  # forms: <input type="hidden" name="csrf" value="{{ csrf }}">
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # valid as long as the session
    security.secure(app, settings)  # Host check, trusted proxies, headers, cookie flags
    app.extensions["dunning"] = Services(
        runtime=rt,
        queue=queue or build_queue(settings, lambda: rt),
        org_id=org_id or choose_organisation(rt, None, create_if_none="default"),
    )
    init_i18n(app)
    csrf = CSRFProtect(app)
    csrf.exempt(webhooks_bp)  # signed by the provider instead
    csrf.exempt(api.bp)  # bearer tokens, no cookies
    access.init_access(app)
    init_inputs(app)  # text no database can store: a 400 page (the API answers 422 itself)
    app.register_blueprint(webhooks_bp)
    for blueprint in (
        pages.bp,
        oauth.bp,
        auth.bp,
        signup.bp,
        reports.bp,
        debtor_pages.bp,
        integrations.bp,
        policies.bp,
        cockpit.bp,
        portal.bp,
        connections.bp,
        onboarding.bp,
    ):  # the worklist's bp
        app.register_blueprint(blueprint)
    api.register(app)
    register_error_pages(app)
    return app
