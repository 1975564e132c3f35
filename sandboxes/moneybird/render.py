"""Moneybird sandbox: record helpers and the JSON renderers that give stored records their wire shape.

Sits between the sandbox state (``state.py``, plain JSON-persistable dicts with amounts in integer cents) and the HTTP
routes (``api.py``, ``writeback.py``): every response body the emulator sends for an invoice, contact, payment, note,
event, workflow, webhook or refused request (``SandboxError``) is built here, in exactly the shape of the official
spec's ``*_response`` schemas (``unevaluatedProperties: false``: no extra keys).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

Record = dict[str, Any]

SCOPES = ("sales_invoices", "documents", "estimates", "bank", "time_entries", "settings")
INVOICE_STATES = ("draft", "scheduled", "open", "pending_payment", "reminded", "late", "paid", "uncollectible")
OPEN_FOR_DUNNING = ("open", "pending_payment", "reminded", "late")  # docs/providers/moneybird.md#invoice-states
PAUSED_NEXT_REMINDER = "2099-01-01"  # docs/providers/moneybird.md#invoices: sentinel while paused


class SandboxError(Exception):
    """A request the real API refuses; the routes turn it into ``status`` + JSON ``body``."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


NOT_FOUND = {"error": "record not found", "symbolic": {"id": "not_found"}}  # docs/providers/moneybird.md#invoices


def money(cents: int) -> str:
    """Moneybird's decimal-string amounts (docs/providers/moneybird.md#invoices): "121.0", "121.5", "121.55",
    "-50.0"."""
    text = f"{Decimal(cents).scaleb(-2):.2f}"
    return text[:-1] if text.endswith("0") else text


def cents_of(amount: Decimal | str | int) -> int:
    return int((Decimal(str(amount)) * 100).to_integral_value())


