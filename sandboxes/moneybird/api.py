"""Moneybird sandbox: the ``/api/v2`` read routes (administrations, settings, contacts, sales invoices).

Registered on the app built by ``app.py`` after its gate has checked the bearer token and rate limit. Each
route checks its scope (docs/providers/moneybird.md#scopes), reads or mutates the state object under its lock and
answers in the shapes built by ``render.py``; list endpoints page with ``page``/``per_page`` and a ``Link`` header
(docs/providers/moneybird.md#requests). The write routes are registered on the same blueprint by ``writeback.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request

from sandboxes.moneybird.query import FilterError, contact_filter, parse_invoice_filter
from sandboxes.moneybird.render import (
    NOT_FOUND,
    Record,
    SandboxError,
    render_administration,
    render_contact,
    render_note,
    stamp,
    version_of,
)
from sandboxes.moneybird.state import MoneybirdSandbox

api = Blueprint("moneybird_api", __name__, url_prefix="/api/v2")
View = TypeVar("View", bound=Callable[..., Any])

SALES = ("sales_invoices",)
CONTACTS = ("sales_invoices", "estimates", "documents", "bank", "settings")
WORKFLOWS = ("sales_invoices", "settings", "documents", "estimates", "bank")
STYLES = ("sales_invoices", "settings", "estimates")
SETTINGS = ("settings",)
SYNC_POST_LIMIT = 100  # docs/providers/moneybird.md#incremental-sync: at most 100 records, extra ids silently dropped
REMINDER_KEYS = ("contact_id", "workflow_id", "document_style_id", "identity_id", "sales_invoice_ids")
REMINDABLE = ("open", "late", "reminded", "pending_payment")


def sandbox() -> MoneybirdSandbox:
    state: MoneybirdSandbox = current_app.extensions["sandbox"]
    return state


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def route(
    rule: str,
    methods: tuple[str, ...],
    scopes: tuple[str, ...] = (),
    *,
    locked: bool = True,
) -> Callable[[View], View]:
    """Register ``rule`` with and without the ``.json`` suffix (docs/providers/moneybird.md#requests), check scopes, run
    under the state lock."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if scopes and not set(scopes) & g.scopes:
                # docs/providers/moneybird.md#scopes: 401, not 403
                return reply({"error": f"No access to {scopes[0]}"}, 401)
            try:
                if not locked:
                    return view(*args, **kwargs)
                with sandbox().lock:
                    return view(*args, **kwargs)
            except FilterError as exc:
                return reply(exc.body, 400)

        api.add_url_rule(rule + ".json", view_func=wrapper, methods=list(methods))
        api.add_url_rule(rule, endpoint=view.__name__ + "_bare", view_func=wrapper, methods=list(methods))
        return wrapper  # type: ignore[return-value]

    return decorate


def body() -> dict[str, Any]:
    data = request.get_json(force=True, silent=True)
    return data if isinstance(data, dict) else {}


def invalid(field: str, message: str = "can't be blank", code: str = "blank") -> SandboxError:
    return SandboxError(422, {"error": {field: [message]}, "details": {field: [{"error": code}]}})


def paged(items: list[Any], render: Callable[[Any], Any] = lambda item: item) -> Response:
    """``page``/``per_page`` (1..100, else 400) and a ``Link`` header with rel next/prev
    (docs/providers/moneybird.md#requests)."""
    values = {}
    for name, default in (("page", "1"), ("per_page", "50")):
        text = request.args.get(name, default)
        if not text.isdigit() or int(text) < 1 or (name == "per_page" and int(text) > 100):
            raise SandboxError(400, {"error": f"{name} does not have a valid value", "symbolic": {name: "invalid"}})
        values[name] = int(text)
    page, per_page = values["page"], values["per_page"]
    links = []
    for rel, target in (("next", page + 1), ("prev", page - 1)):
        if target >= 1 and (rel == "prev" or page * per_page < len(items)):
            query = urlencode({**request.args.to_dict(), "page": target, "per_page": per_page})
            links.append(f'<{request.base_url}?{query}>; rel="{rel}"')
    headers = {"Link": ", ".join(links)} if links else {}
    return reply([render(item) for item in items[(page - 1) * per_page : page * per_page]], 200, headers)


def write(adm: Record, kind: str, invoice_ids: list[str], **details: Any) -> None:
    adm["writes"].append({"kind": kind, "invoice_ids": invoice_ids, "at": stamp(sandbox().now()), **details})


# -- administrations, settings ----------------------------------------------------------------------------------
@route("/administrations", ("GET",))
def administrations() -> Response:
    return reply([render_administration(adm) for adm in sandbox().data["administrations"].values()])


@route("/<digits:adm_id>/workflows", ("GET",), WORKFLOWS)
def workflows(adm_id: str) -> Response:
    return reply(sandbox().administration(adm_id)["workflows"])


@route("/<digits:adm_id>/document_styles", ("GET",), STYLES)
def document_styles(adm_id: str) -> Response:
    return reply(sandbox().administration(adm_id)["document_styles"])


@route("/<digits:adm_id>/identities", ("GET",), SETTINGS)
def identities(adm_id: str) -> Response:
    return reply(sandbox().administration(adm_id)["identities"])


@route("/<digits:adm_id>/users", ("GET",), SETTINGS)
def users(adm_id: str) -> Response:
    return reply(sandbox().administration(adm_id)["users"])


# -- contacts ----------------------------------------------------------------------------------------------------
@route("/<digits:adm_id>/contacts", ("GET",), CONTACTS)
def contacts(adm_id: str) -> Response:
    adm = sandbox().administration(adm_id)
    query = (request.args.get("query") or "").lower()
    found = [
        c
        for c in adm["contacts"].values()
        if not query
        or query
        in " ".join(str(c[k] or "") for k in ("company_name", "firstname", "lastname", "email", "customer_id")).lower()
    ]
    return paged(found, lambda c: render_contact(adm_id, c))


@route("/<digits:adm_id>/contacts/<digits:contact_id>", ("GET",), CONTACTS)
def contact(adm_id: str, contact_id: str) -> Response:
    found = sandbox().administration(adm_id)["contacts"].get(contact_id)
    if found is None:
        raise SandboxError(404, NOT_FOUND)
    return reply(render_contact(adm_id, found))


@route("/<digits:adm_id>/contacts/synchronization", ("GET", "POST"), CONTACTS)
def contacts_sync(adm_id: str) -> Response:
    adm = sandbox().administration(adm_id)
    if request.method == "GET":
        matches = contact_filter(request.args.get("filter"))
        return reply(
            [{"id": c["id"], "version": version_of(c["updated_at"])} for c in adm["contacts"].values() if matches(c)]
        )
    ids = [str(i) for i in body().get("ids") or []][:SYNC_POST_LIMIT]
    return reply([render_contact(adm_id, adm["contacts"][i]) for i in ids if i in adm["contacts"]])


@route("/<digits:adm_id>/contacts/<digits:contact_id>/notes", ("POST",), CONTACTS)
def contact_note(adm_id: str, contact_id: str) -> tuple[Response, int] | Response:
    state, adm = sandbox(), sandbox().administration(adm_id)
    found = adm["contacts"].get(contact_id)
    if found is None:
        raise SandboxError(404, NOT_FOUND)
    note = note_from_body(adm_id, "Contact", contact_id)
    found["notes"].append(note)
    found["updated_at"] = max(found["updated_at"], note["created_at"])
    write(adm, "note", [], contact_id=contact_id, text=note["note"], todo=note["todo"])
    state.emit(adm_id, "note_created", "Note", note["id"], None, render_note(adm_id, note))
    state.save()
    return reply(render_note(adm_id, note), 201)


def note_from_body(adm_id: str, entity_type: str, entity_id: str) -> Record:
    fields = body().get("note")
    fields = fields if isinstance(fields, dict) else {}
    text = str(fields.get("note") or "").strip()
    if not text:
        raise invalid("note")  # docs/providers/moneybird.md#write-back: 422 for a blank note
    assignee = fields.get("assignee_id")
    if assignee is not None and str(assignee) not in {u["id"] for u in sandbox().administration(adm_id)["users"]}:
        raise invalid("assignee_id", "is invalid", "invalid")
    todo = fields.get("todo") in (True, "true", "1", 1)
    return sandbox().new_note(adm_id, entity_type, entity_id, text, todo, str(assignee) if assignee else None)


# -- sales invoices: reading ---------------------------------------------------------------------------------
@route("/<digits:adm_id>/sales_invoices", ("GET",), SALES)
def sales_invoices(adm_id: str) -> Response:
    state = sandbox()
    adm = state.administration(adm_id)
    matcher = parse_invoice_filter(request.args.get("filter"), state.today(), default_period=True)
    found = [inv for inv in adm["invoices"].values() if matcher.matches(inv)]
    return paged(found, lambda inv: state.render(adm_id, inv))


@route("/<digits:adm_id>/sales_invoices/<digits:invoice_id>", ("GET",), SALES)
def sales_invoice(adm_id: str, invoice_id: str) -> Response:
    return reply(sandbox().render(adm_id, sandbox().invoice_record(adm_id, invoice_id)))


PDF_LINK_SECONDS = 30  # docs/providers/moneybird.md#invoice-pdf: "The link is valid for 30 seconds"


@route("/<digits:adm_id>/sales_invoices/<digits:invoice_id>/download_pdf", ("GET",), SALES)
def download_pdf(adm_id: str, invoice_id: str) -> Response:
    """A 302 to a short-lived download URL outside ``/api/v2`` (no bearer token needed there)."""
    state = sandbox()
    inv = state.invoice_record(adm_id, invoice_id)
    if state.pdf_failure is not None:
        return reply({"error": "PDF generation failed"}, state.pdf_failure)
    if inv["draft_id"] is not None and not inv["invoice_id"]:
        raise SandboxError(404, NOT_FOUND)  # a draft has no PDF to download yet
    expires = int(state.now().timestamp()) + PDF_LINK_SECONDS
    location = f"{request.host_url.rstrip('/')}/downloads/{adm_id}/sales_invoices/{invoice_id}.pdf?expires={expires}"
    return Response(status=302, headers={"Location": location})


@route("/<digits:adm_id>/sales_invoices/find_by_invoice_id/<number>", ("GET",), SALES)
def find_by_invoice_id(adm_id: str, number: str) -> Response:
    number = number.removesuffix(".json")
    for inv in sandbox().administration(adm_id)["invoices"].values():
        if inv["invoice_id"] == number:
            return reply(sandbox().render(adm_id, inv))
    raise SandboxError(404, NOT_FOUND)


@route("/<digits:adm_id>/sales_invoices/synchronization", ("GET", "POST"), SALES)
def sales_invoices_sync(adm_id: str) -> Response:
    state = sandbox()
    adm = state.administration(adm_id)
    # docs/providers/moneybird.md#incremental-sync: all matches, no paging, no default period
    if request.method == "GET":
        matcher = parse_invoice_filter(request.args.get("filter"), state.today(), default_period=False)
        return reply(
            [
                {"id": inv["id"], "version": version_of(inv["updated_at"])}
                for inv in adm["invoices"].values()
                if matcher.matches(inv)
            ]
        )
    ids = body().get("ids")
    if not isinstance(ids, list):
        raise SandboxError(400, {"error": "ids is required", "symbolic": {"ids": "required"}})
    wanted = [str(i) for i in ids][:SYNC_POST_LIMIT]
    return reply([state.render(adm_id, adm["invoices"][i]) for i in wanted if i in adm["invoices"]])
