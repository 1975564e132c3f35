"""``ExactAdapter``: the Exact Online declaration (OAuth, limits, classification) and the contract methods.

Sits between the core (sync, inbox, outbox) and ``client.py``/``mapping.py``/``writeback.py``. One adapter
instance serves one connection = one Exact user on one country site; every division the user may access is a
tenant (docs/providers/exact.md#tenants). Invoices come from ``sync/Cashflow/PaymentTerms`` with a Timestamp cursor
(``reader.py``), debtors from ``sync/CRM/Accounts``. Exact has no reminder API, so write-back is notes,
documents and the opt-in Blocked flag (``writeback.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from adapters.exact import webhooks
from adapters.exact.client import SHARED_STATE, ErrorCapBreaker, ExactClient, any_of
from adapters.exact.mapping import (
    ACCOUNT_CRUD_FIELDS,
    ACCOUNT_FIELDS,
    DIVISION_FIELDS,
    is_customer,
    map_account,
    map_division,
)
from adapters.exact.reader import ReceivablesReader
from adapters.exact.writeback import ExactWriteback
from connector.errors import GarbageResponse
from connector.model import (
    Capability,
    Debtor,
    Invoice,
    Page,
    ProviderReminderSettings,
    ReminderWrite,
    Tenant,
    TokenSet,
    WebhookEvent,
    WriteResult,
)
from connector.ports import (
    AccountingAdapter,
    ApiSession,
    KnownVersions,
    OAuthSpec,
    RateLimit,
    RateObservation,
    WebhookRegistration,
)

# docs/providers/exact.md#subscribing
WEBHOOK_TOPICS = ("SalesEntries", "SalesInvoices", "BankEntries", "CashEntries", "Accounts")
ID_BATCH = 40  # guid filters per call: stays far below the 6,000-character URL limit (docs/providers/exact.md#requests)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _epoch(value: str | None) -> datetime | None:
    """docs/providers/exact.md#rate-limits: resets are epoch milliseconds; a seconds value (< 1e11) is accepted
    defensively."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, UTC)


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class ExactAdapter(AccountingAdapter):
    id: ClassVar[str] = "exact"
    name: ClassVar[str] = "Exact Online"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.WRITE_NOTE, Capability.WRITE_DOCUMENT, Capability.CREDIT_HOLD, Capability.WEBHOOKS}
        # no SEND_REMINDER (no reminder API) and no PAYMENT_EVENTS (no payments topic):
        # docs/providers/exact.md#subscribing, docs/providers/exact.md#own-reminders
    )
    oauth: ClassVar[OAuthSpec] = OAuthSpec(
        authorize_path="/api/oauth2/auth",
        token_path="/api/oauth2/token",
        scopes=(),  # scopes are declared in the App Store, not requested (docs/providers/exact.md#scopes)
        # docs/providers/exact.md#tokens: refresh only in the last 30 s, so inside that window
        refresh_leeway_seconds=25,
        refresh_window_seconds=30,
        default_expires_in=600,
        refresh_token_lifetime_days=30,
        extra_authorize_params={"force_login": "0"},
    )
    limits: ClassVar[tuple[RateLimit, ...]] = (
        # docs/providers/exact.md#rate-limits, per app per division
        RateLimit(calls=60, seconds=60, scope="tenant", name="minute"),
        RateLimit(calls=5000, seconds=86400, scope="tenant", name="day"),
    )
    max_in_flight: ClassVar[int | None] = 1  # docs/providers/exact.md#requests: no parallel requests per division
    page_size: ClassVar[int] = 1000  # sync/ and bulk/ endpoints
    # docs/providers/exact.md#error-cap: the default table never retries a functional 4xx (each one counts towards the
    # error cap)

    def __init__(
        self,
        http: ApiSession,
        config: Any,
        *,
        base_url: str | None = None,
        breaker: ErrorCapBreaker | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(http, config, clock=clock)
        site = base_url or getattr(config, "base_url", None) or "https://start.exactonline.nl"
        self.client = ExactClient(http, site, breaker or ErrorCapBreaker(SHARED_STATE))
        self.receivables = ReceivablesReader(self.client)

    # --- declarations --------------------------------------------------------------------------------------
    @staticmethod
    def retry_at(status: int, headers: Mapping[str, str], now: datetime) -> tuple[datetime | None, str]:
        """docs/providers/exact.md#rate-limits: a minutely 429 carries the minutely headers, a daily one the daily
        headers."""
        minutely = _epoch(_header(headers, "X-RateLimit-Minutely-Reset"))
        if (
            minutely is not None
            and _int(_header(headers, "X-RateLimit-Minutely-Remaining")) != 0
            and _int(_header(headers, "X-RateLimit-Remaining")) == 0
        ):
            minutely = None  # minute budget left, day budget gone
        if minutely is not None:
            return minutely, "minute"
        return _epoch(_header(headers, "X-RateLimit-Reset")), "day"

    @staticmethod
    def rate_observation(headers: Mapping[str, str], now: datetime) -> list[RateObservation]:
        seen = []
        for scope, prefix in (("minute", "X-RateLimit-Minutely-"), ("day", "X-RateLimit-")):
            remaining = _int(_header(headers, f"{prefix}Remaining"))
            if remaining is not None:
                seen.append(RateObservation(scope, remaining, _epoch(_header(headers, f"{prefix}Reset"))))
        return seen

    @staticmethod
    def parse_token_response(body: Mapping[str, Any], now: datetime) -> TokenSet:
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise GarbageResponse("Exact token response without access_token")
        raw_expiry = body.get("expires_in")  # docs/providers/exact.md#tokens: the STRING "600"
        try:
            seconds = int(str(raw_expiry).strip()) if raw_expiry not in (None, "") else 600
        except ValueError as exc:
            raise GarbageResponse("Exact token response has a non-numeric expires_in") from exc
        refresh = body.get("refresh_token")
        return TokenSet(
            access_token=access,
            refresh_token=str(refresh) if refresh else None,
            expires_at=now + timedelta(seconds=seconds),
        )

    @staticmethod
    def verify_webhook(raw: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: datetime) -> None:
        webhooks.verify(raw, secrets)

    @staticmethod
    def parse_webhook(raw: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        return webhooks.parse(raw)

    @staticmethod
    def is_webhook_handshake(raw: bytes, headers: Mapping[str, str]) -> bool:
        return webhooks.is_handshake(raw)

    @staticmethod
    def webhook_tenant_hint(raw: bytes, headers: Mapping[str, str]) -> str | None:
        return webhooks.tenant_hint(raw)

    # --- reads ---------------------------------------------------------------------------------------------
    def list_tenants(self) -> list[Tenant]:
        """docs/providers/exact.md#tenants: Me → CurrentDivision → system/Divisions (every division the user may
        access)."""
        me = self.client.get_all(None, "Me", select=("CurrentDivision",))
        if not me or not me[0].get("CurrentDivision"):
            raise GarbageResponse("Exact Me without CurrentDivision")
        current = str(me[0]["CurrentDivision"])
        rows = self.client.get_all(current, "system/Divisions", select=DIVISION_FIELDS)
        return [map_division(row) for row in rows]

    def iter_debtor_pages(self, tenant: str, cursor: str | None, known: KnownVersions) -> Iterator[Page[Debtor]]:
        # docs/providers/exact.md#incremental-sync: first run Timestamp gt 1
        since = int(json.loads(cursor)["ts"]) if cursor else 1
        for rows in self.client.iter_pages(
            tenant, "sync/CRM/Accounts", select=ACCOUNT_FIELDS, filter=f"Timestamp gt {since}L"
        ):
            if not rows:
                continue
            since = max([since, *(int(r.get("Timestamp") or 0) for r in rows)])
            yield Page(records=[map_account(r) for r in rows if is_customer(r)], cursor=json.dumps({"ts": since}))

    def iter_invoice_pages(self, tenant: str, cursor: str | None, known: KnownVersions) -> Iterator[Page[Invoice]]:
        return self.receivables.iter_pages(tenant, cursor, known)

    def fetch_invoices(self, tenant: str, refs: Sequence[str]) -> list[Invoice]:
        return self.receivables.fetch(tenant, refs)[0]

    def fetch_payments_for(self, tenant: str, invoice_refs: Sequence[str]) -> list[Any]:
        return list(self.receivables.fetch(tenant, invoice_refs)[1])

    def fetch_debtors(self, tenant: str, refs: Sequence[str]) -> list[Debtor]:
        debtors: list[Debtor] = []
        for start in range(0, len(refs), ID_BATCH):
            rows = self.client.get_all(
                tenant, "crm/Accounts", select=ACCOUNT_CRUD_FIELDS, filter=any_of("ID", refs[start : start + ID_BATCH])
            )
            debtors.extend(map_account(r) for r in rows)
        return debtors

    def reminder_settings(self, tenant: str) -> ProviderReminderSettings:
        return ProviderReminderSettings(
            active=False,
            detail=(
                "Exact's own reminders are not readable via the API: switch off the division's "
                "credit-management scenario if this connector does the dunning"
            ),
        )

    def open_items_by_number(self, tenant: str) -> dict[str, Any]:
        """Outstanding amount per invoice number from read/financial/ReceivablesList (reconciliation check)."""
        return self.receivables.open_items_by_number(tenant)

    # --- writes --------------------------------------------------------------------------------------------
    def write_reminder_status(self, tenant: str, write: ReminderWrite) -> WriteResult:
        writer = ExactWriteback(
            self.client,
            clock=self.clock,
            credit_stop_sets_blocked=bool(getattr(self.config, "credit_stop_sets_blocked", False)),
        )
        return writer.write(tenant, write)

    def register_webhook(self, tenant: str, url: str) -> WebhookRegistration:
        """One subscription per useful topic (docs/providers/exact.md#subscribing); existing ones for this URL are
        kept."""
        existing = self.client.get_all(tenant, "webhooks/WebhookSubscriptions", select=("ID", "Topic", "CallbackURL"))
        have = {r["Topic"]: str(r["ID"]) for r in existing if r.get("CallbackURL") == url}
        ids = []
        for topic in WEBHOOK_TOPICS:
            if topic not in have:
                have[topic] = str(
                    self.client.post(tenant, "webhooks/WebhookSubscriptions", {"CallbackURL": url, "Topic": topic}).get(
                        "ID", ""
                    )
                )
            ids.append(have[topic])
        return WebhookRegistration(provider_ref=",".join(ids), secret=None)  # the app's webhook key signs
