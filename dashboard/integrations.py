"""The owner's pages for other software: API keys (create, shown once; list by prefix; revoke) and outbound webhook
subscriptions (add a URL and events, secret shown once; list; remove) with their delivery log and replay.

A blueprint beside ``dashboard.pages``: every view needs the owner role (``dashboard.access``) and acts on the
signed-in member's organisation through the same services as the API and the CLI (``connector.apikeys``,
``connector.notify``); a new key or secret is rendered in the answer to the form that made it and never again.
Forms post with the CSRF token; texts are in the ``integrations`` catalogue (docs/api.md#in-the-web-app).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for
from flask_babel import gettext as _

from connector import apikeys, notify
from connector.errors import ConnectorError
from connector.model.api import ApiScope, EventType
from dashboard.access import current_org_id, requires
from dashboard.common import page, services

bp = Blueprint("integrations", __name__, template_folder="templates")
LOG_SIZE = 50  # the delivery log shows the newest deliveries


def _keys_page(created: str | None = None, error: str | None = None, notice: str | None = None) -> Any:
    rt, org_id = services().runtime, current_org_id()
    body = page(
        "integrations/api_keys.html",
        keys=apikeys.list_keys(rt, org_id),
        created=created,
        error=error,
        notice=notice,
        section=None,
    )
    return body, 400 if error else 200


@bp.get("/settings/api-keys")
@requires("owner")
def api_keys() -> Any:
    return _keys_page(
        notice=_("Key revoked: calls with it are refused from now on.") if "revoked" in request.args else None
    )


@bp.post("/settings/api-keys")
@requires("owner")
def create_key() -> Any:
    scope = request.form.get("scope", "")
    name = " ".join(request.form.get("name", "").split())[:100]
    if scope not in {s.value for s in ApiScope}:
        return _keys_page(error=_("Choose whether the key may only read or may also change things."))
    created = apikeys.create_key(services().runtime, current_org_id(), scope, name)
    return _keys_page(created=created.key)


@bp.post("/settings/api-keys/<prefix>/revoke")
@requires("owner")
def revoke_key(prefix: str) -> Any:
    try:
        apikeys.revoke_key(services().runtime, current_org_id(), prefix[:40])
    except ConnectorError:
        return _keys_page(error=_("There is no such key here: it may have been revoked already."))
    return redirect(url_for("integrations.api_keys", revoked=1))


def _hooks_page(secret: str | None = None, error: str | None = None, notice: str | None = None) -> Any:
    rt, org_id = services().runtime, current_org_id()
    subscriptions = notify.subscriptions(rt, org_id)
    body = page(
        "integrations/webhooks.html",
        subscriptions=subscriptions,
        urls={s.id: s.url for s in subscriptions},
        deliveries=notify.deliveries(rt, org_id, limit=LOG_SIZE),
        events=[e.value for e in EventType],
        secret=secret,
        error=error,
        notice=notice,
        section=None,
    )
    return body, 400 if error else 200


@bp.get("/settings/webhooks")
@requires("owner")
def webhooks() -> Any:
    notices = {
        "removed": _("Subscription removed: nothing more is sent to that address."),
        "replayed": _("The delivery is sent again with the next round (within a minute)."),
    }
    return _hooks_page(notice=next((text for key, text in notices.items() if key in request.args), None))


@bp.post("/settings/webhooks")
@requires("owner")
def subscribe() -> Any:
    url = request.form.get("url", "").strip()
    events = request.form.getlist("events")
    description = " ".join(request.form.get("description", "").split())[:200]
    if not url or not events:
        return _hooks_page(error=_("Enter the address to send to and tick at least one event."))
    try:
        created = notify.subscribe(services().runtime, current_org_id(), url, events, description)
    except notify.InvalidSubscription:
        return _hooks_page(error=_("Use an http:// or https:// address with a host name (no user name or password)."))
    return _hooks_page(secret=created.secret)


@bp.post("/settings/webhooks/<int:subscription_id>/remove")
@requires("owner")
def unsubscribe(subscription_id: int) -> Any:
    try:
        notify.unsubscribe(services().runtime, current_org_id(), subscription_id)
    except ConnectorError:
        return _hooks_page(error=_("There is no such subscription here: it may have been removed already."))
    return redirect(url_for("integrations.webhooks", removed=1))


@bp.post("/settings/webhooks/deliveries/<int:delivery_id>/replay")
@requires("owner")
def replay(delivery_id: int) -> Any:
    try:
        notify.replay(services().runtime, current_org_id(), delivery_id)
    except ConnectorError:
        return _hooks_page(error=_("There is no such delivery here."))
    return redirect(url_for("integrations.webhooks", replayed=1))
