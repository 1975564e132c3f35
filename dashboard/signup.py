"""Sign up with the accounting package, as a marketplace install does: ``/signup`` and ``/signup/account``.

Part of the web app's access layer beside ``dashboard.auth``. "Sign up with Xero / Exact Online / Moneybird"
creates an organisation (``connector.accounts.start_signup``) and sends the browser to the package's consent
(``connector.connect``, the same OAuth flow as connecting); the redirect back (``dashboard.oauth``) connects its
administrations and comes here to choose the owner's login. Someone with an account adds connections from inside
instead (``/connect/<provider>``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, session, url_for
from flask_babel import gettext as _

from connector import accounts, queries
from connector.connect import redirect_uri, start_connect
from connector.registry import ADAPTERS
from dashboard.auth import enter
from dashboard.common import page, services
from dashboard.errors import PageError

bp = Blueprint("signup", __name__, template_folder="templates")
SESSION_KEY = "signup_org"  # the organisation this browser is signing up, between consent and login


@bp.get("/signup")
def choose() -> Any:
    names = {p: ADAPTERS[p].name for p in sorted(ADAPTERS)}
    return page("auth/signup.html", packages=names)


@bp.post("/signup/<provider>")
def start(provider: str) -> Any:
    if provider not in ADAPTERS:
        raise PageError(404, _("Page not found"), _("There is no page at this address."))
    rt = services().runtime
    org_id = accounts.start_signup(rt, ADAPTERS[provider].name)
    session[SESSION_KEY] = org_id
    return redirect(start_connect(rt, org_id, provider, redirect_uri(rt, provider)))


def signing_up() -> int | None:
    """The organisation this browser is signing up, if any."""
    value = session.get(SESSION_KEY)
    return int(value) if isinstance(value, int) else None


@bp.route("/signup/account", methods=["GET", "POST"])
def account() -> Any:
    org_id = signing_up()
    if org_id is None:
        return redirect(url_for("signup.choose"))
    rt = services().runtime
    administrations = queries.administrations(rt, org_id)
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("repeat", ""):
            error = _("The two passwords differ. Type the same password twice.")
        else:
            name = administrations[0].name if administrations else request.form.get("email", "")
            try:
                person = accounts.finish_signup(rt, org_id, name, request.form.get("email", ""), password)
            except accounts.AccountError as exc:
                error = _signup_error(str(exc))
            else:
                session.pop(SESSION_KEY, None)
                enter(person)
                return redirect(url_for("onboarding.wizard"))
    return page("auth/signup_account.html", administrations=administrations, error=error), (400 if error else 200)


def _signup_error(reason: str) -> str:
    if "exists" in reason:
        return str(_("An account with this address exists. Log in first, then add the connection from inside."))
    if "characters" in reason:
        return str(_("Choose a password of at least %(count)s characters.", count=accounts.MIN_PASSWORD_LENGTH))
    if "owner" in reason:
        return str(_("This organisation has its owner already. Log in."))
    return str(_("Enter your e-mail address."))
