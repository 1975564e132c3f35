"""What every page of the web app shares: the app's services, the navigation and the page renderer.

Used by every page blueprint (``dashboard.pages``, ``dashboard.oauth`` and the areas built beside them): a view
reads through ``connector.queries`` with ``services().runtime`` for the organisation ``dashboard.access`` gives it,
and answers with ``page(template, **ctx)``. Templates extend ``base.html`` (header with organisation and user,
navigation, language switch) and translate with ``_()`` (``dashboard.i18n``); forms carry the CSRF token as
``<input type="hidden" name="csrf" value="{{ csrf }}">`` (checked by Flask-WTF on every post).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from connector.registry import ADAPTERS
from dashboard.i18n import lang, money

__all__ = ["NAV", "lang", "money", "nav", "page", "services"]


@dataclass(frozen=True)
class NavItem:
    key: str
    endpoint: str  # shown once a blueprint registers a view under this endpoint
    label: Any  # a lazy translation
    shown: Callable[[], bool] | None = None  # when only some organisations see it


def _cockpit_wanted() -> bool:
    """A practice, or an organisation with more than one administration, sees the cockpit (docs/cockpit.md)."""
    from connector import cockpit
    from dashboard.access import current_user

    member = current_user()
    return member is not None and not member.restricted and cockpit.wanted(services().runtime, member.org_id)


NAV = (  # the areas of the app, in the order of the header; an area's link appears once its view exists
    NavItem("cockpit", "cockpit.cockpit", _l("Cockpit"), _cockpit_wanted),
    NavItem("home", "pages.index", _l("Overview")),
    NavItem("worklist", "worklist.worklist", _l("Worklist")),
    NavItem("debtors", "worklist.debtors", _l("Debtors")),
    NavItem("reports", "reports.reports", _l("Reports")),
    NavItem("policies", "policies.policies_index", _l("Policies")),
    NavItem("connections", "connections.connections", _l("Connections")),
)


def services() -> Any:
    """The runtime, queue and organisation ``create_app`` put on the app."""
    return current_app.extensions["dunning"]


def nav() -> list[NavItem]:
    return [
        item for item in NAV if item.endpoint in current_app.view_functions and (item.shown is None or item.shown())
    ]


def page(template: str, **context: Any) -> Response:
    """Render ``template`` in the user's language with the navigation and the CSRF token for its forms.

    ``section`` (a ``NAV`` key) marks the header link of the area the page belongs to; by default the one whose
    endpoint is this view."""
    context.setdefault("section", next((i.key for i in NAV if i.endpoint == request.endpoint), None))
    body = render_template(template, providers=sorted(ADAPTERS), csrf=generate_csrf(), nav=nav(), **context)
    return Response(body)
