"""Payment arrangements (betalingsregeling, docs/credit-management.md#payment-arrangements): an installment schedule
over one or more invoices of a debtor.

While an arrangement is ``active`` ``connector.snapshots`` hands it to the engine with each invoice snapshot, and
the ladder pauses as long as no installment is overdue beyond the policy's ``arrangement_grace_days``.
``check_arrangements`` (run daily, before the dunning run) marks installments paid from synced payments, closes a
kept arrangement as ``completed`` and a missed one as ``broken``; a broken arrangement no longer pauses anything,
so the normal sequence resumes where it stopped. Broken arrangements count against the debtor's risk class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from connector.debtors.common import debtor_row, invoice_row, queue_writeback, today_for
from connector.decide import load_rules
from connector.errors import PermanentError, PolicyError
from connector.model import InvoiceStatus, Money
from connector.model.outbox import OutboxAction
from connector.policies import policy_for
from connector.reports.inputs import CASH_KINDS
from connector.rules.policy import Policy
from connector.rules.snapshot import InvoiceSnapshot
from connector.runtime import Runtime
from connector.snapshots import build_snapshots
from connector.storage import repos, tables
from connector.storage.db import Session, transaction

DEFAULT_GRACE_DAYS = 3  # when no policy applies (no open invoice left): the policies' default


@dataclass
class ArrangementCheck:
    completed: list[int] = field(default_factory=list)
    broken: list[int] = field(default_factory=list)
    installments_paid: int = 0


def split_amount(total_minor: int, parts: int) -> list[int]:
    """Equal installments in minor units; the remainder (a few cents) goes to the last one. Sums to the total."""
    if parts < 1:
        raise PermanentError("an arrangement needs at least one installment")
    if total_minor <= 0:
        raise PermanentError("nothing is open on these invoices")
    base = total_minor // parts
    return [base] * (parts - 1) + [total_minor - base * (parts - 1)]


def create_arrangement(
    rt: Runtime,
    org_id: int,
    administration_id: int,
    debtor_ref: str,
    invoice_refs: list[str],
    *,
    installments: int,
    first_due: date,
    every_days: int = 30,
    note: str | None = None,
) -> int:
    """Agree a schedule over the open amount of ``invoice_refs`` (all of the debtor, all open, one currency)."""
    if every_days < 1:
        raise PermanentError("installments must be at least one day apart")
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        rows = [invoice_row(s, org_id, administration_id, ref) for ref in invoice_refs]
        if not rows:
            raise PermanentError("an arrangement covers at least one invoice")
        for row in rows:
            if row.debtor_ref != debtor.provider_ref:
                raise PermanentError(f"invoice {row.number or row.provider_ref} belongs to another debtor")
            if row.status != InvoiceStatus.OPEN.value or row.open_minor <= 0:
                raise PermanentError(f"invoice {row.number or row.provider_ref} is not open")
        currencies = {row.currency for row in rows}
        if len(currencies) != 1:
            raise PermanentError("an arrangement covers invoices of one currency")
        currency = currencies.pop()
        amounts = split_amount(sum(row.open_minor for row in rows), installments)
        schedule = [(first_due + timedelta(days=every_days * k), amount) for k, amount in enumerate(amounts)]
        refs = [row.provider_ref for row in rows]
        today = today_for(rt, adm)
        text = (
            f"Betalingsregeling: {installments} termijnen vanaf {first_due.isoformat()}, "
            f"totaal {Money.from_minor(sum(amounts), currency).amount} {currency}"
        )
        queue_writeback(
            s,
            adm,
            action=OutboxAction.NOTE,
            kind="arrangement",
            debtor_ref=debtor.provider_ref,
            invoice_refs=refs,
            subject=f"debtor:{debtor.provider_ref}",
            text=text,
            today=today,
        )
        plan = repos.create_arrangement(
            s,
            org_id,
            administration_id,
            debtor_ref=debtor.provider_ref,
            invoice_refs=refs,
            agreed_on=today,
            schedule=schedule,
            currency=currency,
            note=note,
        )
        repos.audit(
            s,
            org_id,
            "arrangement",
            text,
            administration_id=administration_id,
            debtor_ref=debtor.provider_ref,
            data={"arrangement": plan.id, "invoices": refs, "schedule": [[d.isoformat(), a] for d, a in schedule]},
        )
        return plan.id


def pay_installment(rt: Runtime, org_id: int, arrangement_id: int, number: int, *, paid_on: date | None = None) -> str:
    """Record an installment as paid by hand; returns the arrangement's status (``completed`` when all are paid)."""
    with transaction(rt.sessions) as s:
        plan = repos.get_arrangement(s, org_id, arrangement_id)
        adm = repos.get_administration(s, org_id, plan.administration_id)
        rows = repos.installments(s, org_id, [plan.id])[plan.id]
        match = [row for row in rows if row.number == number]
        if not match:
            raise PermanentError(f"arrangement {arrangement_id} has no installment {number} (1..{len(rows)})")
        if plan.status not in ("active", "broken"):
            raise PermanentError(f"arrangement {arrangement_id} is {plan.status}")
        day = paid_on or today_for(rt, adm)
        if not match[0].paid:
            match[0].paid, match[0].paid_on = True, day
            repos.audit(
                s,
                org_id,
                "installment_paid",
                f"installment {number} of arrangement {plan.id} paid",
                administration_id=plan.administration_id,
                debtor_ref=plan.debtor_ref,
                data={"arrangement": plan.id, "installment": number, "paid_on": day.isoformat()},
            )
        if plan.status == "active" and all(row.paid for row in rows):
            _close(s, plan, "completed", day)
        return plan.status


