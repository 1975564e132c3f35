"""The contracts between the core and its plug-ins: accounting adapters, the HTTP session, the job queue.

Sits at the bottom with the model: adapters implement ``AccountingAdapter``, ``connector.http`` implements
``ApiSession``, ``connector.jobs`` implements ``JobQueue`` (which the web app enqueues through); the clock they
share is ``connector.clock``. An adapter is a class bound to one connection (``__init__(http, config)``).
Class-level declarations tell the core how to talk to the provider (OAuth, limits, retry classification);
instance methods read pages, fetch entities for webhook hints and write reminder status back. Adapters never
sleep, retry, refresh tokens or touch storage: ``ApiSession`` (implemented in ``connector.http``) injects the
token, spends the rate budget, retries what ``classify`` marks retryable and raises ``connector.errors`` for the
rest.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

from connector.clock import Clock, utcnow
from connector.errors import NotSupported
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
    WebhookEvent,
    WriteResult,
)


class HttpResponse(Protocol):
    """The part of ``requests.Response`` adapters may rely on."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    url: str

    @property
    def text(self) -> str: ...

    def json(self, **kwargs: Any) -> Any: ...


class ApiSession(Protocol):
    """Authenticated, budgeted, retrying HTTP for one connection. Raises ``connector.errors`` on failure.

    ``tenant`` is the provider tenant the call is for (rate budget key, and for Xero the tenant header).
    Only responses that ``classify`` maps to ``ResponseAction.OK`` are returned.
    """

    def request(
        self,
        method: str,
        url: str,
        *,
        tenant: str | None = None,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        files: Any = None,
    ) -> HttpResponse: ...


class ResponseAction(enum.Enum):
    OK = "ok"
    RETRY = "retry"  # transient: retry with backoff
    RATE_LIMITED = "rate_limited"  # wait until retry_at, or reschedule when that is beyond the cap
    REAUTH = "reauth"  # refresh the token once and resend; if that fails, the connection needs re-authorisation
    NOT_FOUND = "not_found"
    PERMANENT = "permanent"  # never retry


class JobQueue(Protocol):
    """What the web app needs of the job queue: enqueue a named task with its (primitive) arguments."""

    def enqueue(self, name: str, key: str, payload: Mapping[str, Any], eta: datetime | None = None) -> None: ...


@dataclass(frozen=True)
class OAuthSpec:
    """How a provider does OAuth 2.0. Paths are appended to the URL settings named by ``*_url_setting``."""

    authorize_path: str
    token_path: str
    scopes: tuple[str, ...]
    authorize_url_setting: str = "base_url"
    token_url_setting: str = "base_url"  # noqa: S105 - a setting name, not a secret
    pkce: bool = False
    client_auth: str = "client_secret_post"  # or client_secret_basic
    refresh_leeway_seconds: int = 60  # refresh when the access token has at most this long left
    refresh_window_seconds: int | None = None  # Exact: refresh allowed only in the token's last N seconds
    default_expires_in: int | None = None  # when the token response has no expires_in (None: never expires)
    refresh_token_grace_seconds: int = 0  # Xero: previous refresh token stays valid this long
    refresh_token_lifetime_days: int | None = None  # unused refresh tokens die after this (keep-alive job)
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RateLimit:
    """``calls`` per ``seconds`` for one key. ``scope``: 'tenant' (per provider tenant), 'connection' or 'app'."""

    calls: int
    seconds: int
    scope: str = "tenant"
    name: str = "minute"


@dataclass(frozen=True)
class RateObservation:
    """What a provider's headers said about one limit (adapters build these in ``rate_observation``)."""

    scope: str  # 'minute', 'day', 'app', ...
    remaining: int | None = None
    reset_at: datetime | None = None


@dataclass(frozen=True)
class WebhookRegistration:
    provider_ref: str
    secret: str | None  # Moneybird returns the signing secret once, at creation


KnownVersions = Callable[[Sequence[str]], Mapping[str, str]]
"""Given provider refs, return the versions the core has stored (missing refs are unknown)."""


DEFAULT_STATUS_ACTIONS: Mapping[int, ResponseAction] = MappingProxyType(
    {401: ResponseAction.REAUTH, 404: ResponseAction.NOT_FOUND, 429: ResponseAction.RATE_LIMITED}
)


