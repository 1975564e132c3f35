"""The onboarding wizard ``/onboarding``: four steps after sign-up or a first connect (administrations, policies,
the day-one plan and choice, switching sending on), each saved when it is posted so the owner can leave and resume.

A blueprint beside ``dashboard.connections``; the steps are ``connector.onboarding``, scoped to the signed-in
owner's organisation. The home page shows a banner back to it while it is unfinished
(docs/onboarding.md#the-four-steps).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, session, url_for
from flask_babel import gettext as _

from connector import onboarding
from connector.errors import ConnectorError
from dashboard.access import current_org_id, current_user, requires
from dashboard.common import page, services

bp = Blueprint("onboarding", __name__, template_folder="templates")
SCOPE = "onboarding_only"  # the administrations a later connect added: the wizard is about them alone


def scope() -> set[int] | None:
    value = session.get(SCOPE)
    return {int(v) for v in value if isinstance(v, int)} if isinstance(value, list) else None


def start_for(administration_ids: set[int]) -> None:
    """After connecting another package: the wizard for these new administrations, the others untouched."""
    session[SCOPE] = sorted(administration_ids)


def _ids(name: str) -> set[int]:
    return {int(v) for v in request.form.getlist(name) if v.isdigit()}


@bp.get("/onboarding")
@requires("owner")
def wizard() -> Any:
    rt, org_id = services().runtime, current_org_id()
    current = onboarding.state(rt, org_id, scope())
    step = request.args.get("step", current.resume)
    if step not in onboarding.STEPS:
        step = current.resume
    plans = {}
    if step == "plan":
        plans = {a.id: onboarding.day_one_plan(rt, org_id, a.id) for a in current.administrations if a.chosen}
    return page(
        "onboarding.html",
        state=current,
        step=step,
        number=onboarding.STEPS.index(step) + 1,
        plans=plans,
        error=ERRORS[code]() if (code := request.args.get("error", "")) in ERRORS else None,
        section=None,
    )


@bp.post("/onboarding/<step>")
@requires("owner")
def save(step: str) -> Any:
    rt, org_id = services().runtime, current_org_id()
    member = current_user()
    who = member.email if member else ""
    only = scope()
    current = onboarding.state(rt, org_id, only)
    known = {a.id for a in current.administrations}
    try:
        if step == "administrations":
            chosen = _ids("administration") & known
            if not chosen:
                return redirect(url_for("onboarding.wizard", step=step, error="none"))
            onboarding.choose_administrations(rt, org_id, chosen, only)
        elif step == "policies":
            for adm in current.administrations:
                for segment in ("b2b", "b2c"):
                    name = request.form.get(f"policy-{adm.id}-{segment}", "")
                    if name and name != adm.policies.get(segment):
                        onboarding.choose_policy(rt, org_id, adm.id, segment, name, who)
        elif step == "plan":
            for adm in current.administrations:
                choice = request.form.get(f"day-one-{adm.id}", "")
                if adm.chosen and choice:
                    onboarding.choose_day_one(rt, org_id, adm.id, choice)
        elif step == "sending":
            if request.form.get("confirm") != "1":
                return redirect(url_for("onboarding.wizard", step=step, error="confirm"))
            onboarding.switch_on(rt, org_id, _ids("administration") & known)
            session.pop(SCOPE, None)
            return redirect(url_for("pages.index", onboarded=1))
        else:
            return redirect(url_for("onboarding.wizard"))
    except (ConnectorError, ValueError):
        return redirect(url_for("onboarding.wizard", step=step, error="invalid"))
    following = onboarding.STEPS[min(onboarding.STEPS.index(step) + 1, len(onboarding.STEPS) - 1)]
    return redirect(url_for("onboarding.wizard", step=following))


ERRORS = {
    "none": lambda: _("Choose at least one administration to dun."),
    "confirm": lambda: _("Tick the box to confirm that reminders may go out."),
    "invalid": lambda: _("That choice does not fit: choose one of the options shown."),
}
