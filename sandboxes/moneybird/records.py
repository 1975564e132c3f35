"""Moneybird sandbox: the stored records' factories (ids, administrations, contacts, invoices) and the sandbox's day.

Used by ``seed.py`` to fill a new state and by ``state.py`` when a test or the demo creates a contact or an
invoice. Records are plain, JSON-persistable dicts (amounts in integer cents, dates as ISO strings) that
``render.py`` turns into the spec's shapes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandboxes.moneybird.render import Record, hex64, stamp

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ADMINISTRATION_IDS = ("178732006888903010", "178732006913750222", "178732006918727798", "178732006920000001")
WORKFLOW_STEPS = ((7, "Herinnering"), (14, "Tweede herinnering"), (14, "Aanmaning"))


class IdSource:
    """Sequential 18-digit ids (docs/providers/moneybird.md#tenants: 64-bit ids as JSON strings)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __call__(self) -> str:
        self.data["next_id"] += 1
        return str(self.data["next_id"])


def today_in_amsterdam(now: datetime) -> date:
    return now.astimezone(AMSTERDAM).date()


def new_administration(index: int, next_id: IdSource, now: datetime) -> Record:
    adm_id = ADMINISTRATION_IDS[index] if index < len(ADMINISTRATION_IDS) else str(178732006930000000 + index)
    created = stamp(now - timedelta(days=800))
    user_id = next_id()
    identity_id = next_id()
    workflows = []
    for name, auto in (("Standaard (automatische herinneringen)", True), ("Handmatig herinneren", False)):
        workflow_id = next_id()
        steps = [
            {
                "id": next_id(),
                "administration_id": adm_id,
                "step_order": order + 1,
                "due_interval": 14,
                "reminder_delay": delay,
                "reminder_text": f"{text}: factuur {{document.invoice_id}} staat open.",
                "reminder_auto_send": auto,
                "action": None,
                "created_at": created,
                "updated_at": created,
            }
            for order, (delay, text) in enumerate(WORKFLOW_STEPS)
        ]
        workflows.append(
            {
                "id": workflow_id,
                "administration_id": adm_id,
                "type": "InvoiceWorkflow",
                "name": name,
                "default": auto,
                "currency": "EUR",
                "language": "nl",
                "active": True,
                "prices_are_incl_tax": False,
                "payment_methods": ["bank_transfer"],
                "collection_method": None,
                "number_of_collections": 0,
                "show_qr_code": True,
                "created_at": created,
                "updated_at": created,
                "steps": steps,
            }
        )
    names = ("Parkietje B.V.", "Administratiekantoor Klant Holding B.V.", "Klant Twee B.V.", "Klant Drie B.V.")
    return {
        "info": {
            "id": adm_id,
            "name": names[index] if index < len(names) else f"Administratie {index + 1}",
            "language": "nl",
            "currency": "EUR",
            "country": "NL",
            "time_zone": "Europe/Amsterdam",
            # docs/providers/moneybird.md#tenants: own vs via an accountant company
            "access": "user" if index == 0 else "accountant_company",
            "suspended": False,
            "period_locked_until": None,
            "period_start_date": f"{now.year - 2}-01-01",
            "_tax_rate_id": next_id(),
            "_ledger_account_id": next_id(),
        },
        "users": [
            {
                "id": user_id,
                "name": "Sandbox Gebruiker",
                "created_at": created,
                "updated_at": created,
                "email": f"owner-{adm_id[-4:]}@example.com",
                "email_validated": True,
                "language": "nl",
                "time_zone": "Europe/Amsterdam",
                "user_type": "owner",
                "permissions": ["sales_invoices", "documents", "estimates", "bank", "settings"],
            }
        ],
        "identities": [
            {
                "id": identity_id,
                "administration_id": adm_id,
                "company_name": names[min(index, 3)],
                "city": "Amsterdam",
                "country": "NL",
                "zipcode": "1012AB",
                "address1": "Damrak 1",
                "address2": None,
                "email": "facturen@example.com",
                "phone": "020-1234567",
                "bank_account_name": names[min(index, 3)],
                "bank_account_number": "NL91ABNA0417164300",
                "bank_account_bic": "ABNANL2A",
                "custom_fields": [],
                "updated_at": created,
                "created_at": created,
                "chamber_of_commerce": "12345678",
                "tax_number": "NL001234567B01",
            }
        ],
        "document_styles": [
            {
                "id": next_id(),
                "administration_id": adm_id,
                "name": "Standaard",
                "identity_id": identity_id,
                "default": True,
                "logo_hash": None,
                "logo_container_full_width": False,
                "logo_display_width": 50,
                "logo_position": "left",
                "background_hash": None,
                "paper_size": "A4",
                "address_position": "left",
                "font_size": 10,
                "font_family": "Helvetica",
                "print_on_stationery": False,
                "custom_css": None,
                "invoice_sender_address": [],
                "invoice_metadata_left": [],
                "invoice_metadata_right": [],
                "estimate_sender_address": [],
                "estimate_metadata_left": [],
                "estimate_metadata_right": [],
                "created_at": created,
                "updated_at": created,
            }
        ],
        "workflows": workflows,
        "contacts": {},
        "invoices": {},
        "webhooks": {},
        "writes": [],
        "number_seq": 0,
        "draft_seq": 0,
    }


def new_contact(
    adm_id: str,
    contact_id: str,
    customer_number: int,
    *,
    person: tuple[str, str] | None,
    company: str | None,
    kvk: str | None,
    city: tuple[str, str],
    created: str,
) -> Record:
    slug = (company or (f"{person[0]}.{person[1]}" if person else "klant")).lower()
    email = "facturen@" + "".join(ch for ch in slug if ch.isalnum())[:20] + ".example.com"
    return {
        "id": contact_id,
        "administration_id": adm_id,
        "company_name": company,
        "firstname": person[0] if person else None,
        "lastname": person[1] if person else None,
        "address1": f"Kerkstraat {customer_number}",
        "address2": None,
        "zipcode": city[1],
        "city": city[0],
        "country": "NL",
        "phone": f"06-{10000000 + customer_number * 7919 % 89999999}",
        "delivery_method": "Email",
        "customer_id": str(customer_number),
        "tax_number": f"NL{kvk}0B01" if kvk else None,
        "chamber_of_commerce": kvk,
        "bank_account": None,
        "is_trusted": False,
        "max_transfer_amount": None,
        "attention": None,
        "email": email,
        "email_ubl": company is not None,
        "send_invoices_to_attention": None,
        "send_invoices_to_email": email,
        "send_estimates_to_attention": None,
        "send_estimates_to_email": email,
        "direct_debit": False,
        "sepa_active": False,
        "sepa_iban": None,
        "sepa_iban_account_name": None,
        "sepa_bic": None,
        "sepa_mandate_id": None,
        "sepa_mandate_date": None,
        "sepa_sequence_type": "RCUR",
        "credit_card_number": None,
        "credit_card_reference": None,
        "credit_card_type": None,
        "tax_number_validated_at": None,
        "tax_number_valid": None,
        "invoice_workflow_id": None,
        "estimate_workflow_id": None,
        "si_identifier": None,
        "si_identifier_type": None,
        "moneybird_payments_mandate": False,
        "created_at": created,
        "updated_at": created,
        "sales_invoices_url": f"https://moneybird.com/{adm_id}/sales_invoices/{hex64(adm_id, contact_id)}/all",
        "notes": [],
        "custom_fields": [],
        "contact_people": [],
        "archived": False,
        "events": [],
    }


def new_invoice(
    adm: Record,
    next_id: IdSource,
    *,
    contact_id: str,
    excl_cents: int,
    invoice_date: date | None,
    due_date: date,
    created: datetime,
    workflow: Record,
    draft: bool = False,
) -> Record:
    """A sent (or draft) invoice with one line at 21 % VAT; the caller sets state, events and payments."""
    info = adm["info"]
    invoice_id = next_id()
    number: str | None = None
    draft_id: int | None = None
    if draft:
        adm["draft_seq"] += 1
        draft_id = adm["draft_seq"]
    else:
        adm["number_seq"] += 1
        number = f"{(invoice_date or due_date).year}-{adm['number_seq']:04d}"
    return {
        "id": invoice_id,
        "contact_id": contact_id,
        "invoice_id": number,
        "draft_id": draft_id,
        "state": "open",
        "invoice_date": invoice_date.isoformat() if invoice_date else None,
        "due_date": due_date.isoformat(),
        "reference": f"Project {invoice_id[-5:]}",
        "workflow_id": workflow["id"],
        "document_style_id": adm["document_styles"][0]["id"],
        "identity_id": adm["identities"][0]["id"],
        "original_sales_invoice_id": None,
        "paused": False,
        "paid_at": None,
        "sent_at": None if draft else (invoice_date or due_date).isoformat(),
        "created_at": stamp(created),
        "updated_at": stamp(created),
        "lines": [
            {
                "id": next_id(),
                "description": "Werkzaamheden",
                "price_cents": excl_cents,
                "tax_rate_id": info["_tax_rate_id"],
                "ledger_account_id": info["_ledger_account_id"],
            }
        ],
        "excl_cents": excl_cents,
        "tax_cents": round(excl_cents * 21 / 100),
        "payments": [],
        "notes": [],
        "events": [],
        "reminder_count": 0,
        "next_reminder": None if draft else due_date.isoformat(),
        "marked_dubious_on": None,
        "marked_uncollectible_on": None,
        "payment_reference": f"RF{int(invoice_id) % 97:02d}{invoice_id[-12:]}",
        "public_view_code": f"{int(invoice_id) % 900000 + 100000}",
    }