def cancel_arrangement(rt: Runtime, org_id: int, arrangement_id: int, *, reason: str = "by hand") -> None:
    with transaction(rt.sessions) as s:
        plan = repos.get_arrangement(s, org_id, arrangement_id)
        adm = repos.get_administration(s, org_id, plan.administration_id)
        if plan.status != "active":
            raise PermanentError(f"arrangement {arrangement_id} is {plan.status}, not active")
        _close(s, plan, "cancelled", today_for(rt, adm), reason=reason)


def list_arrangements(rt: Runtime, org_id: int, *, status: str | None = None) -> list[dict[str, Any]]:
    with rt.sessions() as s:
        plans = repos.arrangements(s, org_id, status=status)
        schedules = repos.installments(s, org_id, [p.id for p in plans])
    return [
        {
            "id": plan.id,
            "administration_id": plan.administration_id,
            "debtor_ref": plan.debtor_ref,
            "invoices": list(plan.invoice_refs),
            "status": plan.status,
            "agreed_on": plan.agreed_on.isoformat(),
            "installments": [
                {
                    "number": row.number,
                    "due_date": row.due_date.isoformat(),
                    "amount": str(Money.from_minor(row.amount_minor, row.currency).amount),
                    "currency": row.currency,
                    "paid": row.paid,
                    "paid_on": row.paid_on.isoformat() if row.paid_on else None,
                }
                for row in schedules.get(plan.id, [])
            ],
        }
        for plan in plans
    ]


def check_arrangements(rt: Runtime, org_id: int, today: date) -> ArrangementCheck:
    """Daily: installments paid from synced payments, kept plans ``completed``, missed plans ``broken``.

    An installment counts as missed when it is unpaid after its due date + the policy's ``arrangement_grace_days``
    (the same rule the engine uses to resume the ladder, ``Arrangement.first_missed``).
    """
    result = ArrangementCheck()
    policies, _rates = load_rules(rt)
    with rt.sessions() as s:
        administrations = repos.list_administrations(s, org_id)
    for adm in administrations:
        with rt.sessions() as s:
            choose = policy_for(s, org_id, adm.id, policies)
        grace = {snap.invoice_ref: _grace(snap, choose) for snap in build_snapshots(rt, adm)}
        with transaction(rt.sessions) as s:
            plans = repos.arrangements(s, org_id, adm.id, status="active")
            schedules = repos.installments(s, org_id, [p.id for p in plans])
            for plan in plans:
                _check_one(s, adm, plan, schedules.get(plan.id, []), today, grace, result)
    return result


def _grace(snapshot: InvoiceSnapshot, choose: Callable[[InvoiceSnapshot], Policy]) -> int:
    try:
        return choose(snapshot).arrangement_grace_days
    except PolicyError:  # an unknown override is reported by the dunning run itself; use the default here
        return DEFAULT_GRACE_DAYS


def _check_one(
    s: Session,
    adm: tables.Administration,
    plan: tables.Arrangement,
    rows: list[tables.Installment],
    today: date,
    grace: dict[str, int],
    result: ArrangementCheck,
) -> None:
    result.installments_paid += _allocate_payments(s, adm, plan, rows)
    invoices = repos.get_invoices(s, adm.org_id, adm.id, list(plan.invoice_refs))
    settled = all(inv.status != InvoiceStatus.OPEN.value or inv.open_minor <= 0 for inv in invoices)
    if settled or all(row.paid for row in rows):
        _close(s, plan, "completed", today)
        result.completed.append(plan.id)
        return
    days = min((grace[ref] for ref in plan.invoice_refs if ref in grace), default=DEFAULT_GRACE_DAYS)
    missed = [row for row in rows if not row.paid and row.due_date + timedelta(days=days) < today]
    if missed:
        first = missed[0]
        queue_writeback(
            s,
            adm,
            action=OutboxAction.NOTE,
            kind="arrangement_broken",
            debtor_ref=plan.debtor_ref,
            invoice_refs=[str(r) for r in plan.invoice_refs],
            subject=f"arrangement:{plan.id}",
            text=f"Betalingsregeling niet nagekomen (termijn {first.number}); aanmaningen hervat",
            today=today,
        )
        _close(s, plan, "broken", today, reason=f"installment {first.number} due {first.due_date} unpaid")
        result.broken.append(plan.id)


def _allocate_payments(
    s: Session, adm: tables.Administration, plan: tables.Arrangement, rows: list[tables.Installment]
) -> int:
    """Mark installments paid, in schedule order, as far as cash paid on the invoices since the agreement covers."""
    refs = {str(r) for r in plan.invoice_refs}
    payments = sorted(
        (
            p
            for p in repos.get_payments(s, adm.org_id, adm.id)
            if p.invoice_ref in refs and p.kind in CASH_KINDS and p.payment_date >= plan.agreed_on
        ),
        key=lambda p: p.payment_date,
    )
    newly = 0
    paid_total, due_total, cursor = 0, 0, iter(payments)
    last_day: date | None = None
    for row in rows:
        due_total += row.amount_minor
        while paid_total < due_total:
            payment = next(cursor, None)
            if payment is None:
                return newly
            paid_total += payment.amount_minor
            last_day = payment.payment_date
        if not row.paid:
            row.paid, row.paid_on = True, last_day
            newly += 1
    return newly


def _close(s: Session, plan: tables.Arrangement, status: str, day: date, *, reason: str = "") -> None:
    plan.status, plan.closed_on = status, day
    repos.audit(
        s,
        plan.org_id,
        f"arrangement_{status}",
        f"arrangement {plan.id} {status} {reason}".strip(),
        administration_id=plan.administration_id,
        debtor_ref=plan.debtor_ref,
        data={"arrangement": plan.id, "invoices": list(plan.invoice_refs)},
    )
