"""Xero's declaration (OAuth with PKCE, limits, retry classification) and the contract methods the core calls.

Reads: ``/connections`` lists tenants; invoices, payments, credit notes and contacts are keyset-paged lists of
1000 (``reader.py``), so a full sync of N sales invoices costs ceil(N/1000) calls (+1 when N is a multiple of
1000) plus the open-receivables refresh every ``full_refresh_hours``. Payments have no webhook and are polled
with If-Modified-Since (docs/providers/xero.md#subscribing). The online invoice URL costs one call per invoice, so it is
fetched at write-back/template time (``online_invoice_url``), never during sync. HTTP: ``client.py``; translation:
``mapping.py``; webhooks: ``webhooks.py``; write-back: ``writeback.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from adapters.xero import mapping, webhooks, writeback
from adapters.xero.client import XeroClient
from adapters.xero.reader import Cursor, keyset_pages, refresh_due, refresh_pages
from connector.clock import Clock, utcnow
from connector.model import (
    Capability,
    CreditNote,
    Debtor,
    Invoice,
    Page,
    Payment,
    ProviderReminderSettings,
    ReminderWrite,
    Tenant,
    TokenSet,
    WriteResult,
)
from connector.ports import (
    DEFAULT_STATUS_ACTIONS,
    AccountingAdapter,
    ApiSession,
    KnownVersions,
    OAuthSpec,
    RateLimit,
    RateObservation,
    ResponseAction,
)
from connector.settings import XeroConfig

# docs/providers/xero.md#scopes: apps created from 2 March 2026 must use granular scopes; older apps the broad ones.
GRANULAR_SCOPES = (
    "offline_access",
    "accounting.invoices",
    "accounting.payments.read",
    "accounting.contacts",
    "accounting.settings.read",
)
BROAD_SCOPES = ("offline_access", "accounting.transactions", "accounting.contacts", "accounting.settings.read")
ACCREC = 'Type=="ACCREC"'


class XeroAdapter(AccountingAdapter):
    id: ClassVar[str] = "xero"
    name: ClassVar[str] = "Xero"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.WEBHOOKS,
            Capability.WRITE_NOTE,
            Capability.CREDIT_HOLD,
            Capability.PAYMENT_LINK,
            Capability.INVOICE_PDF,
        }
    )
    oauth: ClassVar[OAuthSpec] = OAuthSpec(
        authorize_path="/identity/connect/authorize",
        token_path="/connect/token",
        scopes=GRANULAR_SCOPES,  # XeroConfig.granular_scopes=False: see ``scopes_for``
        authorize_url_setting="login_url",
        token_url_setting="identity_url",  # noqa: S106 - a setting name
        pkce=True,
        # docs/providers/xero.md#endpoints; a PKCE app without secret sends client_id in the body
        client_auth="client_secret_basic",
        refresh_leeway_seconds=120,
        default_expires_in=1800,
        refresh_token_grace_seconds=1800,  # docs/providers/xero.md#tokens
        refresh_token_lifetime_days=60,
    )
    limits: ClassVar[tuple[RateLimit, ...]] = (
        RateLimit(60, 60, scope="tenant", name="minute"),
        RateLimit(5000, 86400, scope="tenant", name="day"),
        RateLimit(10000, 60, scope="app", name="app_minute"),
    )
    max_in_flight: ClassVar[int | None] = 5
    page_size: ClassVar[int] = 1000
    # docs/providers/xero.md#errors: 403 = the tenant is not (any more) on this token -> reauth; 5xx back off (the
    # default)
    status_actions: ClassVar[Mapping[int, ResponseAction]] = {**DEFAULT_STATUS_ACTIONS, 403: ResponseAction.REAUTH}

    def __init__(self, http: ApiSession, config: XeroConfig, *, clock: Clock = utcnow) -> None:
        super().__init__(http, config, clock=clock)
        self.client = XeroClient(http, config.api_url)

    @classmethod
    def scopes_for(cls, config: Any) -> tuple[str, ...]:
        """The scopes to request: granular or broad per ``XeroConfig.granular_scopes``."""
        return GRANULAR_SCOPES if getattr(config, "granular_scopes", True) else BROAD_SCOPES

    @classmethod
    def oauth_for(cls, config: Any) -> OAuthSpec:
        return replace(cls.oauth, scopes=cls.scopes_for(config))

    # --- declarations --------------------------------------------------------------------------------------
    @staticmethod
    def retry_at(status: int, headers: Mapping[str, str], now: datetime) -> tuple[datetime | None, str]:
        """docs/providers/xero.md#rate-limits: ``Retry-After`` is delta seconds; ``X-Rate-Limit-Problem`` names the
        limit (day parks)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        problem = (lowered.get("x-rate-limit-problem") or "minute").strip().lower()
        scope = "day" if problem == "day" else "app" if problem.startswith("app") else problem
        raw = (lowered.get("retry-after") or "").strip()
        if raw.isdigit():
            return now + timedelta(seconds=int(raw)), scope
        if scope == "day":
            return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC), scope
        return (now + timedelta(seconds=60) if status == 429 else None), scope

    @staticmethod
    def rate_observation(headers: Mapping[str, str], now: datetime) -> list[RateObservation]:
        """docs/providers/xero.md#rate-limits: every response says what is left of the tenant's minute and day and the
        app's minute.

        Xero sends no reset instant: an exhausted minute parks for a minute; an exhausted day is parked by the
        429 that follows, whose Retry-After gives the real reset.
        """
        lowered = {k.lower(): v for k, v in headers.items()}
        seen = []
        for scope, name in (
            ("minute", "x-minlimit-remaining"),
            ("day", "x-daylimit-remaining"),
            ("app", "x-appminlimit-remaining"),
        ):
            raw = (lowered.get(name) or "").strip()
            if raw.lstrip("-").isdigit():
                reset = now + timedelta(seconds=60) if scope in ("minute", "app") else None
                seen.append(RateObservation(scope, int(raw), reset))
        return seen

    @staticmethod
    def parse_token_response(body: Mapping[str, Any], now: datetime) -> TokenSet:
        return mapping.token_set(body, now)

    verify_webhook = staticmethod(webhooks.verify)
    parse_webhook = staticmethod(webhooks.parse)
    webhook_tenant_hint = staticmethod(webhooks.tenant_hint)

    # --- reads ---------------------------------------------------------------------------------------------
    def list_tenants(self) -> list[Tenant]:
        """Every ORGANISATION connection of this grant (docs/providers/xero.md#tenants), with zone and currency from
        /Organisation."""
        connections = [c for c in self.client.connections() if c.get("tenantType", "ORGANISATION") == "ORGANISATION"]
        return [mapping.tenant(c, self.client.organisation(str(c["tenantId"]))) for c in connections]

    def iter_invoice_pages(self, tenant: str, cursor: str | None, known: KnownVersions) -> Iterator[Page[Invoice]]:
        state, now = Cursor.load(cursor), self.clock()
        first_run = state.last_refresh is None  # a full read (maybe resumed) that has not finished yet
        if state.refreshing or (not first_run and refresh_due(state, now, self.config.full_refresh_hours)):
            for records, after in refresh_pages(self.client, tenant, state, now):
                yield _invoice_page(records, after, known)
                state = after
        for records, after, done in keyset_pages(self.client, tenant, "Invoices", state, where=ACCREC):
            if done and first_run:  # the full read covered every open invoice: it counts as a refresh
                after = replace(after, last_refresh=now.astimezone(UTC).isoformat())
            yield _invoice_page(records, after, known)

    def iter_payment_pages(self, tenant: str, cursor: str | None, known: KnownVersions) -> Iterator[Page[Payment]]:
        for records, after, _done in keyset_pages(
            self.client, tenant, "Payments", Cursor.load(cursor), where='PaymentType=="ACCRECPAYMENT"'
        ):
            live = [r for r in records if r.get("Status") != "DELETED"]
            payments = [p for p in (mapping.payment(r) for r in live) if p is not None]
            deleted = [str(r["PaymentID"]) for r in records if r.get("Status") == "DELETED"]
            yield Page(records=payments, cursor=after.dump(), deleted_refs=deleted)

    def iter_credit_note_pages(
        self, tenant: str, cursor: str | None, known: KnownVersions
    ) -> Iterator[Page[CreditNote]]:
        for records, after, _done in keyset_pages(
            self.client, tenant, "CreditNotes", Cursor.load(cursor), where='Type=="ACCRECCREDIT"'
        ):
            notes = [n for n in (mapping.credit_note(r) for r in records) if n is not None]
            gone = [
                str(r["CreditNoteID"])
                for r in records
                if r.get("Type") == "ACCRECCREDIT" and r.get("Status") in ("DELETED", "VOIDED")
            ]
            payments = [
                p
                for r in records
                if r.get("Status") not in ("DELETED", "VOIDED")
                for p in mapping.credit_allocations(r)
            ]
            yield Page(records=notes, cursor=after.dump(), deleted_refs=gone, payments=payments)

    def iter_debtor_pages(self, tenant: str, cursor: str | None, known: KnownVersions) -> Iterator[Page[Debtor]]:
        for records, after, _done in keyset_pages(
            self.client, tenant, "Contacts", Cursor.load(cursor), extra={"includeArchived": "true"}
        ):
            wanted = [r for r in records if r.get("IsCustomer") or not r.get("IsSupplier")]
            yield Page(records=[mapping.debtor(r, self.config.credit_stop_group) for r in wanted], cursor=after.dump())

    def fetch_invoices(self, tenant: str, refs: Sequence[str]) -> list[Invoice]:
        records = self.client.by_ids(tenant, "Invoices", refs)
        return [i for i in (mapping.invoice(r) for r in records if r.get("Status") != "DELETED") if i is not None]

    def fetch_payments_for(self, tenant: str, invoice_refs: Sequence[str]) -> list[Payment]:
        return [p for r in self.client.by_ids(tenant, "Invoices", invoice_refs) for p in mapping.embedded_payments(r)]

    def fetch_debtors(self, tenant: str, refs: Sequence[str]) -> list[Debtor]:
        return [mapping.debtor(r, self.config.credit_stop_group) for r in self.client.by_ids(tenant, "Contacts", refs)]

    def reminder_settings(self, tenant: str) -> ProviderReminderSettings:
        return mapping.reminder_settings(self.client.invoice_reminders(tenant))

    def online_invoice_url(self, tenant: str, invoice_ref: str) -> str | None:
        """The debtor-facing invoice page (``https://in.xero.com/…``); one API call, so only at send time."""
        return self.client.online_invoice_url(tenant, invoice_ref)

    def invoice_pdf(self, tenant: str, invoice_ref: str) -> bytes:
        return self.client.invoice_pdf(tenant, invoice_ref)

    # --- writes --------------------------------------------------------------------------------------------
    def write_reminder_status(self, tenant: str, write: ReminderWrite) -> WriteResult:
        return writeback.write(self.client, tenant, write, self.config.credit_stop_group)


def _invoice_page(records: list[dict[str, Any]], after: Cursor, known: KnownVersions) -> Page[Invoice]:
    """Map a page; unchanged records (same version as stored) are left out, DELETED ones become deletions."""
    live = [r for r in records if r.get("Type") == "ACCREC" and r.get("Status") != "DELETED"]
    deleted = [str(r["InvoiceID"]) for r in records if r.get("Type") == "ACCREC" and r.get("Status") == "DELETED"]
    invoices = [i for i in (mapping.invoice(r) for r in live) if i is not None]
    stored = known([i.provider_ref for i in invoices]) if invoices else {}
    changed = {i.provider_ref for i in invoices if stored.get(i.provider_ref) != i.provider_version}
    payments = [p for r in live if str(r["InvoiceID"]) in changed for p in mapping.embedded_payments(r)]
    return Page(
        records=[i for i in invoices if i.provider_ref in changed],
        cursor=after.dump(),
        deleted_refs=deleted,
        payments=payments,
    )
