"""Debtor classification (docs/credit-management.md#classification,
docs/credit-management.md#screening-and-credit-limits): risk class from payment behaviour, next to the segment and
collection status.

Payment behaviour is read from the synced history: the paid invoices and their paid-on dates
(``connector.reports.paid_invoices``, mean days late per debtor by ``connector.reports.average_delays``, rounded
half up), and our own record of broken promises (``promise_broken`` audit entries, see
``connector.debtors.checks``) and broken payment arrangements. Thresholds (see ``risk_class``):

* ``high``    insolvent (docs/law.md#insolvency), or on average more than 30 days late, or 2 or more broken
  promises/arrangements;
* ``medium``  on average 8 to 30 days late, or exactly 1 broken promise/arrangement;
* ``low``     at least one paid invoice, on average at most 7 days late, nothing broken;
* ``unknown`` no paid invoice and nothing broken yet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from connector import reports
from connector.model import Segment
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction

HIGH_DAYS_LATE = 30  # more than this on average → high
MEDIUM_DAYS_LATE = 7  # more than this on average → medium
HIGH_BROKEN = 2  # this many broken promises/arrangements or more → high


@dataclass(frozen=True)
class DebtorRisk:
    administration_id: int
    debtor_ref: str
    name: str
    segment: str
    risk_class: str
    average_days_late: int | None
    paid_invoices: int
    broken_promises: int
    broken_arrangements: int
    collection_status: str
    credit_stop: bool
    insolvent: bool


def risk_class(average_days_late: int | None, broken: int, *, insolvent: bool = False) -> str:
    """The thresholds of the module docstring; ``broken`` = broken promises + broken arrangements."""
    if insolvent or broken >= HIGH_BROKEN or (average_days_late is not None and average_days_late > HIGH_DAYS_LATE):
        return "high"
    if broken == 1 or (average_days_late is not None and average_days_late > MEDIUM_DAYS_LATE):
        return "medium"
    if average_days_late is None:
        return "unknown"
    return "low"


def classify_debtors(rt: Runtime, org_id: int, *, store: bool = True) -> list[DebtorRisk]:
    """Compute every debtor's risk class; with ``store`` save it on the debtor (an audit entry when it changes)."""
    results: list[DebtorRisk] = []
    with transaction(rt.sessions) as s:
        for adm in repos.list_administrations(s, org_id):
            label = str(adm.id)
            invoices = [repos.invoice_row_to_model(row) for row in repos.get_invoices(s, org_id, adm.id)]
            payments = [repos.payment_row_to_model(p) for p in repos.get_payments(s, org_id, adm.id)]
            history = reports.paid_invoices(label, invoices, payments)
            delays, _portfolio = reports.average_delays(history)
            paid_count = Counter(p.debtor_ref for p in history)
            promises = repos.audit_counts(s, org_id, adm.id, "promise_broken")
            plans = Counter(p.debtor_ref for p in repos.arrangements(s, org_id, adm.id, status="broken"))
            for ref, debtor in sorted(repos.get_debtors(s, org_id, adm.id).items()):
                average = delays.get((label, ref))
                broken_promises, broken_plans = promises.get(ref, 0), plans.get(ref, 0)
                klass = risk_class(average, broken_promises + broken_plans, insolvent=debtor.insolvent)
                if store and debtor.risk_class != klass:
                    repos.audit(
                        s,
                        org_id,
                        "risk_class",
                        f"risk class {debtor.risk_class} -> {klass}",
                        administration_id=adm.id,
                        debtor_ref=ref,
                        data={
                            "average_days_late": average,
                            "broken_promises": broken_promises,
                            "broken_arrangements": broken_plans,
                        },
                    )
                    debtor.risk_class = klass
                results.append(
                    DebtorRisk(
                        administration_id=adm.id,
                        debtor_ref=ref,
                        name=debtor.company_name or debtor.name,
                        segment=Segment(debtor.segment_override or debtor.segment).value,
                        risk_class=klass,
                        average_days_late=average,
                        paid_invoices=paid_count.get(ref, 0),
                        broken_promises=broken_promises,
                        broken_arrangements=broken_plans,
                        collection_status=debtor.collectible,
                        credit_stop=debtor.credit_stop,
                        insolvent=debtor.insolvent,
                    )
                )
    return results
