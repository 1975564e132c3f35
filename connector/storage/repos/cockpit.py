"""The practice's cockpit in SQL: one page of client administrations with their figures, and the portfolio's totals.

Read by ``connector.cockpit`` (which the ``/cockpit`` page calls). Every figure is aggregated with ``GROUP BY`` in
the database, so a page costs the same four queries whatever the number of administrations: the page's rows (sorted,
filtered and searched in SQL, ``LIMIT``/``OFFSET``), their count, the open and overdue amounts of the page's rows per
currency, and the portfolio's totals and aging per currency (docs/cockpit.md#what-it-costs). Amounts are integer minor
units; every query is scoped to one organisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, insert, or_, select
from sqlalchemy.orm import Session

from connector.model import InvoiceStatus
from connector.model.outbox import CLOSED_STATUSES
from connector.storage import tables as t
from connector.storage.repos.scope import where_scoped

SORTS = ("name", "package", "open", "overdue", "dso", "actions", "last_sync")
AGGREGATE_SORTS = frozenset({"open", "overdue", "dso"})  # sorted by a sum over every administration's invoices
HEALTH = ("reauth", "parked", "webhooks_failing", "dead_letters", "safe_mode", "paused", "healthy")
DSO_DAYS = 90  # credit sales over the last 90 days, as the DSO report's default period
BUCKET_EDGES = (0, 30, 60, 90)  # days overdue: not due <= 0 < 1-30 <= 30 < 31-60 <= 60 < 61-90 <= 90 < over 90
_NOT_SALES = (InvoiceStatus.DRAFT.value, InvoiceStatus.VOIDED.value)


@dataclass(frozen=True)
class CockpitQuery:
    """What the page asks for: sort column and direction, filters, search text and the page's offset."""

    sort: str = "name"
    descending: bool = False
    package: str | None = None
    health: str | None = None
    search: str | None = None
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class CockpitRow:
    """One client administration with its figures; ``open_minor``/``overdue_minor``/``sales_minor`` are in its own
    currency, ``amounts`` holds (open, overdue) for every currency it has open invoices in."""

    id: int
    name: str
    provider: str
    currency: str
    safe_mode: bool
    paused: bool
    suspended: bool
    last_sync_at: datetime | None
    needs_reauth: bool
    parked_until: datetime | None
    dead_letters: int
    actions: int
    open_minor: int
    overdue_minor: int
    sales_minor: int
    webhooks_failing: int = 0  # deliveries for its tenant still being retried after a failed processing
    amounts: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class PortfolioCurrency:
    """The portfolio's open and overdue amounts in one currency, and its aging buckets (not due .. over 90)."""

    currency: str
    open_minor: int
    overdue_minor: int
    invoices: int
    buckets: tuple[int, int, int, int, int]


@dataclass(frozen=True)
class CockpitPage:
    rows: list[CockpitRow]
    total: int  # administrations matching the filters
    administrations: int  # in the whole portfolio
    portfolio: list[PortfolioCurrency]


def _int(value: Any) -> int:
    return int(value or 0)


def _actions(org_id: int) -> Any:
    """Per administration (correlated): its worklist items still open."""
    box = t.OutboxItem
    closed = [s.value for s in CLOSED_STATUSES]
    return (
        select(func.count())
        .where(*where_scoped(box, org_id), box.administration_id == t.Administration.id, box.status.not_in(closed))
        .scalar_subquery()
    )


def _events(org_id: int, *conditions: ColumnElement[bool]) -> Any:
    """Per administration (correlated): webhook deliveries for its tenant in the state ``conditions`` name."""
    ev, adm = t.InboxEvent, t.Administration
    return (
        select(func.count())
        .where(
            ev.org_id == org_id,
            *conditions,
            ev.connection_id == adm.connection_id,
            ev.provider_tenant_id == adm.provider_tenant_id,
        )
        .scalar_subquery()
    )


def _health(name: str | None, now: datetime, dead: Any, failing: Any) -> list[ColumnElement[bool]]:
    adm, conn = t.Administration, t.Connection
    conditions: dict[str, ColumnElement[bool]] = {
        "reauth": conn.status == "needs_reauth",
        "parked": and_(conn.parked_until.is_not(None), conn.parked_until > now),
        "webhooks_failing": failing > 0,
        "dead_letters": dead > 0,
        "safe_mode": adm.safe_mode.is_(True),
        "paused": adm.paused.is_(True),
    }
    if name == "healthy":
        return [~or_(*conditions.values())]
    return [conditions[name]] if name in conditions else []


