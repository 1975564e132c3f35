"""The practice's cockpit: every client administration on one page, and the bulk actions over a selection of them.

Beside ``connector.services`` in the layers, under the ``/cockpit`` page (``dashboard.cockpit``). The read side
turns ``repos.cockpit_page`` (a fixed number of grouped queries, whatever the number of administrations) into plain
values: amounts as ``Decimal`` per currency, DSO over the last 90 days, the health marks. The write side changes a
selection of administrations in one transaction, each change in the audit trail; a selection naming an
administration the organisation does not have changes nothing (docs/cockpit.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from connector import policies
from connector.errors import NotFound
from connector.model import Money
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction
from connector.storage.repos import CockpitQuery as CockpitQuery
from connector.storage.repos import acting_as as acting_as

PAGE_SIZE = 50
ACTIONS = ("pause", "resume", "safe_mode_on", "safe_mode_off", "assign_policy")
OWNER_ACTIONS = frozenset({"safe_mode_off"})  # sending for real: as the single safe-mode switch, owners only
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Amounts:
    currency: str
    open: Decimal
    overdue: Decimal


@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    provider: str
    currency: str
    amounts: list[Amounts]  # one per currency with open invoices, its own currency first
    dso: Decimal | None  # days; None without credit sales in the last 90 days
    actions: int
    last_sync_at: datetime | None
    health: list[str]  # of repos.cockpit.HEALTH, in that order; empty: all well
    paused: bool
    safe_mode: bool


@dataclass(frozen=True)
class PortfolioTotal:
    currency: str
    open: Decimal
    overdue: Decimal
    invoices: int
    buckets: tuple[Decimal, ...]  # not due, 1-30, 31-60, 61-90, over 90 days


@dataclass(frozen=True)
class Cockpit:
    rows: list[ClientRow]
    total: int  # administrations matching the filters
    administrations: int  # in the portfolio
    totals: list[PortfolioTotal]
    offset: int
    page_size: int


def _money(minor: int, currency: str) -> Decimal:
    return Money.from_minor(minor, currency).amount


def _row(row: repos.CockpitRow) -> ClientRow:
    amounts = [Amounts(c, _money(o, c), _money(d, c)) for c, (o, d) in sorted(row.amounts.items())]
    amounts.sort(key=lambda a: a.currency != row.currency)  # its own currency first
    dso = None
    if row.sales_minor > 0:
        dso = (Decimal(row.open_minor) * 90 / Decimal(row.sales_minor)).quantize(_TENTH, rounding=ROUND_HALF_UP)
    marks = {
        "reauth": row.needs_reauth,
        "parked": row.parked_until is not None,
        "webhooks_failing": row.webhooks_failing > 0,
        "dead_letters": row.dead_letters > 0,
        "safe_mode": row.safe_mode,
        "paused": row.paused,
    }
    return ClientRow(
        id=row.id,
        name=row.name,
        provider=row.provider,
        currency=row.currency,
        amounts=amounts,
        dso=dso,
        actions=row.actions,
        last_sync_at=row.last_sync_at,
        health=[name for name, on in marks.items() if on],
        paused=row.paused,
        safe_mode=row.safe_mode,
    )


def cockpit(rt: Runtime, org_id: int, query: repos.CockpitQuery, today: date) -> Cockpit:
    """One page of the organisation's client administrations with the portfolio's totals and aging."""
    with rt.sessions() as s:
        found = repos.cockpit_page(s, org_id, query, today=today, now=rt.clock())
    totals = [
        PortfolioTotal(
            currency=p.currency,
            open=_money(p.open_minor, p.currency),
            overdue=_money(p.overdue_minor, p.currency),
            invoices=p.invoices,
            buckets=tuple(_money(b, p.currency) for b in p.buckets),
        )
        for p in found.portfolio
    ]
    return Cockpit(
        rows=[_row(r) for r in found.rows],
        total=found.total,
        administrations=found.administrations,
        totals=totals,
        offset=query.offset,
        page_size=query.limit,
    )


def bulk(
    rt: Runtime, org_id: int, action: str, administration_ids: Sequence[int], *, who: str, policy: str | None = None
) -> int:
    """Apply ``action`` to every administration of the selection in one transaction and audit each; returns how
    many. Raises ``NotFound`` (nothing changed) when the selection names an administration of another organisation
    or none at all, ``PolicyChoiceError`` for a policy that cannot be assigned, ``ValueError`` for an unknown action."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
    wanted = sorted(set(administration_ids))
    with transaction(rt.sessions) as s:
        found = repos.administrations_by_id(s, org_id, wanted)
        if not wanted or len(found) != len(wanted):
            raise NotFound("choose administrations of this organisation")
        if action == "assign_policy":
            chosen = {p.name: p for p in policies.available_policies(s, org_id)}.get(policy or "")
            if chosen is None or chosen.segment is None:
                raise policies.PolicyChoiceError(f"there is no policy '{policy}': choose one of the available ones")
            for adm in found:
                policies.assign_policy(s, org_id, adm.id, chosen.segment, chosen.name, who)
            return len(found)
        for adm in found:
            if action in ("pause", "resume"):
                adm.paused = action == "pause"
                kind, message = "dunning_paused" if adm.paused else "dunning_resumed", f"dunning {action}d"
            else:
                adm.safe_mode = action == "safe_mode_on"
                kind, message = "safe_mode", f"safe mode {'on' if adm.safe_mode else 'off'}"
            repos.audit(s, org_id, kind, f"{message} (cockpit)", administration_id=adm.id, data={"by": who})
    return len(found)


def wanted(rt: Runtime, org_id: int) -> bool:
    """Whether the navigation offers the cockpit (a practice, or more than one administration): one query."""
    with rt.sessions() as s:
        return repos.cockpit_wanted(s, org_id)


def policy_names(rt: Runtime, org_id: int) -> list[str]:
    """The policies a selection may be given: packaged and the organisation's own, those that pass validation."""
    with rt.sessions() as s:
        return [p.name for p in policies.available_policies(s, org_id) if p.policy is not None]
