"""The daily follow-up of what people agreed with debtors, run before the dunning run (``daily_checks``).

A hold with an end date lapses (the release is noted at the package, like a manual release); a promise to pay
whose date has passed is settled as kept (invoice paid) or broken (still open: counted against the debtor's
risk class, and the ladder resumes, which the engine does by itself once the date has passed); arrangements
are checked by ``connector.debtors.arrangements.check_arrangements``; a debtor's "I have paid" from its page is
resolved when the payment shows up, and otherwise put in front of a person on its check day with what is still
open (``check_paid_claims``, docs/portal.md#answers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from connector.debtors.arrangements import check_arrangements
from connector.debtors.holds import apply_debtor_release, apply_invoice_release
from connector.model import InvoiceStatus, Money
from connector.model.api import EventType
from connector.model.outbox import OutboxStatus
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction


@dataclass
class DailyCheck:
    holds_lapsed: int = 0
    paid_claims_confirmed: int = 0
    paid_claims_due: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    arrangements_completed: int = 0
    arrangements_broken: int = 0
    installments_paid: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def expire_holds(rt: Runtime, org_id: int, today: date) -> int:
    """Release holds whose last day (``hold_until``) lies before ``today``; returns how many lapsed."""
    lapsed = 0
    with transaction(rt.sessions) as s:
        for adm in repos.list_administrations(s, org_id):
            invoices = {i.provider_ref: i for i in repos.get_invoices(s, org_id, adm.id)}
            for ref, state in repos.reminder_states(s, org_id, adm.id).items():
                if state.hold_reason and state.hold_until and state.hold_until < today and ref in invoices:
                    lapsed += apply_invoice_release(s, adm, invoices[ref], today, note="(term ended)")
            for debtor in repos.get_debtors(s, org_id, adm.id).values():
                if debtor.on_hold_reason and debtor.hold_until and debtor.hold_until < today:
                    lapsed += apply_debtor_release(s, adm, debtor, today)
    return lapsed


def check_promises(rt: Runtime, org_id: int, today: date) -> tuple[int, int]:
    """Settle promises whose date has passed: (kept, broken). A promise is kept when the invoice (for a debtor
    promise: every invoice due by the promised date) is no longer open the day after the promised date."""
    kept = broken = 0
    with transaction(rt.sessions) as s:
        for adm in repos.list_administrations(s, org_id):
            open_rows = repos.get_invoices(s, org_id, adm.id, open_only=True)
            open_refs = {row.provider_ref for row in open_rows if row.open_minor > 0}
            for ref, state in repos.reminder_states(s, org_id, adm.id).items():
                if state.promise_date is None or state.promise_date >= today:
                    continue
                row = next((r for r in open_rows if r.provider_ref == ref), None)
                outcome = "promise_broken" if ref in open_refs else "promise_kept"
                kept, broken = kept + (outcome == "promise_kept"), broken + (outcome == "promise_broken")
                repos.audit(
                    s,
                    org_id,
                    outcome,
                    f"promise to pay by {state.promise_date} {outcome.split('_')[1]}",
                    administration_id=adm.id,
                    invoice_ref=ref,
                    debtor_ref=row.debtor_ref if row else None,
                    data={"promise_date": state.promise_date.isoformat()},
                )
                if outcome == "promise_broken":
                    repos.emit_event(
                        s,
                        org_id,
                        EventType.PROMISE_BROKEN,
                        {
                            "administration_id": adm.id,
                            "debtor_ref": row.debtor_ref if row else None,
                            "invoices": [ref],
                            "promise_date": state.promise_date.isoformat(),
                        },
                    )
                state.promise_date, state.updated_at = None, repos.now(s)
            for debtor in repos.get_debtors(s, org_id, adm.id).values():
                promised = debtor.promise_date
                if promised is None or promised >= today:
                    continue
                late = [
                    r
                    for r in open_rows
                    if r.debtor_ref == debtor.provider_ref
                    and r.provider_ref in open_refs
                    and r.due_date <= promised
                    and r.status == InvoiceStatus.OPEN.value
                ]
                outcome = "promise_broken" if late else "promise_kept"
                kept, broken = kept + (outcome == "promise_kept"), broken + (outcome == "promise_broken")
                repos.audit(
                    s,
                    org_id,
                    outcome,
                    f"debtor promise to pay by {promised} {outcome.split('_')[1]}",
                    administration_id=adm.id,
                    debtor_ref=debtor.provider_ref,
                    data={"promise_date": promised.isoformat(), "open": [r.provider_ref for r in late]},
                )
                if late:
                    repos.emit_event(
                        s,
                        org_id,
                        EventType.PROMISE_BROKEN,
                        {
                            "administration_id": adm.id,
                            "debtor_ref": debtor.provider_ref,
                            "invoices": [r.provider_ref for r in late],
                            "promise_date": promised.isoformat(),
                        },
                    )
                debtor.promise_date = None
    return kept, broken


def check_paid_claims(rt: Runtime, org_id: int, today: date) -> tuple[int, int]:
    """The debtor said "I have paid" on its page: (confirmed, due). When every invoice of the answer is no longer
    open (the sync saw the payment) the answer is resolved and its waiting task closed, so nobody ever sees it; on
    and after its check day with something still open, the task (visible from that day) states the remainder. The
    ladder stays stopped either way until the answer is resolved (docs/portal.md#answers)."""
    confirmed = due = 0
    with transaction(rt.sessions) as s:
        for adm in repos.list_administrations(s, org_id):
            claims = [a for a in repos.open_portal_answers(s, org_id, adm.id) if a.kind == "paid"]
            if not claims:
                continue
            tasks = repos.portal_answer_tasks(s, org_id, adm.id)
            refs = sorted({str(ref) for claim in claims for ref in claim.invoice_refs})
            invoices = {row.provider_ref: row for row in repos.get_invoices(s, org_id, adm.id, refs)}
            for claim in claims:
                rows = [invoices[ref] for ref in claim.invoice_refs if ref in invoices]
                still_open = [r for r in rows if r.status == InvoiceStatus.OPEN.value and r.open_minor > 0]
                task = tasks.get(claim.id)
                if not still_open:
                    confirmed += 1
                    repos.resolve_portal_answer(s, org_id, claim.id, status="confirmed")
                    if task is not None:
                        payload = task.payload.model_copy(update={"completed_note": "payment seen"})
                        repos.update_outbox_item(
                            s, org_id, task.id, status=OutboxStatus.DONE, done_at=rt.clock(), payload=payload
                        )
                    repos.audit(
                        s,
                        org_id,
                        "portal_paid_confirmed",
                        "the payment the debtor reported on its page was seen",
                        administration_id=adm.id,
                        debtor_ref=claim.debtor_ref,
                        data={"answer": claim.id, "invoices": list(claim.invoice_refs)},
                    )
                    continue
                if task is None or claim.check_on is None or today < claim.check_on:
                    continue
                due += 1
                currency = still_open[0].currency
                left = Money.from_minor(sum(r.open_minor for r in still_open), currency).amount
                if task.payload.open_amount != left:  # a part payment was seen: the task states the remainder
                    payload = task.payload.model_copy(update={"open_amount": left, "currency": currency})
                    repos.update_outbox_item(s, org_id, task.id, payload=payload)
    return confirmed, due


def daily_checks(rt: Runtime, org_id: int, today: date) -> DailyCheck:
    """Everything above, in order: lapsed holds, passed promises, the debtors' claimed payments, arrangements."""
    report = DailyCheck(holds_lapsed=expire_holds(rt, org_id, today))
    report.paid_claims_confirmed, report.paid_claims_due = check_paid_claims(rt, org_id, today)
    report.promises_kept, report.promises_broken = check_promises(rt, org_id, today)
    plans = check_arrangements(rt, org_id, today)
    report.arrangements_completed, report.arrangements_broken = len(plans.completed), len(plans.broken)
    report.installments_paid = plans.installments_paid
    return report
