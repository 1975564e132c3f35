"""Moneybird's declaration (OAuth, limits, retry classification) and the contract methods the core calls.

Reads go through the synchronization API (one id+version list, then at most 100 full records per POST), so a
sync costs 1 + ceil(changed / 100) requests; payments arrive embedded in invoices. See ``client.py`` for HTTP,
``mapping.py`` for the translation, ``webhooks.py`` and ``writeback.py`` for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from adapters.moneybird import mapping, webhooks, writeback
from adapters.moneybird.client import MoneybirdClient
from connector.errors import NotFound
from connector.http.retry import parse_retry_after
from connector.model import (
    Capability,
    CreditNote,
    Debtor,
    Invoice,
    Page,
    ProviderReminderSettings,
    ReminderWrite,
    Tenant,
    TokenSet,
    WriteResult,
)
from connector.ports import AccountingAdapter, KnownVersions, OAuthSpec, RateLimit, ResponseAction, WebhookRegistration
from connector.settings import MoneybirdConfig

WEBHOOK_EVENTS = (
    # group: created/updated/destroyed/state changes/send/paused/marked_as (docs/providers/moneybird.md#subscribing)
    "sales_invoice",
    "payment",
    "contact",
    "credit_invoice_created_from_original",
    "administration",
    "access_token_revoked",
    "workflow_updated",
)


class MoneybirdAdapter(AccountingAdapter):
    id: ClassVar[str] = "moneybird"
    name: ClassVar[str] = "Moneybird"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.WEBHOOKS,
            Capability.PAYMENT_EVENTS,
            Capability.SEND_REMINDER,
            Capability.WRITE_NOTE,
            Capability.PAUSE_PROVIDER_REMINDERS,
            Capability.CREDIT_HOLD,
            Capability.MARK_UNCOLLECTIBLE,
            Capability.PAYMENT_LINK,
            Capability.INVOICE_PDF,
        }
    )
    oauth: ClassVar[OAuthSpec] = OAuthSpec(
        authorize_path="/oauth/authorize",
        token_path="/oauth/token",
        scopes=("sales_invoices", "settings"),  # docs/providers/moneybird.md#scopes: webhooks need `settings`
        default_expires_in=None,  # docs/providers/moneybird.md#tokens: tokens currently do not expire
    )
    limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(150, 300, scope="connection", name="5min"),)
    page_size: ClassVar[int] = 100

    def __init__(self, http: Any, config: MoneybirdConfig, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(http, config, clock=clock)
        self.client = MoneybirdClient(http, config.base_url)

    @classmethod
    def classify(cls, status: int, headers: Mapping[str, str], body: bytes) -> ResponseAction:
        if status == 401 and b"No access to" in body:
            # docs/providers/moneybird.md#scopes: a missing scope is a 401 no refresh can fix
            return ResponseAction.PERMANENT
        return super().classify(status, headers, body)

    @staticmethod
    def retry_at(status: int, headers: Mapping[str, str], now: datetime) -> tuple[datetime | None, str]:
        # docs/providers/moneybird.md#rate-limits: Retry-After / RateLimit-Reset are ABSOLUTE epoch seconds (small
        # values: delta)
        return parse_retry_after(headers.get("Retry-After") or headers.get("RateLimit-Reset"), now), "5min"

    @staticmethod
    def parse_token_response(body: Mapping[str, Any], now: datetime) -> TokenSet:
        return mapping.token_set(body, now)

    verify_webhook = staticmethod(webhooks.verify)
    parse_webhook = staticmethod(webhooks.parse)
    is_webhook_handshake = staticmethod(webhooks.is_handshake)
    webhook_tenant_hint = staticmethod(webhooks.tenant_hint)

    def list_tenants(self) -> list[Tenant]:
        return [mapping.tenant(a) for a in self.client.administrations()]

    def iter_debtor_pages(self, tenant: str, cursor: str | None, known: KnownVersions) -> Iterator[Page[Debtor]]:
        for batch, calls in self.client.changed_records(tenant, "contacts", known):
            yield Page(records=[mapping.debtor(c) for c in batch], api_calls=calls)

    def iter_invoice_pages(self, tenant: str, cursor: str | None, known: KnownVersions) -> Iterator[Page[Invoice]]:
        for batch, calls in self.client.changed_records(tenant, "sales_invoices", known):
            yield _invoice_page(batch, calls)

    def fetch_invoices(self, tenant: str, refs: Sequence[str]) -> list[Invoice]:
        records = self.client.fetch(tenant, "sales_invoices", refs)
        return [inv for inv in (mapping.invoice(r) for r in records) if inv is not None]

    def fetch_invoice_page(self, tenant: str, refs: Sequence[str]) -> Page[Invoice]:
        records = self.client.fetch(tenant, "sales_invoices", refs)
        return _invoice_page(records, max(1, -(-len(refs) // 100)))

    def fetch_payments_for(self, tenant: str, invoice_refs: Sequence[str]) -> list[Any]:
        records = self.client.fetch(tenant, "sales_invoices", invoice_refs)
        return [p for r in records for p in mapping.payments(r)]

    def fetch_credit_notes(self, tenant: str, refs: Sequence[str]) -> list[CreditNote]:
        records = self.client.fetch(tenant, "sales_invoices", refs)
        return [c for c in (mapping.credit_note(r) for r in records) if c is not None]

    def fetch_debtors(self, tenant: str, refs: Sequence[str]) -> list[Debtor]:
        return [mapping.debtor(c) for c in self.client.fetch(tenant, "contacts", refs)]

    def invoice_pdf(self, tenant: str, invoice_ref: str) -> bytes:
        return self.client.download_pdf(tenant, invoice_ref)

    def reminder_settings(self, tenant: str) -> ProviderReminderSettings:
        return mapping.reminder_settings(self.client.workflows(tenant))

    def write_reminder_status(self, tenant: str, write: ReminderWrite) -> WriteResult:
        return writeback.write(self.client, tenant, write)

    def register_webhook(self, tenant: str, url: str) -> WebhookRegistration:
        created = self.client.create_webhook(tenant, url, list(WEBHOOK_EVENTS))
        return WebhookRegistration(provider_ref=str(created["id"]), secret=created.get("secret"))

    def remove_webhook(self, tenant: str, provider_ref: str) -> None:
        try:
            self.client.delete_webhook(tenant, provider_ref)
        except NotFound:
            return  # removed in Moneybird already


def _invoice_page(batch: list[dict[str, Any]], calls: int) -> Page[Invoice]:
    invoices: list[Invoice] = []
    notes: list[CreditNote] = []
    payments = []
    for record in batch:
        credit = mapping.credit_note(record)
        if credit is not None:
            notes.append(credit)
            continue
        invoice = mapping.invoice(record)
        if invoice is not None:
            invoices.append(invoice)
            payments.extend(mapping.payments(record))
    return Page(records=invoices, credit_notes=notes, payments=payments, api_calls=calls)
