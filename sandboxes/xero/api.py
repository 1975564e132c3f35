"""The Xero sandbox's Accounting API read routes under ``/api.xro/2.0``, with Xero's filters and paging.

Requests arrive here after the gate in ``app.py`` (token, tenant, scope, limits) has put the tenant in
``flask.g``. Lists go through ``query.py`` (where/Statuses/IDs/If-Modified-Since/paging) and ``render.py``
(Xero's JSON); the write-back endpoints (History notes, contact groups) are in ``writeback.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request

from sandboxes.pdf import invoice_pdf
from sandboxes.xero import render
from sandboxes.xero.query import MAX_IDS, ListQuery, QueryError, list_query, select
from sandboxes.xero.records import CREDIT_KINDS, Org, SandboxError
from sandboxes.xero.render import json_response
from sandboxes.xero.state import XeroSandbox

API = "/api.xro/2.0"


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
        found = find_invoice(o, invoice_id)
        if found is None:
            return Response("The resource you're looking for cannot be found", status=404)
        if request.accept_mimetypes.best == "application/pdf":  # docs/providers/xero.md#invoice-pdf
            return invoice_pdf_response(sandbox, o, found)
        with sandbox.lock:
            body = render.invoice(sandbox, o, found, lines=True, summary_only=False)
        return json_response(render.envelope(sandbox, "Invoices", [body]))

    @app.get(f"{API}/Invoices/<invoice_id>/OnlineInvoice")
    def online_invoice(invoice_id: str) -> Response:
        found = find_invoice(org(), invoice_id)
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
        found = find_invoice(o, invoice_id)
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

    @app.get(f"{API}/ContactGroups/<group_id>")
    def group(group_id: str) -> Response:
        found = org().groups.get(group_id.lower())
        if found is None:
            return Response(status=404)
        body = render.group(org(), found, with_contacts=True)
        return json_response(render.envelope(sandbox, "ContactGroups", [body]))

    @app.get(f"{API}/Organisation")
    def organisation() -> Response:
        return json_response(render.envelope(sandbox, "Organisations", [render.organisation(org())]))

    @app.get(f"{API}/InvoiceReminders/Settings")
    def reminder_settings() -> Response:
        return json_response(render.envelope(sandbox, "InvoiceReminders", [{"Enabled": org().reminders_enabled}]))

    @app.errorhandler(SandboxError)
    def sandbox_error(exc: SandboxError) -> Response:
        return json_response(render.validation_error(str(exc)), 400)


def invoice_pdf_response(sandbox: XeroSandbox, org: Org, invoice: dict[str, Any]) -> Response:
    """``GET /Invoices/{InvoiceID}`` with ``Accept: application/pdf``: the invoice as Xero prints it."""
    if sandbox.pdf_failure is not None:
        return json_response(render.validation_error("PDF could not be generated"), sandbox.pdf_failure)
    number = invoice["InvoiceNumber"] or invoice["InvoiceID"]
    body = invoice_pdf(org.name, number, f"{invoice['Total']:.2f}", invoice["CurrencyCode"])
    return Response(body, mimetype="application/pdf")


def find_invoice(org: Org, key: str) -> dict[str, Any] | None:
    """``GET /Invoices/{InvoiceID}`` also accepts an InvoiceNumber (docs/providers/xero.md#invoices)."""
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
