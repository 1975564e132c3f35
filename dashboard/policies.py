"""The policy pages: which policy each administration uses per segment, and the editor of its ladder with a preview
of the change on today's invoices and the history of changes.

A blueprint beside ``dashboard.pages``. Everyone in the organisation reads; controllers and owners post (enforced
for every post by ``dashboard.access``). The work is ``connector.policies``: the form is validated by the loader's
one validator and every problem shows at its field; "Preview" runs the pure engine with the policy in use and the
edited one; "Save" stores a new version of the organisation's own policy (a packaged policy is copied first under
the name given) and assigns it to the administration. Texts are in the ``policies`` catalogue
(docs/policies.md#the-editor).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext as _

from connector import decide, policies, queries
from connector.errors import NotFound, PolicyError
from connector.model import Segment
from connector.policies import editor
from connector.storage.db import transaction
from dashboard.access import current_org_id, current_user
from dashboard.common import page, services

bp = Blueprint("policies", __name__, template_folder="templates")


@bp.get("/policies")
def policies_index() -> Any:
    rt, org_id = services().runtime, current_org_id()
    rows = [
        (adm, {seg: editor.policy_in_use(rt, org_id, adm.id, seg).name for seg in Segment})
        for adm in queries.administrations(rt, org_id)
    ]
    return page("policies/index.html", rows=rows, segments=list(Segment))


def _segment() -> Segment:
    value = request.values.get("segment", Segment.B2B.value)
    return Segment(value) if value in {s.value for s in Segment} else Segment.B2B


def _editor(administration_id: int, **context: Any) -> Any:
    rt, org_id = services().runtime, current_org_id()
    segment = _segment()
    try:
        adm = next(a for a in queries.administrations(rt, org_id) if a.id == administration_id)
        current = editor.policy_in_use(rt, org_id, administration_id, segment)
        entries = editor.history(rt, org_id, administration_id)
    except (StopIteration, NotFound):
        abort(404)
    with rt.sessions() as s:
        own = {p.name for p in policies.available_policies(s, org_id) if p.source == policies.OWN}
    context.setdefault("document", current.model_dump(mode="json"))
    context.setdefault("problems", {})
    member = current_user()
    body = page(
        "policies/edit.html",
        section="policies",
        adm=adm,
        segment=segment,
        current=current,
        is_own=current.name in own,
        copy_name=f"{adm.name} {segment.value}"[: policies.NAME_MAX],
        choices=editor.CHOICES,
        switches=editor.LEVEL_SWITCHES,
        history=entries,
        may_edit=member is not None and member.may("controller"),
        **context,
    )
    return body, 400 if context["problems"] else 200


@bp.get("/policies/<int:administration_id>")
def edit(administration_id: int) -> Any:
    notice = _("Saved: the next dunning run uses this policy.") if "saved" in request.args else None
    return _editor(administration_id, notice=notice)


@bp.post("/policies/<int:administration_id>")
def change(administration_id: int) -> Any:
    rt, org_id = services().runtime, current_org_id()
    segment = _segment()
    try:
        current = editor.policy_in_use(rt, org_id, administration_id, segment)
    except NotFound:
        abort(404)
    document = editor.document_from_form(request.form, current)
    problems = editor.problems_by_field(document)
    if problems:
        return _editor(administration_id, document=document, problems=problems)
    new = policies.validate_policy_document(document)
    if request.form.get("action") != "save":
        rows, covered = editor.preview(
            rt, org_id, administration_id, current, new, rt.today(org_id), decide.load_rules(rt)[1]
        )
        return _editor(administration_id, document=document, preview=rows, covered=covered)
    who = (current_user() or abort(403)).email
    with rt.sessions() as s:
        own = {p.name for p in policies.available_policies(s, org_id) if p.source == policies.OWN}
    name = current.name if current.name in own else request.form.get("copy_name", "")
    try:
        with transaction(rt.sessions) as s:
            policies.save_policy(s, org_id, name, document, who, based_on=current.name)
            policies.assign_policy(s, org_id, administration_id, segment, name.strip(), who)
    except PolicyError as exc:
        field = "copy_name" if exc.field in (None, "name") else (exc.field or "")
        message = str(exc).split(": ", 1)[-1]
        return _editor(administration_id, document=document, problems={field: message})
    except policies.PolicyChoiceError as exc:
        return _editor(administration_id, document=document, problems={"copy_name": str(exc)})
    return redirect(url_for("policies.edit", administration_id=administration_id, segment=segment.value, saved=1))