def cockpit_page(session: Session, org_id: int, query: CockpitQuery, *, today: date, now: datetime) -> CockpitPage:
    """One page of the organisation's administrations, sorted and filtered as asked, with the portfolio's totals.

    The page's rows are one ``GROUP BY`` of the administrations joined to their invoices in their own currency (an
    index range per administration, whatever the planner's statistics say), with the open worklist items and dead
    letters as correlated counts."""
    adm, conn, inv = t.Administration, t.Connection, t.Invoice
    actions = _actions(org_id)
    dead = _events(org_id, t.InboxEvent.status == "dead")
    failing = _events(org_id, t.InboxEvent.status == "received", t.InboxEvent.attempts > 0)  # retrying
    is_open = and_(inv.status == InvoiceStatus.OPEN.value, inv.deleted.is_(False))
    since = today - timedelta(days=DSO_DAYS - 1)
    sales = and_(inv.status.not_in(_NOT_SALES), inv.invoice_date >= since, inv.invoice_date <= today)
    open_minor = func.coalesce(func.sum(case((is_open, inv.open_minor), else_=0)), 0)
    overdue_minor = func.coalesce(func.sum(case((and_(is_open, inv.due_date < today), inv.open_minor), else_=0)), 0)
    sales_minor = func.coalesce(func.sum(case((sales, inv.total_minor), else_=0)), 0)
    dso = case((sales_minor > 0, open_minor * DSO_DAYS / sales_minor), else_=None)
    keys: dict[str, Any] = {
        "name": func.lower(adm.name),
        "package": adm.provider,
        "open": open_minor,
        "overdue": overdue_minor,
        "dso": dso,
        "actions": actions,
        "last_sync": adm.last_sync_at,
    }
    key = keys.get(query.sort, keys["name"])
    ordered = key.desc() if query.descending else key.asc()
    where: list[ColumnElement[bool]] = [*where_scoped(adm, org_id), *_health(query.health, now, dead, failing)]
    if query.package:
        where.append(adm.provider == query.package)
    if query.search:
        where.append(func.lower(adm.name).contains(query.search.lower(), autoescape=True))
    joined = adm.__table__.join(conn, and_(conn.id == adm.connection_id, conn.org_id == org_id))
    narrowed = where
    if query.sort not in AGGREGATE_SORTS:  # the page's administrations first: only their invoices are summed
        chosen = (
            select(adm.id)
            .select_from(joined)
            .where(*where)
            .order_by(key.is_(None), ordered, adm.name, adm.id)
            .offset(max(query.offset, 0))
            .limit(query.limit)
            .correlate(None)
        )
        narrowed = [*where, adm.id.in_(chosen.scalar_subquery())]
    page = (
        select(
            adm.id,
            adm.name,
            adm.provider,
            adm.currency,
            adm.safe_mode,
            adm.paused,
            adm.suspended,
            adm.last_sync_at,
            conn.status,
            conn.parked_until,
            dead,
            actions,
            open_minor,
            overdue_minor,
            sales_minor,
            failing,
        )
        .select_from(
            # the administration is the organisation's (WHERE below), so are its invoices; an org_id test here
            # would let the planner AND in the organisation's whole invoice index once per administration
            joined.outerjoin(inv, and_(inv.administration_id == adm.id, inv.currency == adm.currency))
        )
        .where(*narrowed)
        .group_by(adm.id, conn.id)
        .order_by(key.is_(None), ordered, adm.name, adm.id)
        .offset(max(query.offset, 0))
        .limit(query.limit)
    )
    if query.sort not in AGGREGATE_SORTS:
        page = page.offset(0)
    rows = [
        CockpitRow(
            id=int(r[0]),
            name=str(r[1]),
            provider=str(r[2]),
            currency=str(r[3]),
            safe_mode=bool(r[4]),
            paused=bool(r[5]),
            suspended=bool(r[6]),
            last_sync_at=r[7],
            needs_reauth=r[8] == "needs_reauth",
            parked_until=r[9] if r[9] is not None and r[9] > now else None,
            dead_letters=_int(r[10]),
            actions=_int(r[11]),
            open_minor=_int(r[12]),
            overdue_minor=_int(r[13]),
            sales_minor=_int(r[14]),
            webhooks_failing=_int(r[15]),
        )
        for r in session.execute(page)
    ]
    everyone = select(func.count()).where(*where_scoped(adm, org_id)).correlate(None).scalar_subquery()  # all of them
    total, administrations = session.execute(select(func.count(), everyone).select_from(joined).where(*where)).one()
    amounts = _amounts_by_currency(session, org_id, [r.id for r in rows], today)
    rows = [CockpitRow(**{**r.__dict__, "amounts": amounts.get(r.id, {})}) if r.id in amounts else r for r in rows]
    return CockpitPage(
        rows=rows,
        total=_int(total),
        administrations=_int(administrations),
        portfolio=_portfolio(session, org_id, today),
    )


