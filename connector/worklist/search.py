"""Global search: one box that finds invoices by number and debtors by name, customer number or KvK number.

Sits next to the debtor and invoice views (called by the dashboard's search page and the API); the matching is
storage's (``repos.search_invoices``, ``repos.search_debtors``), scoped to the organisation. A hit links to the
invoice or debtor page by row id. See docs/worklist.md#search.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from connector.model import Money
from connector.runtime import Runtime
from connector.storage import repos

MAX_QUERY = 100


@dataclass(frozen=True)
class SearchHit:
    kind: str  # invoice | debtor
    id: int
    title: str  # the invoice number or the debtor's name
    administration: str
    debtor: str | None = None  # an invoice's debtor
    amount: Decimal | None = None  # an invoice's open amount
    currency: str | None = None
    kvk_number: str | None = None
    customer_number: str | None = None


def search(rt: Runtime, org_id: int, text: str, *, limit: int = 20) -> list[SearchHit]:
    """Invoices first (a number is the most precise thing a person types), then debtors."""
    needle = text.strip()[:MAX_QUERY]
    if not needle:
        return []
    with rt.sessions() as s:
        names = {a.id: a.name for a in repos.list_administrations(s, org_id)}
        invoices = repos.search_invoices(s, org_id, needle, limit=limit)
        debtors = repos.search_debtors(s, org_id, needle, limit=limit)
        owners = {
            (adm, ref): d.name
            for adm in {i.administration_id for i in invoices}
            for ref, d in repos.get_debtors(s, org_id, adm, sorted({i.debtor_ref for i in invoices})).items()
        }
    hits = [
        SearchHit(
            kind="invoice",
            id=inv.id,
            title=inv.number or inv.provider_ref,
            administration=names.get(inv.administration_id, ""),
            debtor=owners.get((inv.administration_id, inv.debtor_ref), inv.debtor_ref),
            amount=Money.from_minor(inv.open_minor, inv.currency).amount,
            currency=inv.currency,
        )
        for inv in invoices
    ]
    hits += [
        SearchHit(
            kind="debtor",
            id=d.id,
            title=d.name,
            administration=names.get(d.administration_id, ""),
            kvk_number=d.kvk_number,
            customer_number=d.customer_number,
        )
        for d in debtors
    ]
    return hits[:limit]