def stamp(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` (``2026-08-21T13:50:07.133Z``)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def version_of(updated_at: str) -> int:
    """docs/providers/moneybird.md#incremental-sync: ``version`` is the Unix second of ``updated_at``."""
    return int(parse_stamp(updated_at).timestamp())


def hex64(*parts: object) -> str:
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


def iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def render_event(adm_id: str, event: Record) -> Record:
    return {
        "administration_id": adm_id,
        "user_id": event["user_id"],
        "action": event["action"],
        "link_entity_id": event.get("link_entity_id"),
        "link_entity_type": event.get("link_entity_type"),
        "data": dict(event.get("data") or {}),
        "created_at": event["created_at"],
        "updated_at": event["created_at"],
    }


def render_note(adm_id: str, note: Record) -> Record:
    return {
        "id": note["id"],
        "administration_id": adm_id,
        "entity_id": note["entity_id"],
        "entity_type": note["entity_type"],
        "user_id": note["user_id"],
        "assignee_id": note.get("assignee_id"),
        "todo": bool(note.get("todo")),
        "note": note["note"],
        "completed_at": None,
        "completed_by_id": None,
        "todo_type": None,
        "data": {},
        "created_at": note["created_at"],
        "updated_at": note["created_at"],
    }


def render_payment(adm_id: str, invoice_id: str, payment: Record) -> Record:
    return {
        "id": payment["id"],
        "administration_id": adm_id,
        "invoice_type": "SalesInvoice",
        "invoice_id": invoice_id,
        "financial_account_id": payment.get("financial_account_id"),
        "user_id": payment["user_id"],
        "payment_transaction_id": None,
        "transaction_identifier": payment.get("transaction_identifier"),
        "price": money(payment["price_cents"]),
        "price_base": money(payment["price_cents"]),
        "payment_date": payment["payment_date"],
        "credit_invoice_id": payment.get("credit_invoice_id"),
        "financial_mutation_id": None,
        "ledger_account_id": None,
        "linked_payment_id": None,
        "manual_payment_action": payment.get("manual_payment_action"),
        "created_at": payment["created_at"],
        "updated_at": payment["created_at"],
    }


CONTACT_KEYS_EXCLUDED_FROM_EMBED = ("events",)


def render_contact(adm_id: str, contact: Record, *, embedded: bool = False) -> Record:
    """``contact_response`` (full, with ``events``) or ``simple_contact_response`` (embedded in invoices)."""
    out = {key: value for key, value in contact.items() if not key.startswith("_") and key not in ("notes", "events")}
    out["administration_id"] = adm_id
    out["version"] = version_of(contact["updated_at"])
    out["notes"] = [render_note(adm_id, n) for n in contact.get("notes", [])]
    if not embedded:
        out["events"] = [render_event(adm_id, e) for e in contact.get("events", [])]
    return out


def invoice_totals(inv: Record) -> tuple[int, int, int]:
    """(total incl. tax, paid, unpaid) in cents."""
    total = inv["excl_cents"] + inv["tax_cents"]
    paid = sum(p["price_cents"] for p in inv["payments"])
    return total, paid, total - paid


def render_invoice(adm: Record, inv: Record, public_url: str) -> Record:
    """``sales_invoice_response`` (docs/providers/moneybird.md#invoices)."""
    adm_id = adm["info"]["id"]
    contact = adm["contacts"][inv["contact_id"]]
    total, paid, unpaid = invoice_totals(inv)
    view = f"{public_url}/{adm_id}/external/{hex64(adm_id, inv['id'])}/{hex64('view', inv['id'])}/sales_invoice"
    return {
        "id": inv["id"],
        "administration_id": adm_id,
        "contact_id": inv["contact_id"],
        "contact": render_contact(adm_id, contact, embedded=True),
        "contact_person_id": None,
        "contact_person": None,
        "invoice_id": inv["invoice_id"],
        "recurring_sales_invoice_id": None,
        "subscription_id": None,
        "workflow_id": inv["workflow_id"],
        "document_style_id": inv["document_style_id"],
        "identity_id": inv["identity_id"],
        "draft_id": inv["draft_id"],
        "state": inv["state"],
        "invoice_date": inv["invoice_date"],
        "due_date": inv["due_date"],
        "payment_conditions": "We verzoeken u vriendelijk het bovenstaande bedrag van {document.total_price} voor "
        "{document.due_date} te voldoen op onze bankrekening onder vermelding van de omschrijving "
        "{document.payment_reference}.",
        "payment_reference": inv["payment_reference"],
        "short_payment_reference": inv["payment_reference"][:4] + inv["payment_reference"][-8:],
        "reference": inv["reference"],
        "language": "nl",
        "currency": adm["info"]["currency"],
        "discount": "0.0",
        "original_sales_invoice_id": inv["original_sales_invoice_id"],
        "paused": inv["paused"],
        "paid_at": inv["paid_at"],
        "sent_at": inv["sent_at"],
        "created_at": inv["created_at"],
        "updated_at": inv["updated_at"],
        "public_view_code": inv["public_view_code"],
        "public_view_code_expires_at": None,
        "version": version_of(inv["updated_at"]),
        "details": [_render_detail(adm_id, inv, line) for line in inv["lines"]],
        "payments": [render_payment(adm_id, inv["id"], p) for p in inv["payments"]],
        "total_paid": money(paid),
        "total_unpaid": money(unpaid),
        "total_unpaid_base": money(unpaid),
        "prices_are_incl_tax": False,
        "total_price_excl_tax": money(inv["excl_cents"]),
        "total_price_excl_tax_base": money(inv["excl_cents"]),
        "total_price_incl_tax": money(total),
        "total_price_incl_tax_base": money(total),
        "total_discount": "0.0",
        "marked_dubious_on": inv.get("marked_dubious_on"),
        "marked_uncollectible_on": inv.get("marked_uncollectible_on"),
        "reminder_count": inv["reminder_count"],
        "next_reminder": inv["next_reminder"],
        "original_estimate_id": None,
        "url": view,
        "payment_url": view.replace("/sales_invoice", "/sales_invoice/pay_online"),
        "custom_fields": [],
        "notes": [render_note(adm_id, n) for n in inv["notes"]],
        "attachments": [],
        "events": [render_event(adm_id, e) for e in inv["events"]],
        "tax_totals": [
            {
                "tax_rate_id": adm["info"]["_tax_rate_id"],
                "taxable_amount": money(inv["excl_cents"]),
                "taxable_amount_base": money(inv["excl_cents"]),
                "tax_amount": money(inv["tax_cents"]),
                "tax_amount_base": money(inv["tax_cents"]),
            }
        ],
        "time_entries": [],
    }


def _render_detail(adm_id: str, inv: Record, line: Record) -> Record:
    return {
        "id": line["id"],
        "administration_id": adm_id,
        "tax_rate_id": line["tax_rate_id"],
        "ledger_account_id": line["ledger_account_id"],
        "project_id": None,
        "product_id": None,
        "amount": "1 x",
        "amount_decimal": "1.0",
        "description": line["description"],
        "price": money(line["price_cents"]),
        "period": None,
        "row_order": 1,
        "total_price_excl_tax_with_discount": money(line["price_cents"]),
        "total_price_excl_tax_with_discount_base": money(line["price_cents"]),
        "tax_report_reference": ["NL/1a"],
        "mandatory_tax_text": None,
        "created_at": inv["created_at"],
        "updated_at": inv["created_at"],
    }


def render_administration(adm: Record) -> Record:
    return {key: value for key, value in adm["info"].items() if not key.startswith("_")}


def render_webhook(webhook: Record, *, with_secret: bool = False) -> Record:
    out = {
        "id": webhook["id"],
        "administration_id": webhook["administration_id"],
        "url": webhook["url"],
        "enabled_events": list(webhook["enabled_events"]),
        "last_http_status": webhook.get("last_http_status"),
        "last_http_body": webhook.get("last_http_body"),
        "token": webhook["token"],
        "deactivated_at": webhook.get("deactivated_at"),
    }
    if with_secret:  # docs/providers/moneybird.md#subscribing: the secret is only returned at creation
        out["secret"] = webhook["secret"]
    return out