class AccountingAdapter:
    """Base class of every adapter. Subclasses set the class attributes and override what they support.

    Unsupported operations raise ``NotSupported``; the conformance suite checks that ``capabilities`` agrees
    with what is overridden.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    oauth: ClassVar[OAuthSpec]
    limits: ClassVar[tuple[RateLimit, ...]]
    max_in_flight: ClassVar[int | None] = None
    page_size: ClassVar[int]  # the provider's maximum page size for the main invoice read (bench baseline)
    webhook_max_bytes: ClassVar[int] = 1024 * 1024
    status_actions: ClassVar[Mapping[int, ResponseAction]] = DEFAULT_STATUS_ACTIONS

    def __init__(self, http: ApiSession, config: Any, *, clock: Clock | None = None) -> None:
        self.http = http
        self.config = config
        self.clock: Clock = clock or utcnow  # the runtime's clock: what the adapter stamps

    # --- declarations (pure, static) ---------------------------------------------------------------------
    @classmethod
    def scopes_for(cls, config: Any) -> tuple[str, ...]:
        """The scopes to request: the config's ``scopes`` setting when it has one, else the declared ones."""
        configured = str(getattr(config, "scopes", "") or "").split()
        return tuple(configured) or cls.oauth.scopes

    @classmethod
    def classify(cls, status: int, headers: Mapping[str, str], body: bytes) -> ResponseAction:
        """The status-code table: 2xx OK, the codes in ``status_actions``, 5xx retry, any other 4xx permanent."""
        if 200 <= status < 300:
            return ResponseAction.OK
        if status in cls.status_actions:
            return cls.status_actions[status]
        return ResponseAction.RETRY if status >= 500 else ResponseAction.PERMANENT

    @staticmethod
    def retry_at(status: int, headers: Mapping[str, str], now: datetime) -> tuple[datetime | None, str]:
        """When a throttled or failed call may be retried (UTC), and the limit's scope ('minute', 'day', ...)."""
        return None, "minute"

    @staticmethod
    def rate_observation(headers: Mapping[str, str], now: datetime) -> list[RateObservation]:
        """What the response headers say is left of each limit, received at ``now`` (the runtime's clock); the
        shared budget parks an exhausted one."""
        return []

    @staticmethod
    def parse_token_response(body: Mapping[str, Any], now: datetime) -> TokenSet:
        raise NotImplementedError

    @staticmethod
    def verify_webhook(raw: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: datetime) -> None:
        """Raise ``WebhookRejected`` unless ``raw`` (the exact bytes received) is authentic and fresh."""
        raise NotSupported("webhooks")

    @staticmethod
    def parse_webhook(raw: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        """Parse a verified body into hints. Raise ``GarbageResponse`` if it cannot be understood."""
        raise NotSupported("webhooks")

    @staticmethod
    def is_webhook_handshake(raw: bytes, headers: Mapping[str, str]) -> bool:
        """A registration probe / validation ping that must be answered 2xx without being recorded."""
        return False

    @staticmethod
    def webhook_tenant_hint(raw: bytes, headers: Mapping[str, str]) -> str | None:
        """The provider tenant a delivery claims to be for (to pick per-tenant secrets); not trusted."""
        return None

    # --- connection-bound reads ----------------------------------------------------------------------------
    def list_tenants(self) -> list[Tenant]:
        raise NotImplementedError

    def iter_debtor_pages(self, tenant: str, cursor: str | None, known: KnownVersions) -> Iterator[Page[Debtor]]:
        raise NotSupported("debtors")

    def iter_invoice_pages(self, tenant: str, cursor: str | None, known: KnownVersions) -> Iterator[Page[Invoice]]:
        raise NotSupported("invoices")

    def iter_payment_pages(self, tenant: str, cursor: str | None, known: KnownVersions) -> Iterator[Page[Payment]]:
        return iter(())  # default: payments come embedded with invoices (``Page.payments``)

    def iter_credit_note_pages(
        self, tenant: str, cursor: str | None, known: KnownVersions
    ) -> Iterator[Page[CreditNote]]:
        return iter(())

    def fetch_invoices(self, tenant: str, refs: Sequence[str]) -> list[Invoice]:
        """Current state of these invoices (missing ones are gone). Payments ride along via ``fetch_payments``."""
        raise NotSupported("fetch_invoices")

    def fetch_payments_for(self, tenant: str, invoice_refs: Sequence[str]) -> list[Payment]:
        return []

    def fetch_invoice_page(self, tenant: str, refs: Sequence[str]) -> Page[Invoice]:
        """Invoices with their payments (and credit notes met among ``refs``) in as few calls as possible."""
        invoices = self.fetch_invoices(tenant, refs)
        return Page(records=invoices, payments=self.fetch_payments_for(tenant, refs) if invoices else [])

    def fetch_debtors(self, tenant: str, refs: Sequence[str]) -> list[Debtor]:
        raise NotSupported("fetch_debtors")

    def invoice_pdf(self, tenant: str, invoice_ref: str) -> bytes:
        """The invoice as the package prints it (``Capability.INVOICE_PDF``); the caller checks it is a PDF."""
        raise NotSupported("invoice PDF")

    def reminder_settings(self, tenant: str) -> ProviderReminderSettings:
        return ProviderReminderSettings(active=False, detail="provider sends no reminders of its own")

    # --- writes --------------------------------------------------------------------------------------------
    def write_reminder_status(self, tenant: str, write: ReminderWrite) -> WriteResult:
        raise NotSupported("write-back")

    def register_webhook(self, tenant: str, url: str) -> WebhookRegistration:
        raise NotSupported("webhook registration")

    def remove_webhook(self, tenant: str, provider_ref: str) -> None:
        """Remove a webhook ``register_webhook`` made (on disconnect); gone already counts as removed."""
        raise NotSupported("webhook removal")
