"""Signing in and out, forgotten passwords, invitations and the organisation's people: the pages of ``/login``,
``/forgot``, ``/reset/<token>``, ``/invite/<token>`` and ``/members``.

Part of the web app's access layer (``dashboard.access`` decides who may see what; this blueprint lets people in).
Accounts themselves are ``connector.accounts``: argon2 passwords, signed expiring links, login throttling stored
in the database. Links are e-mailed through the SMTP channel (``dashboard.mail``) and built from
``DUNNING_BASE_URL``, never from the request (docs/architecture.md#accounts-and-roles).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from connector import accounts
from dashboard.access import Account, current_org_id, current_user, requires
from dashboard.common import page, services
from dashboard.mail import send_account_mail

bp = Blueprint("auth", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never an address elsewhere (``//host`` or ``https://``)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.index")


def enter(person: accounts.Person) -> None:
    session.clear()
    login_user(Account(person))
    first = accounts.memberships(services().runtime, person.id)
    if first:
        session["org_id"] = first[0].org_id


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        email, password = request.form.get("email", ""), request.form.get("password", "")
        try:
            person = accounts.authenticate(services().runtime, email, password, request.remote_addr or "?")
        except accounts.TooManyAttempts:
            return page(
                "auth/login.html",
                error=_("Too many failed attempts. Wait 15 minutes or reset your password."),
                email=email,
            ), 429
        if person is not None:
            enter(person)
            return redirect(_safe_next(request.args.get("next")))
        error = _("That e-mail address and password do not match. Check both and try again.")
    return page("auth/login.html", error=error, email=request.form.get("email", "")), (401 if error else 200)


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> Any:
    if request.method == "POST":
        rt = services().runtime
        person = accounts.find_person(rt, request.form.get("email", ""))
        if person is not None:
            send_account_mail(rt, person, "reset")
        return page(
            "auth/message.html",
            title=_("Check your e-mail"),
            detail=_(
                "If an account with that address exists, we sent it a link to choose a new password. The link works "
                "for 2 hours."
            ),
        )
    return page("auth/forgot.html")


def _choose_password(token: str, purpose: str) -> Any:
    rt = services().runtime
    try:
        person = accounts.read_link(rt, token, purpose)
    except accounts.AccountError:
        return page(
            "auth/message.html",
            title=_("This link no longer works"),
            detail=_("It expired or was used already. Ask for a new one on the login page."),
        ), 400
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        if len(password) < accounts.MIN_PASSWORD_LENGTH:
            error = _("Choose a password of at least %(count)s characters.", count=accounts.MIN_PASSWORD_LENGTH)
        elif password != request.form.get("repeat", ""):
            error = _("The two passwords differ. Type the same password twice.")
        else:
            accounts.set_password(rt, person.id, password)
            enter(accounts.person(rt, person.id) or person)
            return redirect(url_for("pages.index"))
    return page("auth/password.html", person=person, purpose=purpose, error=error), (400 if error else 200)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Any:
    return _choose_password(token, "reset")


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str) -> Any:
    return _choose_password(token, "invite")


@bp.post("/organisation")
def switch_organisation() -> Any:
    """A person in several organisations (an accountant's practice and its clients) chooses which one to work in."""
    member = current_user()
    wanted = request.form.get("org_id", "")
    if member is not None and any(str(m.org_id) == wanted for m in member.organisations):
        session["org_id"] = int(wanted)
    return redirect(url_for("pages.index"))


@bp.route("/members", methods=["GET", "POST"])
@requires("owner")
def members() -> Any:
    """The organisation's people, and the invitation: to the whole organisation or, for a client's own staff, to
    one administration (``?administration=ID`` from the cockpit's row chooses it; docs/cockpit.md#client-access)."""
    rt, org_id = services().runtime, current_org_id()
    names = accounts.administration_names(rt, org_id)
    chosen = request.values.get("administration", "")
    if chosen and chosen not in {str(a) for a, _name in names}:
        abort(404)  # an administration this organisation does not have, as everywhere
    notice, error = None, None
    if request.method == "POST":
        role = request.form.get("role", "")
        kept = [chosen] if chosen else None
        try:
            person = accounts.add_user(rt, request.form.get("email", ""), org_id, role, administrations=kept)
        except accounts.AccountError:
            error = (
                _("Invite a client's staff as credit controller or viewer.")
                if kept and role == "owner"
                else _("Enter an e-mail address and choose a role.")
            )
        else:
            if person.has_password:
                notice = _("%(email)s can now work in this organisation.", email=person.email)
            elif send_account_mail(rt, person, "invite"):
                notice = _("Invitation sent to %(email)s.", email=person.email)
            else:
                error = _("The invitation could not be e-mailed. Ask whoever runs this installation to set up e-mail.")
    return page(
        "auth/members.html",
        people=accounts.members(rt, org_id),
        roles=role_names(),
        notice=notice,
        error=error,
        administrations=names,
        names=dict(names),
        chosen=chosen,
    ), (400 if error else 200)


def role_names() -> dict[str, str]:
    return {"owner": _("Owner"), "controller": _("Credit controller"), "viewer": _("Viewer (read only)")}
