"""The sandbox's Accounting API routes under ``/api.xro/2.0``: reads with Xero's filters and the write-back endpoints.

Requests arrive here after the gate in ``sandbox.py`` (token, tenant, scope, limits) has put the tenant in
``flask.g``. Lists go through ``sandbox_query`` (where/Statuses/IDs/If-Modified-Since/paging) and
``sandbox_render`` (Xero's JSON); writes (History notes, contact groups) are recorded in ``Org.writes`` so tests
can see every write-back the connector made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, Response, g, request

from adapters.xero import sandbox_render as render
from adapters.xero.sandbox_query import MAX_IDS, ListQuery, QueryError, list_query, select
from adapters.xero.sandbox_render import json_response
from adapters.xero.sandbox_state import CREDIT_KINDS, Org, SandboxError, XeroSandbox

API = "/api.xro/2.0"
MAX_GROUPS = 100  # xero.md §5.2
IDEMPOTENCY_WINDOW = timedelta(minutes=6)  # xero.md §5.1 (unverified secondary claim)


def register_api(app: Flask, sandbox: XeroSandbox) -> None:
    def org() -> Org:
        return sandbox.org(g.tenant)

    def query(paged_by_statuses: bool = True) -> ListQuery | Response:
        try:
            parsed = list_query(
                request.args, request.headers.get("If-Modified-Since"), paged_by_statuses=paged_by_statuses
            )
        except QueryError as exc:
            return json_response(render.validation_error(str(exc)), status=400)
        if parsed.ids is not None and len(parsed.ids) > MAX_IDS:
            return Response("The resource you're looking for cannot be found", status=404)  # URL too long
        return parsed

    def listing(
        key: str,
        records: list[dict[str, Any]],
        facts: Callable[[dict[str, Any]], dict[str, Any]],
        record_id: str,
        draw: Callable[[dict[str, Any], bool], dict[str, Any]],
    ) -> Response:
        parsed = query()
        if isinstance(parsed, Response):
            return parsed
        try:
            with sandbox.lock:
                chosen, pagination = select(records, parsed, facts=facts, record_id=record_id)
                items = [draw(r, pagination is not None) for r in chosen]
        except QueryError as exc:
            return json_response(render.validation_error(str(exc)), status=400)
        return json_response(render.envelope(sandbox, key, items, pagination))

    @app.get(f"{API}/Invoices")
    def invoices() -> Response:
        o = org()
        summary = request.args.get("summaryOnly") == "true"
        return listing(
            "Invoices",
            list(o.invoices.values()),
            lambda r: _invoice_facts(sandbox, o, r),
            "InvoiceID",
            lambda r, paged: render.invoice(sandbox, o, r, lines=paged, summary_only=summary),
        )

    @app.get(f"{API}/Invoices/<invoice_id>")
    def invoice(invoice_id: str) -> Response:
        o = org()
        found = _find_invoice(o, invoice_id)
        if found is None:
            return Response("The resource you're looking for cannot be found", status=404)
        with sandbox.lock:
            body = render.invoice(sandbox, o, found, lines=True, summary_only=False)
        return json_response(render.envelope(sandbox, "Invoices", [body]))

    @app.get(f"{API}/Invoices/<invoice_id>/OnlineInvoice")
    def online_invoice(invoice_id: str) -> Response:
        found = _find_invoice(org(), invoice_id)
        if found is None:
            return Response(status=404)
        if found["Type"] != "ACCREC" or found["Status"] in ("DRAFT", "DELETED"):
            message = "Online invoices are only available for approved sales invoices"
            return json_response(render.validation_error(message), 400)
        url = f"https://in.xero.com/{hashlib.sha256(found['InvoiceID'].encode()).hexdigest()[:32]}"
        return json_response(render.envelope(sandbox, "OnlineInvoices", [{"OnlineInvoiceUrl": url}]))

    @app.get(f"{API}/Invoices/<invoice_id>/History")
    def invoice_history(invoice_id: str) -> Response:
        o = org()
        found = _find_invoice(o, invoice_id)
        if found is None:
            return Response(status=404)
        created = {
            "Changes": "Created",
            "DateUTC": found["UpdatedDateUTC"],
            "User": "Sandbox User",
            "Details": f"INV {found['InvoiceNumber']} to {o.contacts.get(found['ContactID'], {}).get('Name')}",
        }
        records = [created, *o.history.get(found["InvoiceID"], [])]
        return json_response(render.envelope(sandbox, "HistoryRecords", [render.history(r) for r in records]))

    @app.route(f"{API}/Invoices/<invoice_id>/History", methods=["PUT", "POST"])
    def add_history(invoice_id: str) -> Response:
        o = org()
        found = _find_invoice(o, invoice_id)
        if found is None:
            return Response(status=404)
        replay = _idempotent(sandbox, request.headers.get("Idempotency-Key"))
        if replay is not None:
            return replay
        payload = request.get_json(silent=True) or {}
        records = payload.get("HistoryRecords") or []
        details = [str(r.get("Details") or "") for r in records if isinstance(r, dict)]
        if not details or any(not d or len(d) > 2500 for d in details):
            return json_response(render.validation_error("Details must be between 1 and 2500 characters"), 400)
        with sandbox.lock:
            created = []
            for text in details:
                note = {"Changes": "Note", "DateUTC": sandbox.now(), "User": "System Generated", "Details": text}
                o.history.setdefault(found["InvoiceID"], []).append(note)
                o.writes.append({"kind": "history", "invoice_ids": [found["InvoiceID"]], "text": text})
                created.append(render.history(note))
            sandbox.changed()
        response = json_response(render.envelope(sandbox, "HistoryRecords", created))
        _remember(sandbox, request.headers.get("Idempotency-Key"), response)
        return response

    def credit_listing(kind: str, key: str) -> Callable[[], Response]:
        def view() -> Response:
            o = org()
            store, id_key, _type = CREDIT_KINDS[kind]
            return listing(
                key,
                list(getattr(o, store).values()),
                _credit_facts,
                id_key,
                lambda r, _paged: render.credit(sandbox, o, kind, r),
            )

        view.__name__ = f"list_{kind}"
        return view

    app.get(f"{API}/CreditNotes")(credit_listing("credit_note", "CreditNotes"))
    app.get(f"{API}/Overpayments")(credit_listing("overpayment", "Overpayments"))
    app.get(f"{API}/Prepayments")(credit_listing("prepayment", "Prepayments"))

    @app.get(f"{API}/Payments")
    def payments() -> Response:
        o = org()
        return listing(
            "Payments", list(o.payments.values()), _payment_facts, "PaymentID", lambda r, _paged: render.payment(o, r)
        )

    @app.get(f"{API}/Contacts")
    def contacts() -> Response:
        o = org()
        flags = render.contact_flags(o)
        archived = request.args.get("includeArchived") == "true"
        records = [c for c in o.contacts.values() if archived or c["ContactStatus"] != "ARCHIVED"]
        summary = request.args.get("summaryOnly") == "true"
        return listing(
            "Contacts",
            records,
            lambda c: _contact_facts(c, flags),
            "ContactID",
            lambda r, paged: render.contact(sandbox, o, r, flags, full=paged and not summary),
        )

    @app.get(f"{API}/Contacts/<contact_id>")
    def contact(contact_id: str) -> Response:
        o = org()
        found = o.contacts.get(contact_id.lower())
        if found is None:
            return Response(status=404)
        body = render.contact(sandbox, o, found, render.contact_flags(o), full=True)
        return json_response(render.envelope(sandbox, "Contacts", [body]))

    @app.get(f"{API}/ContactGroups")
    def groups() -> Response:
        active = [
            render.group(org(), gr, with_contacts=False) for gr in org().groups.values() if gr["Status"] == "ACTIVE"
        ]
        return json_response(render.envelope(sandbox, "ContactGroups", active))

    @app.route(f"{API}/ContactGroups", methods=["PUT", "POST"])
    def create_groups() -> Response:
        o = org()
        wanted = [gr.get("Name", "") for gr in (request.get_json(silent=True) or {}).get("ContactGroups", [])]
        with sandbox.lock:
            active = [gr for gr in o.groups.values() if gr["Status"] == "ACTIVE"]
            if not wanted or any(not n for n in wanted) or len(active) + len(wanted) > MAX_GROUPS:
                return json_response(render.validation_error("A contact group needs a name (max 100 groups)"), 400)
            if any(n.lower() == gr["Name"].lower() for n in wanted for gr in active):
                return json_response(render.validation_error("You have already created this contact group"), 400)
            created = []
            for name in wanted:
                gid = sandbox.new_id()
                o.groups[gid] = {"ContactGroupID": gid, "Name": name, "Status": "ACTIVE", "contact_ids": []}
                o.writes.append({"kind": "contact_group", "action": "create", "group": name, "invoice_ids": []})
                created.append(render.group(o, o.groups[gid], with_contacts=True))
            sandbox.changed()
        return json_response(render.envelope(sandbox, "ContactGroups", created))

    @app.get(f"{API}/ContactGroups/<group_id>")
    def group(group_id: str) -> Response:
        found = org().groups.get(group_id.lower())
        if found is None:
            return Response(status=404)
        body = render.group(org(), found, with_contacts=True)
        return json_response(render.envelope(sandbox, "ContactGroups", [body]))

    @app.put(f"{API}/ContactGroups/<group_id>/Contacts")
    def add_to_group(group_id: str) -> Response:
        o = org()
        found = o.groups.get(group_id.lower())
        ids = [c.get("ContactID", "") for c in (request.get_json(silent=True) or {}).get("Contacts", [])]
        if found is None or found["Status"] != "ACTIVE":
            return Response(status=404)
        if not ids or any(cid not in o.contacts for cid in ids):
            return json_response(render.validation_error("Contact not found"), 400)
        with sandbox.lock:
            for cid in ids:
                if cid not in found["contact_ids"]:
                    found["contact_ids"].append(cid)
            o.writes.append(
                {
                    "kind": "contact_group",
                    "action": "add",
                    "group": found["Name"],
                    "contact_ids": ids,
                    "invoice_ids": [],
                }
            )
            sandbox.changed()
        return json_response(render.envelope(sandbox, "Contacts", [{"ContactID": cid} for cid in ids]))

    @app.delete(f"{API}/ContactGroups/<group_id>/Contacts/<contact_id>")
    def remove_from_group(group_id: str, contact_id: str) -> Response:
        o = org()
        found = o.groups.get(group_id.lower())
        if found is None or contact_id not in found["contact_ids"]:
            return Response(status=404)
        with sandbox.lock:
            found["contact_ids"].remove(contact_id)
            o.writes.append(
                {
                    "kind": "contact_group",
                    "action": "remove",
                    "group": found["Name"],
                    "contact_ids": [contact_id],
                    "invoice_ids": [],
                }
            )
            sandbox.changed()
        return Response(status=204)

    @app.get(f"{API}/Organisation")
    def organisation() -> Response:
        return json_response(render.envelope(sandbox, "Organisations", [render.organisation(org())]))

    @app.get(f"{API}/InvoiceReminders/Settings")
    def reminder_settings() -> Response:
        return json_response(render.envelope(sandbox, "InvoiceReminders", [{"Enabled": org().reminders_enabled}]))

    @app.errorhandler(SandboxError)
    def sandbox_error(exc: SandboxError) -> Response:
        return json_response(render.validation_error(str(exc)), 400)


def _find_invoice(org: Org, key: str) -> dict[str, Any] | None:
    """``GET /Invoices/{InvoiceID}`` also accepts an InvoiceNumber (xero.md §2.2)."""
    found = org.invoices.get(key.lower())
    if found is None:
        found = next((i for i in org.invoices.values() if i["InvoiceNumber"] and i["InvoiceNumber"] == key), None)
    return found


def _invoice_facts(sandbox: XeroSandbox, org: Org, inv: dict[str, Any]) -> dict[str, Any]:
    contact = org.contacts.get(inv["ContactID"], {})
    return {
        "type": inv["Type"],
        "status": inv["Status"],
        "invoiceid": inv["InvoiceID"],
        "invoicenumber": inv["InvoiceNumber"],
        "reference": inv["Reference"],
        "contact.contactid": inv["ContactID"],
        "contact.name": contact.get("Name"),
        "contact.contactnumber": contact.get("ContactNumber"),
        "date": inv["Date"],
        "duedate": inv["DueDate"],
        "amountdue": sandbox.amount_due(org, inv),
        "amountpaid": sandbox.amount_paid(org, inv),
        "updateddateutc": inv["UpdatedDateUTC"],
    }


def _credit_facts(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": record["Type"],
        "status": record["Status"],
        "contact.contactid": record["ContactID"],
        "date": record["Date"],
        "updateddateutc": record["UpdatedDateUTC"],
    }


def _payment_facts(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "paymenttype": record["PaymentType"],
        "status": record["Status"],
        "date": record["Date"],
        "invoice.invoiceid": record["InvoiceID"],
        "paymentid": record["PaymentID"],
        "reference": record["Reference"],
        "updateddateutc": record["UpdatedDateUTC"],
    }


def _contact_facts(record: dict[str, Any], flags: dict[str, tuple[bool, bool]]) -> dict[str, Any]:
    customer, supplier = flags.get(record["ContactID"], (False, False))
    return {
        "contactid": record["ContactID"],
        "name": record["Name"],
        "contactnumber": record["ContactNumber"],
        "contactstatus": record["ContactStatus"],
        "emailaddress": record["EmailAddress"],
        "iscustomer": customer,
        "issupplier": supplier,
        "updateddateutc": record["UpdatedDateUTC"],
    }


def _idempotent(sandbox: XeroSandbox, key: str | None) -> Response | None:
    if not key:
        return None
    cached = sandbox.idempotency.get((g.tenant, key))
    if cached is None or sandbox.now() - cached[0] > IDEMPOTENCY_WINDOW:
        return None
    return Response(cached[1], status=200, content_type="application/json; charset=utf-8")


def _remember(sandbox: XeroSandbox, key: str | None, response: Response) -> None:
    if key:
        sandbox.idempotency[(g.tenant, key)] = (sandbox.now(), response.get_data())
