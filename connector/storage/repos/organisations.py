"""Organisations, their provider connections and the administrations (provider tenants) each connection reaches.

The top of every scope: each other repository function takes an organisation id that these created. The two
routing functions (``route_tenant`` and ``route_webhook_secrets``) resolve a provider tenant to organisations for
the webhook receiver, before any organisation is known, and are the deliberate exceptions to scoping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from connector import model
from connector.clock import DEFAULT_TIMEZONE
from connector.errors import NotFound
from connector.model.api import EventType
from connector.model.bank import BankDetails
from connector.storage import tables as t
from connector.storage.repos.hooks import emit_event
from connector.storage.repos.scope import now, scoped, where_scoped
from connector.storage.repos.sync import check_fits


def create_organisation(session: Session, name: str, kind: str = "sme") -> int:
    """A new organisation: an SME (``sme``) or an accounting practice holding many clients (``practice``)."""
    org = t.Organisation(name=name, kind=kind, created_at=now(session))
    session.add(org)
    session.flush()
    return org.id


def find_organisation(session: Session, name: str) -> int | None:
    return session.scalar(select(t.Organisation.id).where(t.Organisation.name == name).order_by(t.Organisation.id))


def list_organisations(session: Session) -> list[tuple[int, str]]:
    """Every organisation as (id, name), oldest first: how the command line finds the one it acts for, and the
    periodic jobs act for each in turn."""
    rows = session.execute(select(t.Organisation.id, t.Organisation.name).order_by(t.Organisation.id))
    return [(int(org_id), str(name)) for org_id, name in rows]


def rotate_webhook_secrets(session: Session, rotate: Callable[[str], str]) -> int:
    """Re-encrypt every stored webhook secret of every organisation with ``rotate``; how many. Installation-wide on
    purpose: the keys are the installation's, not an organisation's (the tokens: ``TokenManager.rotate_keys``)."""
    count = 0
    query = select(t.Administration).where(t.Administration.webhook_secret_ciphertext.is_not(None))
    for adm in session.scalars(query):
        if adm.webhook_secret_ciphertext:
            adm.webhook_secret_ciphertext = rotate(adm.webhook_secret_ciphertext)
            count += 1
    return count


def create_connection(session: Session, org_id: int, provider: str, display_name: str = "") -> t.Connection:
    conn = t.Connection(org_id=org_id, provider=provider, display_name=display_name, created_at=now(session))
    session.add(conn)
    session.flush()
    return conn


def delete_connection(session: Session, org_id: int, connection_id: int) -> None:
    """Remove a connection with its tokens and administrations (the database cascades): what a connect that did not
    complete undoes (docs/architecture.md#connect-completes-or-leaves-nothing)."""
    session.execute(delete(t.Connection).where(*where_scoped(t.Connection, org_id), t.Connection.id == connection_id))


def get_connection(session: Session, org_id: int, connection_id: int) -> t.Connection:
    conn = session.scalar(scoped(t.Connection, org_id).where(t.Connection.id == connection_id))
    if conn is None:
        raise NotFound(f"connection {connection_id} not found")
    return conn


def list_connections(session: Session, org_id: int, provider: str | None = None) -> list[t.Connection]:
    query = scoped(t.Connection, org_id)
    if provider:
        query = query.where(t.Connection.provider == provider)
    return list(session.scalars(query.order_by(t.Connection.id)))


def active_connections(session: Session) -> list[tuple[int, int]]:
    """(organisation id, connection id) of every active connection: what the periodic sync works through."""
    query = select(t.Connection.org_id, t.Connection.id).where(t.Connection.status == "active")
    return [
        (int(org_id), int(connection_id)) for org_id, connection_id in session.execute(query.order_by(t.Connection.id))
    ]


def set_connection_status(
    session: Session,
    org_id: int,
    connection_id: int,
    status: str,
    *,
    parked_until: datetime | None = None,
    reason: str | None = None,
) -> None:
    before = session.scalar(
        select(t.Connection.status).where(*where_scoped(t.Connection, org_id), t.Connection.id == connection_id)
    )
    if status == "needs_reauth" and before not in (None, "needs_reauth"):
        emit_event(session, org_id, EventType.CONNECTION_NEEDS_REAUTH, {"connection_id": connection_id})
    session.execute(
        update(t.Connection)
        .where(*where_scoped(t.Connection, org_id), t.Connection.id == connection_id)
        .values(status=status, parked_until=parked_until, parked_reason=reason)
    )


def upsert_administration(
    session: Session, org_id: int, connection_id: int, provider: str, tenant: model.Tenant
) -> t.Administration:
    check_fits(
        t.Administration,
        {
            "provider_tenant_id": tenant.provider_tenant_id,
            "currency": tenant.currency,
            "timezone": tenant.timezone,
            "country": tenant.country,
            "language": tenant.language,
        },
        ref=tenant.provider_tenant_id,
    )
    adm = session.scalar(
        scoped(t.Administration, org_id).where(
            t.Administration.connection_id == connection_id,
            t.Administration.provider_tenant_id == tenant.provider_tenant_id,
        )
    )
    if adm is None:
        adm = t.Administration(
            org_id=org_id,
            connection_id=connection_id,
            provider=provider,
            provider_tenant_id=tenant.provider_tenant_id,
            created_at=now(session),
            name=tenant.name,
        )
        session.add(adm)
    adm.name = tenant.name
    adm.currency = tenant.currency
    adm.timezone = tenant.timezone
    adm.country = tenant.country
    adm.language = tenant.language
    adm.suspended = tenant.suspended
    session.flush()
    return adm


def list_administrations(session: Session, org_id: int, connection_id: int | None = None) -> list[t.Administration]:
    query = scoped(t.Administration, org_id)
    if connection_id is not None:
        query = query.where(t.Administration.connection_id == connection_id)
    return list(session.scalars(query.order_by(t.Administration.id)))


def get_administration(session: Session, org_id: int, administration_id: int) -> t.Administration:
    adm = session.scalar(scoped(t.Administration, org_id).where(t.Administration.id == administration_id))
    if adm is None:
        raise NotFound(f"no administration {administration_id} here")
    return adm


def organisation_timezone(session: Session, org_id: int) -> str:
    """The time zone an organisation's days are counted in: that of its administrations (the first one's when
    they differ), the default zone while it has none."""
    adm = session.scalar(scoped(t.Administration, org_id).order_by(t.Administration.id).limit(1))
    return adm.timezone if adm is not None and adm.timezone else DEFAULT_TIMEZONE


def route_tenant(session: Session, provider: str, provider_tenant_id: str) -> list[t.Administration]:
    """Webhook routing: every organisation's administration for this provider tenant (active connections)."""
    return list(
        session.scalars(
            select(t.Administration)
            .join(t.Connection, t.Connection.id == t.Administration.connection_id)
            .where(
                t.Administration.provider == provider,
                t.Administration.provider_tenant_id == provider_tenant_id,
                t.Connection.status == "active",
            )
        )
    )


def route_webhook_secrets(session: Session, provider: str, provider_tenant_id: str) -> list[str]:
    """The stored (encrypted) per-tenant webhook secrets for this provider tenant, across organisations."""
    return [
        adm.webhook_secret_ciphertext
        for adm in route_tenant(session, provider, provider_tenant_id)
        if adm.webhook_secret_ciphertext
    ]


def add_oauth_state(
    session: Session,
    org_id: int,
    state: str,
    *,
    provider: str,
    code_verifier: str | None,
    redirect_uri: str,
    expires_at: datetime,
) -> None:
    """Remember an authorisation we started for ``org_id`` until the provider's redirect comes back."""
    session.add(
        t.OAuthState(
            state=state,
            org_id=org_id,
            provider=provider,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            created_at=now(session),
            expires_at=expires_at,
        )
    )


def purge_oauth_states(session: Session, org_id: int, now: datetime) -> int:
    """Forget the organisation's authorisations whose redirect never came back before they expired."""
    result = session.execute(
        delete(t.OAuthState).where(*where_scoped(t.OAuthState, org_id), t.OAuthState.expires_at < now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def get_oauth_state(session: Session, state: str) -> t.OAuthState | None:
    """The authorisation a redirect's ``state`` names: how the callback learns which organisation it is for."""
    return session.get(t.OAuthState, state)


def delete_oauth_state(session: Session, org_id: int, state: str) -> None:
    """A state is good for one redirect only."""
    session.execute(delete(t.OAuthState).where(*where_scoped(t.OAuthState, org_id), t.OAuthState.state == state))


def set_day_one(session: Session, org_id: int, administration_id: int, choice: str | None, starts_on: date) -> None:
    """The administration's day-one choice and the day its history ends (docs/onboarding.md#day-one-choices)."""
    adm = get_administration(session, org_id, administration_id)
    adm.day_one = choice
    adm.day_one_from = starts_on


def onboarded_at(session: Session, org_id: int) -> datetime | None:
    return session.scalar(select(t.Organisation.onboarded_at).where(t.Organisation.id == org_id))


def set_onboarded(session: Session, org_id: int, when: datetime | None) -> None:
    session.execute(update(t.Organisation).where(t.Organisation.id == org_id).values(onboarded_at=when))


def set_bank_details(session: Session, org_id: int, administration_id: int, details: BankDetails | None) -> None:
    """Set (or with None clear) the account of one of the organisation's administrations."""
    adm = get_administration(session, org_id, administration_id)
    adm.bank_holder = details.holder if details else None
    adm.bank_iban = details.iban if details else None
    adm.bank_bic = details.bic if details else None