def _amounts_by_currency(
    session: Session, org_id: int, administration_ids: Sequence[int], today: date
) -> dict[int, dict[str, tuple[int, int]]]:
    if not administration_ids:
        return {}
    inv = t.Invoice
    query = (
        select(
            inv.administration_id,
            inv.currency,
            func.sum(inv.open_minor),
            func.sum(case((inv.due_date < today, inv.open_minor), else_=0)),
        )
        .where(
            *where_scoped(inv, org_id, administration_ids),
            inv.status == InvoiceStatus.OPEN.value,
            inv.deleted.is_(False),
        )
        .group_by(inv.administration_id, inv.currency)
    )
    found: dict[int, dict[str, tuple[int, int]]] = {}
    for adm_id, currency, open_minor, overdue_minor in session.execute(query):
        found.setdefault(int(adm_id), {})[str(currency)] = (_int(open_minor), _int(overdue_minor))
    return found


def _portfolio(session: Session, org_id: int, today: date) -> list[PortfolioCurrency]:
    """Open and overdue amounts and aging buckets per currency over every administration of the organisation."""
    inv = t.Invoice
    edges = [today - timedelta(days=d) for d in BUCKET_EDGES]  # due on or after edges[0]: not due
    buckets = [
        inv.due_date >= edges[0],
        and_(inv.due_date < edges[0], inv.due_date >= edges[1]),
        and_(inv.due_date < edges[1], inv.due_date >= edges[2]),
        and_(inv.due_date < edges[2], inv.due_date >= edges[3]),
        inv.due_date < edges[3],
    ]
    query = (
        select(inv.currency, func.count(), *(func.sum(case((b, inv.open_minor), else_=0)) for b in buckets))
        .where(*where_scoped(inv, org_id), inv.status == InvoiceStatus.OPEN.value, inv.deleted.is_(False))
        .group_by(inv.currency)
        .order_by(inv.currency)
    )
    result: list[PortfolioCurrency] = []
    for currency, invoices, *parts in session.execute(query):
        amounts = [_int(p) for p in parts]
        result.append(
            PortfolioCurrency(
                currency=str(currency),
                open_minor=sum(amounts),
                overdue_minor=sum(amounts[1:]),
                invoices=_int(invoices),
                buckets=(amounts[0], amounts[1], amounts[2], amounts[3], amounts[4]),
            )
        )
    return result


def administrations_by_id(session: Session, org_id: int, administration_ids: Sequence[int]) -> list[t.Administration]:
    """The organisation's administrations among ``administration_ids`` (another organisation's ids find nothing)."""
    if not administration_ids:
        return []
    query = select(t.Administration).where(
        *where_scoped(t.Administration, org_id), t.Administration.id.in_(list(administration_ids))
    )
    return list(session.scalars(query.order_by(t.Administration.id)))


def cockpit_wanted(session: Session, org_id: int) -> bool:
    """Whether the navigation shows the cockpit: a practice, or an organisation with several administrations."""
    several = select(func.count()).where(*where_scoped(t.Administration, org_id)).scalar_subquery()
    row = session.execute(select(t.Organisation.kind, several).where(t.Organisation.id == org_id)).first()
    return row is not None and (row[0] == "practice" or _int(row[1]) > 1)


def insert_invoices(
    session: Session, org_id: int, administration_id: int, rows: Sequence[dict[str, Any]], now: datetime
) -> int:
    """Insert new invoices in one multi-row ``INSERT`` (no read first, unlike ``upsert_invoices``): how the cockpit
    benchmark seeds 200,000 of them in seconds. Each row gives the invoice's columns except the scope and stamps."""
    if not rows:
        return 0
    values = [{**r, "org_id": org_id, "administration_id": administration_id, "synced_at": now} for r in rows]
    session.execute(insert(t.Invoice), values)
    return len(values)
