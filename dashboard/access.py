"""Who is asking and what they may do: the access API every page of the web app is decorated with.

Sits between the request and the views of ``dashboard.pages`` and the other page blueprints. ``enforce`` runs
before every request of the app (``create_app`` registers it): it leaves the machine paths alone (webhooks and the
JSON API check their own signatures and tokens; the provider's OAuth redirect lands without a login), asks for a
login everywhere else, and lets only a controller or an owner post (a viewer reads). A view that needs more says so
with ``@requires("owner")``. Views read the organisation with ``current_org_id()`` and never from the request
(docs/architecture.md#accounts-and-roles).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, abort, g, request

from connector import queries
from dashboard.common import services

ROLES = ("viewer", "controller", "owner")  # each role may do everything the ones before it may
OPEN_PATHS = ("/webhooks/", "/api/", "/oauth/", "/static/")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Member:
    """The signed-in person as the pages see them: who, in which organisation, with which role."""

    user_id: int | None
    email: str
    org_id: int
    org_name: str
    role: str

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _signed_in() -> Member | None:
    """The installation's operator while one shared password guards the app (or none is set)."""
    ctx = services()
    password = ctx.runtime.settings.dashboard_password.get_secret_value()
    if password:
        given = (request.authorization.password if request.authorization else None) or ""
        if not hmac.compare_digest(given.encode(), password.encode()):
            return None
    return Member(None, "", ctx.org_id, queries.organisation_name(ctx.runtime, ctx.org_id), "owner")


def current_user() -> Member | None:
    """The signed-in member, or None for an anonymous request."""
    if "dunning_member" not in g:
        g.dunning_member = _signed_in()
    return cast(Member | None, g.dunning_member)


def current_org_id() -> int:
    """The organisation every query of this request is scoped to (403 when nobody is signed in)."""
    member = current_user()
    if member is None:
        abort(403)
    return member.org_id


def requires(role: str) -> Callable[[F], F]:
    """A view only members with at least ``role`` may use (``owner`` > ``controller`` > ``viewer``)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")

    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            member = current_user()
            if member is None:
                abort(401)
            if not member.may(role):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, checked)

    return decorate


def enforce() -> Response | None:
    """Before every request: a login for every page, and controller or owner for every post."""
    if request.path.startswith(OPEN_PATHS):
        return None
    member = current_user()
    if member is None:
        return Response(
            "Log in with the dashboard password (DUNNING_DASHBOARD_PASSWORD).",
            401,
            {"WWW-Authenticate": 'Basic realm="dunning-connector"'},
        )
    if request.method not in ("GET", "HEAD", "OPTIONS") and not member.may("controller"):
        abort(403)
    return None
