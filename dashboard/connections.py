"""The connections page: every connected accounting package with its status, administrations, last sync, webhook
health and dead letters, and the owner's connect, reconnect and disconnect (with a confirmation step); and per
administration the bank account debtors transfer to when an invoice has no payment link (docs/portal.md#paying).

A blueprint beside ``dashboard.oauth`` (which runs the OAuth flow both for a new connection and for a reconnect:
the connection to re-authorise waits in the session between the two requests). Reads through
``connector.queries.connections``, changes through ``connector.connect``, scoped to the signed-in member's
organisation; everyone may look, only an owner changes (docs/onboarding.md#connections).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from connector import onboarding, queries
from connector.connect import disconnect, redirect_uri, start_connect
from connector.errors import NotFound
from connector.model.bank import BankProblem, InvalidBankDetails
from dashboard.access import current_org_id, current_user, requires
from dashboard.common import page, services

bp = Blueprint("connections", __name__, template_folder="templates")
RECONNECT_KEY = "reconnect"  # {"provider": ..., "connection_id": ...} between the reconnect button and the callback


def _find(connection_id: int) -> queries.ConnectionView:
    found = next((c for c in queries.connections(services().runtime, current_org_id()) if c.id == connection_id), None)
    if found is None:
        abort(404)
    return found


@bp.get("/connections")
def connections() -> Any:
    notices = {
        "reconnected": _("Connected again: syncing and sending resume."),
        "disconnected": _("Disconnected: its administrations and their data are removed here."),
    }
    left = request.args.get("left", "")
    return page(
        "connections/index.html",
        connections=queries.connections(services().runtime, current_org_id()),
        notice=next((text for key, text in notices.items() if key in request.args), None),
        webhooks_left=int(left) if left.isdigit() else 0,
    )


@bp.post("/connections/<int:connection_id>/reconnect")
@requires("owner")
def reconnect(connection_id: int) -> Any:
    found = _find(connection_id)
    rt = services().runtime
    session[RECONNECT_KEY] = {"provider": found.provider, "connection_id": found.id}
    return redirect(start_connect(rt, current_org_id(), found.provider, redirect_uri(rt, found.provider)))


def reconnecting(provider: str) -> int | None:
    """The connection this browser is re-authorising at ``provider``, if any (taken out of the session)."""
    pending = session.pop(RECONNECT_KEY, None)
    if isinstance(pending, dict) and pending.get("provider") == provider:
        value = pending.get("connection_id")
        return value if isinstance(value, int) else None
    return None


@bp.get("/connections/<int:connection_id>/disconnect")
@requires("owner")
def confirm_disconnect(connection_id: int) -> Any:
    return page("connections/disconnect.html", connection=_find(connection_id), section="connections")


@bp.post("/connections/<int:connection_id>/disconnect")
@requires("owner")
def do_disconnect(connection_id: int) -> Any:
    member = current_user()
    try:
        done = disconnect(services().runtime, current_org_id(), connection_id, member.email if member else "")
    except NotFound:
        abort(404)
    return redirect(url_for("connections.connections", disconnected=1, left=done.webhooks_left))


BANK_PROBLEMS = {
    BankProblem.HOLDER: _l("Give the name the account is in (up to 200 characters)."),
    BankProblem.IBAN_SHAPE: _l(
        "This is not an IBAN: two letters, two digits, then the account (e.g. NL91 ABNA 0417 1643 00)."
    ),
    BankProblem.IBAN_CHECK: _l("This IBAN's check digits do not match: a character is probably mistyped."),
    BankProblem.BIC: _l("A BIC has 8 or 11 letters and digits, e.g. ABNANL2A; leave it empty if you do not know it."),
}


@bp.get("/connections/bank")
@requires("owner")
def bank_accounts() -> Any:
    accounts = onboarding.bank_accounts(services().runtime, current_org_id())
    return page("connections/bank.html", accounts=accounts, saved="saved" in request.args, section="connections")


@bp.post("/connections/bank/<int:administration_id>")
@requires("owner")
def save_bank_account(administration_id: int) -> Any:
    rt, org_id = services().runtime, current_org_id()
    posted = {name: request.form.get(name, "")[:300] for name in ("holder", "iban", "bic")}
    try:
        onboarding.set_bank_account(rt, org_id, administration_id, **posted)
    except NotFound:
        abort(404)
    except InvalidBankDetails as invalid:
        errors = {name: BANK_PROBLEMS[problem] for name, problem in invalid.problems.items()}
        accounts = onboarding.bank_accounts(rt, org_id)
        body = page(
            "connections/bank.html",
            accounts=accounts,
            failed=administration_id,
            errors=errors,
            posted=posted,
            section="connections",
        )
        return body, 400
    return redirect(url_for("connections.bank_accounts", saved=1) + f"#administration-{administration_id}")
