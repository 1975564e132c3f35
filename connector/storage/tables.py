"""The schema: every row carries ``org_id``; provider rows also carry their administration.

Money columns are integer minor units next to an ISO currency; datetimes are UTC (``UTCDateTime``); due and
invoice dates are plain dates in the administration's time zone. Alembic migrations in ``migrations/`` are
checked against these declarations by the migration test.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from connector.clock import DEFAULT_TIMEZONE
from connector.storage.declarative import Base as Base
from connector.storage.declarative import _adm as _adm
from connector.storage.declarative import _org as _org
from connector.storage.tables_dunning import Arrangement as Arrangement
from connector.storage.tables_dunning import ContactMoment as ContactMoment
from connector.storage.tables_dunning import DunningRun as DunningRun
from connector.storage.tables_dunning import Installment as Installment
from connector.storage.tables_dunning import Lease as Lease


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="sme", server_default="sme")  # sme|practice
    created_at: Mapped[datetime]
    onboarded_at: Mapped[datetime | None]  # the four onboarding steps done (docs/onboarding.md#the-four-steps)


class User(Base):
    """A person who signs in to the web app; belongs to organisations through memberships. Not scoped: one
    person may work for several organisations (an accountant's practice and its clients)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower case
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2; None until an invitation is taken
    language: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class Membership(Base):
    """A user's role in one organisation: owner, controller or viewer. ``restricted``: only the administrations
    of ``MembershipAdministration`` (a client's own staff, docs/cockpit.md#client-access); none left, nothing."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "org_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]


class MembershipAdministration(Base):
    """An administration a restricted membership may see."""

    __tablename__ = "membership_administrations"
    __table_args__ = (UniqueConstraint("membership_id", "administration_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    administration_id: Mapped[int] = _adm()


class LoginThrottle(Base):
    """Failed logins per key (``email:<address>`` or ``ip:<address>``) in the current window, shared by every
    gunicorn worker because it lives in the database."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime]


class Connection(Base):
    """One OAuth grant of one user at one provider; fans out to administrations."""

    __tablename__ = "connections"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    provider: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="active")  # active|needs_reauth|revoked
    parked_until: Mapped[datetime | None]
    parked_reason: Mapped[str | None] = mapped_column(Text)
    site_url: Mapped[str | None] = mapped_column(Text)  # Exact country site
    created_at: Mapped[datetime]
    last_sync_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"Connection(id={self.id}, org_id={self.org_id}, provider={self.provider!r}, status={self.status!r})"


class OAuthToken(Base):
    __tablename__ = "oauth_tokens"
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[int] = _org()
    ciphertext: Mapped[str] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None]
    refresh_expires_hint: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="active")  # active|refreshing|needs_reauth|revoked
    last_refresh_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"OAuthToken(connection_id={self.connection_id}, version={self.version}, ciphertext='***')"


