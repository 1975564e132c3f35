"""An invoice as the invoice page shows it: its state in the accounting package, our level, the next step and
when, and why (or why not) in words the page translates.

Sits next to ``connector.worklist.debtor``; asks the rules what they decide for the invoice today
(``connector.decide.invoice_outcome``, the same evaluation ``dunning why`` shows) and reads the invoice's audit
trail for its history. The outcome comes back as a reason code or a decision with the rule that made it, plus the
next date where the rules know one; the page turns the code into a sentence (docs/worklist.md#why-and-why-not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from connector import clock
from connector.decide import invoice_outcome, load_rules
from connector.errors import ConnectorError, NotFound
from connector.model import InvoiceStatus, Money
from connector.rules.decisions import Decision, NonDecision
from connector.runtime import Runtime
from connector.storage import repos


@dataclass(frozen=True)
class Outcome:
    """What the rules decide today: ``kind`` is ``step`` (a level goes out), ``recorded`` (a level is reached
    without a message), ``wait`` (nothing today, with ``reason``), ``closed`` (not open) or ``error``."""

    kind: str
    reason: str | None = None
    level: int | None = None
    level_name: str | None = None
    channel: str | None = None
    next_date: date | None = None
    rule: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    costs: Decimal | None = None
    interest: Decimal | None = None
    requires_approval: bool = False
    detail: str | None = None


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    kind: str
    message: str
    rule: str | None
    by: str | None


@dataclass(frozen=True)
class InvoiceView:
    id: int
    administration_id: int
    administration: str
    provider: str
    provider_ref: str
    number: str
    debtor_id: int | None
    debtor: str
    invoice_date: date | None
    due_date: date
    currency: str
    total: Decimal
    open_amount: Decimal
    status: str
    provider_state: str
    days_overdue: int | None
    disputed: bool
    payment_url: str | None
    level: int | None
    level_name: str | None
    level_reached_on: date | None
    last_message_on: date | None
    hold_reason: str | None
    hold_until: date | None
    promise_date: date | None
    handed_over: bool
    today: date
    outcome: Outcome
    history: list[HistoryLine]


def invoice_view(rt: Runtime, org_id: int, invoice_id: int) -> InvoiceView:
    """The invoice page's facts; another organisation's invoice (or none at all) is ``NotFound``."""
    with rt.sessions() as s:
        inv = repos.invoice_by_id(s, org_id, invoice_id)
        if inv is None or inv.deleted:
            raise NotFound(f"there is no invoice {invoice_id}")
        adm = repos.get_administration(s, org_id, inv.administration_id)
        today = clock.today(adm.timezone, clock=rt.clock)
        debtor = repos.get_debtors(s, org_id, adm.id, [inv.debtor_ref]).get(inv.debtor_ref)
        state = repos.reminder_states(s, org_id, adm.id, [inv.provider_ref]).get(inv.provider_ref)
        history = [
            HistoryLine(
                at=e.created_at,
                kind=e.kind,
                message=e.message,
                rule=str((e.data or {}).get("why", {}).get("rule") or "") or None
                if isinstance((e.data or {}).get("why"), dict)
                else None,
                by=str((e.data or {})["by"]) if (e.data or {}).get("by") else None,
            )
            for e in repos.audit_trail(s, org_id, invoice_ref=inv.provider_ref)
            if e.administration_id in (None, adm.id) and e.kind != "preview"
        ]
    is_open = inv.status == InvoiceStatus.OPEN.value and inv.open_minor != 0
    return InvoiceView(
        id=inv.id,
        administration_id=adm.id,
        administration=adm.name,
        provider=adm.provider,
        provider_ref=inv.provider_ref,
        number=inv.number or inv.provider_ref,
        debtor_id=debtor.id if debtor else None,
        debtor=debtor.name if debtor else inv.debtor_ref,
        invoice_date=inv.invoice_date,
        due_date=inv.due_date,
        currency=inv.currency,
        total=Money.from_minor(inv.total_minor, inv.currency).amount,
        open_amount=Money.from_minor(inv.open_minor, inv.currency).amount,
        status=inv.status,
        provider_state=inv.provider_state,
        days_overdue=max(0, (today - inv.due_date).days) if is_open else None,
        disputed=inv.disputed,
        payment_url=inv.payment_url,
        level=state.level if state else None,
        level_name=state.level_name if state else None,
        level_reached_on=state.level_reached_on if state else None,
        last_message_on=state.last_message_on if state else None,
        hold_reason=state.hold_reason if state else None,
        hold_until=state.hold_until if state else None,
        promise_date=state.promise_date if state else None,
        handed_over=bool(state and state.handed_over),
        today=today,
        outcome=_outcome(rt, org_id, inv.administration_id, inv.provider_ref, today) if is_open else Outcome("closed"),
        history=history,
    )


def _outcome(rt: Runtime, org_id: int, administration_id: int, invoice_ref: str, today: date) -> Outcome:
    with rt.sessions() as s:
        adm = repos.get_administration(s, org_id, administration_id)
    try:
        policies, rates = load_rules(rt)
        found = invoice_outcome(rt, adm, invoice_ref, today, policies, rates)
    except ConnectorError as exc:
        return Outcome("error", detail=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if found is None:
        return Outcome("closed")
    if isinstance(found, NonDecision):
        return Outcome(
            "wait",
            reason=found.reason.value,
            next_date=found.next_date,
            rule=found.why.rule,
            inputs=dict(found.why.inputs),
            detail=found.detail or None,
        )
    return _decision(found)


def _decision(found: Decision) -> Outcome:
    return Outcome(
        "recorded" if found.skipped else "step",
        level=found.level,
        level_name=found.level_name,
        channel=found.channel.value,
        next_date=None,
        rule=found.why.rule,
        inputs=dict(found.why.inputs),
        costs=found.costs.total if found.costs else None,
        interest=found.interest,
        requires_approval=found.requires_approval,
    )
