"""Who is asking and what they may do: the access API every page of the web app is decorated with.

Sits between the request and the views of every page blueprint. People sign in on ``/login`` (``dashboard.auth``);
Flask-Login keeps them in the session cookie. ``enforce`` runs before every request (``create_app`` registers it):
it leaves the machine paths alone (webhooks and the JSON API check their own signatures and tokens, the provider's
OAuth redirect lands without a login), sends anyone not signed in to the login page, and lets only a controller
or an owner post (a viewer reads). A view that needs more says so with ``@requires("owner")``. Views read the
organisation with ``current_org_id()``, never from the request; for a client's own staff it carries the
administrations they may see, and storage applies them to every query. Until the first person has an account the
installation is open to this machine only, as the operator who set it up (docs/architecture.md#accounts-and-roles).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import quote

from flask import Flask, Response, abort, g, redirect, request, session
from flask_login import LoginManager, UserMixin
from flask_login import current_user as login_user_proxy

from connector import accounts, queries
from dashboard.common import services

ROLES = accounts.ROLES  # each role may do everything the ones before it may
OPEN_PATHS = (
    "/webhooks/",
    "/api/",
    "/oauth/",
    "/static/",
    "/login",
    "/forgot",
    "/reset/",
    "/invite/",
    "/signup",
    "/p/",
)
PORTAL_ENTRY = "/p"  # the debtor's page (dashboard.portal) is public: its links are its own authorisation
LOOPBACK = ("127.0.0.1", "::1")
VIEWER_POSTS = {"auth.logout", "auth.switch_organisation"}  # posts that change nothing of the organisation
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Member:
    """The signed-in person as the pages see them: who, in which organisation, with which role."""

    user_id: int | None
    email: str
    org_id: int
    org_name: str
    role: str
    organisations: tuple[accounts.Membership, ...] = ()
    administrations: tuple[int, ...] | None = None  # a client's own staff: only these administrations

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def restricted(self) -> bool:
        return self.administrations is not None


class Account(UserMixin):  # type: ignore[misc]
    def __init__(self, person: accounts.Person) -> None:
        self.person = person
        self.id = str(person.id)


def _load(user_id: str) -> Account | None:
    person = accounts.person(services().runtime, int(user_id)) if user_id.isdigit() else None
    return Account(person) if person is not None and person.has_password else None


def _anyone_can_sign_in() -> bool:
    ctx = services()
    if not getattr(ctx, "has_users", False):  # once there are accounts there always are: ask until then
        ctx.has_users = accounts.has_users(ctx.runtime)
    return bool(ctx.has_users)


def _signed_in() -> Member | None:
    ctx = services()
    if login_user_proxy.is_authenticated:
        person: accounts.Person = login_user_proxy.person
        memberships = tuple(accounts.memberships(ctx.runtime, person.id))
        if not memberships:
            return None
        chosen = next((m for m in memberships if m.org_id == session.get("org_id")), memberships[0])
        return Member(
            person.id, person.email, chosen.org_id, chosen.org_name, chosen.role, memberships, chosen.administrations
        )
    # no account yet: only a browser on this machine, never one behind a proxy (which would look local too)
    local = request.remote_addr in LOOPBACK and "X-Forwarded-For" not in request.headers
    if local and not _anyone_can_sign_in():
        return Member(None, "", ctx.org_id, queries.organisation_name(ctx.runtime, ctx.org_id), "owner")
    return None


def current_user() -> Member | None:
    """The signed-in member, or None for an anonymous request."""
    if "dunning_member" not in g:
        g.dunning_member = _signed_in()
    return cast(Member | None, g.dunning_member)


def current_org_id() -> int:
    """The organisation every query of this request is scoped to (403 when nobody is signed in). For a member kept
    to some administrations (a client's own staff) the id carries those, and storage keeps every query to them: any
    other administration is then as absent as another organisation's (docs/cockpit.md#client-access)."""
    member = current_user()
    if member is None:
        abort(403)
    chosen = next((m for m in member.organisations if m.org_id == member.org_id), None)
    return member.org_id if chosen is None else chosen.scope


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
    if request.path.startswith(OPEN_PATHS) or request.path == PORTAL_ENTRY or request.endpoint == "static":
        return None
    member = current_user()
    if member is None:
        if request.method in ("GET", "HEAD"):
            return cast(Response, redirect(f"/login?next={quote(request.full_path.rstrip('?'))}"))
        abort(401)
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.endpoint not in VIEWER_POSTS:
        if not member.may("controller"):
            abort(403)
    return None


def init_access(app: Flask) -> None:
    manager = LoginManager(app)
    manager.user_loader(_load)
    manager.session_protection = "basic"
    app.before_request(enforce)
    app.context_processor(lambda: {"member": current_user()})