class OAuthState(Base):
    """A pending authorisation: the ``state`` we sent, bound to an organisation, with the PKCE verifier."""

    __tablename__ = "oauth_states"
    state: Mapped[str] = mapped_column(String(100), primary_key=True)
    org_id: Mapped[int] = _org()
    provider: Mapped[str] = mapped_column(String(32))
    code_verifier: Mapped[str | None] = mapped_column(String(200))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Administration(Base):
    """A provider tenant (Moneybird administration, Xero tenant, Exact division) reached by a connection."""

    __tablename__ = "administrations"
    __table_args__ = (UniqueConstraint("connection_id", "provider_tenant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_tenant_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    country: Mapped[str | None] = mapped_column(String(8))
    language: Mapped[str | None] = mapped_column(String(8))
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    safe_mode: Mapped[bool] = mapped_column(Boolean, default=True)  # decisions shown, nothing sent
    # dunning paused from the cockpit (docs/cockpit.md#bulk-actions): evaluated, nothing sent, nothing previewed
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # how the history (invoices due before day_one_from) enters the ladder (docs/onboarding.md#day-one-choices)
    day_one: Mapped[str | None] = mapped_column(String(16))  # reminder_1 | by_age | skip_history
    day_one_from: Mapped[date | None]
    provider_reminders_active: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_reminders_detail: Mapped[str] = mapped_column(Text, default="")
    webhook_ref: Mapped[str | None] = mapped_column(Text)
    webhook_secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    last_sync_at: Mapped[datetime | None]
    last_full_sync_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # when the daily retention job first saw it disconnected (suspended, or its grant gone); synced copies are
    # purged 30 days later; cleared when it is reachable again
    disconnected_at: Mapped[datetime | None]
    # the account the debtor transfers to when an invoice has no payment link (docs/portal.md#paying), set by the
    # owner; the IBAN compact and mod-97 checked (connector.model.bank)
    bank_holder: Mapped[str | None] = mapped_column(Text)
    bank_iban: Mapped[str | None] = mapped_column(String(34))
    bank_bic: Mapped[str | None] = mapped_column(String(11))


class Debtor(Base):
    __tablename__ = "debtors"
    __table_args__ = (UniqueConstraint("administration_id", "provider_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    provider_ref: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(Text)
    company_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    kvk_number: Mapped[str | None] = mapped_column(Text)
    vat_number: Mapped[str | None] = mapped_column(Text)
    segment: Mapped[str] = mapped_column(String(8), default="b2b")
    address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    language: Mapped[str | None] = mapped_column(String(8))
    customer_number: Mapped[str | None] = mapped_column(Text)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_version: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None]
    synced_at: Mapped[datetime]
    # our own credit-management data (never overwritten by sync)
    policy_override: Mapped[str | None] = mapped_column(String(100))
    credit_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_class: Mapped[str | None] = mapped_column(String(16))
    collectible: Mapped[str] = mapped_column(String(16), default="collectible")
    on_hold_reason: Mapped[str | None] = mapped_column(String(64))
    promise_date: Mapped[date | None] = mapped_column(Date)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # debtor-level hold lapses after this day (docs/credit-management.md#holds-and-disputes)
    hold_until: Mapped[date | None] = mapped_column(Date)
    segment_override: Mapped[str | None] = mapped_column(String(8))  # b2b|b2c set by hand; wins over the synced one
    # docs/law.md#insolvency legal hold
    insolvent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # docs/credit-management.md#screening-and-credit-limits: alert when open items exceed it
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    # consumer: does default need a notice (art. 6:82 BW: True) or is the payment term a fatal term (6:83: False)?
    # None = as the policy says
    default_needs_notice: Mapped[bool | None] = mapped_column(Boolean)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("administration_id", "provider_ref"),
        Index("ix_invoices_open", "administration_id", "status", "due_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    provider_ref: Mapped[str] = mapped_column(String(100))
    number: Mapped[str | None] = mapped_column(Text)
    debtor_ref: Mapped[str] = mapped_column(String(100), index=True)
    invoice_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    payment_term_days: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    open_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    provider_state: Mapped[str] = mapped_column(String(32))
    provider_version: Mapped[str | None] = mapped_column(Text)
    payment_url: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text)
    paused_at_provider: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_reminder_count: Mapped[int] = mapped_column(Integer, default=0)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None]
    synced_at: Mapped[datetime]
    paid_on: Mapped[date | None] = mapped_column(Date)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class CreditNote(Base):
    __tablename__ = "credit_notes"
    __table_args__ = (UniqueConstraint("administration_id", "provider_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    provider_ref: Mapped[str] = mapped_column(String(100))
    number: Mapped[str | None] = mapped_column(Text)
    debtor_ref: Mapped[str] = mapped_column(String(100))
    issue_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    remaining_minor: Mapped[int] = mapped_column(BigInteger)
    invoice_ref: Mapped[str | None] = mapped_column(String(100))
    provider_version: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime]


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("administration_id", "provider_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    provider_ref: Mapped[str] = mapped_column(String(100))
    invoice_ref: Mapped[str] = mapped_column(String(100), index=True)
    payment_date: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16), default="payment")
    provider_version: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime]


class ReminderState(Base):
    """Our own dunning state per invoice: the level reached, holds, promises, hand-over."""

    __tablename__ = "reminder_states"
    __table_args__ = (UniqueConstraint("administration_id", "invoice_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    invoice_ref: Mapped[str] = mapped_column(String(100))
    level: Mapped[int | None] = mapped_column(Integer)
    level_name: Mapped[str | None] = mapped_column(String(100))
    level_reached_on: Mapped[date | None] = mapped_column(Date)
    last_message_on: Mapped[date | None] = mapped_column(Date)
    hold_reason: Mapped[str | None] = mapped_column(String(64))
    hold_until: Mapped[date | None] = mapped_column(Date)
    promise_date: Mapped[date | None] = mapped_column(Date)
    handed_over: Mapped[bool] = mapped_column(Boolean, default=False)
    policy_override: Mapped[str | None] = mapped_column(String(100))
    provider_reminded_levels: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime]
    # marked uncollectible by a person (docs/credit-management.md#classification)
    written_off_on: Mapped[date | None] = mapped_column(Date)
    notice_of_default_on: Mapped[date | None] = mapped_column(Date)  # our notice of default was e-mailed that day


class SyncCursor(Base):
    __tablename__ = "sync_cursors"
    administration_id: Mapped[int] = mapped_column(
        ForeignKey("administrations.id", ondelete="CASCADE"), primary_key=True
    )
    stream: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[int] = _org()
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class InboxEvent(Base):
    """A webhook delivery, persisted before it is acknowledged. ``org_id`` is null only for dead letters whose
    tenant could not be resolved to any organisation."""

    __tablename__ = "inbox_events"
    __table_args__ = (
        UniqueConstraint("provider", "dedupe_id", "org_id"),
        Index("ix_inbox_events_signed_digest", "provider", "signed_digest", "org_id", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    provider_tenant_id: Mapped[str | None] = mapped_column(String(100))
    dedupe_id: Mapped[str] = mapped_column(String(300))
    entity_type: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str | None] = mapped_column(String(100))
    signed_digest: Mapped[str | None] = mapped_column(String(64))  # second dedupe key: see WebhookEvent
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)  # received|processed|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]


class OutboxItem(Base):
    """A write-back or message to send, keyed by a deterministic idempotency key so nothing is done twice."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("org_id", "idempotency_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    idempotency_key: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    debtor_ref: Mapped[str] = mapped_column(String(100))
    invoice_refs: Mapped[list[Any]] = mapped_column(default=list)
    level: Mapped[int] = mapped_column(Integer)
    level_name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    run_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_refs: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    # who is working the item and until when (docs/architecture.md#the-outbox-claims-each-item): a drain claims
    # a pending item before it sends; a claim whose process died lapses at ``claimed_until``
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]


class AuditEntry(Base):
    """Every decision, non-decision, write-back and manual action with its reason
    (docs/credit-management.md#the-debtor-file)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int | None] = mapped_column(
        ForeignKey("administrations.id", ondelete="CASCADE"), index=True
    )
    invoice_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    debtor_ref: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


# The dunning work's own tables live in tables_dunning.py (declared on this Base, imported here so callers
# keep importing them from this module and the schema sees one metadata).


class LetterEvidence(Base):
    """Proof that a letter went out: what (hash), when, how, received when, the costs and the end date it stated,
    and what the check of its rendered text found. A letter queued for post has no ``sent_on`` until a person marks
    it posted; its printed dates assume posting on ``dates_assume_sent_on``."""

    __tablename__ = "letter_evidence"
    __table_args__ = (Index("ix_letter_evidence_debtor", "administration_id", "debtor_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    invoice_refs: Mapped[list[Any]] = mapped_column(default=list)
    debtor_ref: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))  # fourteen_day_letter|demand_letter|final_notice
    sent_on: Mapped[date | None] = mapped_column(Date)  # None: queued for post, not marked posted yet
    channel: Mapped[str] = mapped_column(String(20))  # connector.rules.snapshot.LetterChannel
    received_on: Mapped[date | None] = mapped_column(Date)
    stated_costs_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    document_ref: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    outbox_id: Mapped[int | None] = mapped_column(Integer)  # the outbox item that produced it
    queued_on: Mapped[date | None] = mapped_column(Date)  # put in the post queue that day
    dates_assume_sent_on: Mapped[date | None] = mapped_column(Date)  # the sending day its printed dates assume
    printed_term_ends: Mapped[date | None] = mapped_column(Date)  # the last day to pay, as printed
    text_counts_from_receipt: Mapped[bool | None] = mapped_column(Boolean)  # the rendered text's check; None: never
    delivery_proof: Mapped[str | None] = mapped_column(Text)  # e.g. the SMTP server's reply accepting the e-mail


from connector.storage import tables_api as _api_tables  # noqa: E402,F401 - the API's tables join this metadata
from connector.storage import tables_policies as _policy_tables  # noqa: E402,F401 - the policy tables join this metadata
from connector.storage.tables_portal import PortalAnswer as PortalAnswer  # noqa: E402
from connector.storage.tables_portal import PortalLink as PortalLink  # noqa: E402
