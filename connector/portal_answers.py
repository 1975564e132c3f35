"""The debtor's answers on the page: "I have paid", "I dispute this", "propose an arrangement" and "a question".

Called by ``dashboard.portal`` when the debtor posts a form on ``/p/<token>``; sits beside ``connector.portal``
(which opens the link; the same throttle counts every answer) and uses debtor management for what a person
would otherwise do by hand (``connector.debtors``: a dispute hold with its note written back, an arrangement).
Each answer is stored (``portal_answers``, with the link's id, never the token), written to the audit trail (so
it is on the debtor's timeline) and put in the worklist as a task; while it is open the rules send nothing for
its invoices (``connector.snapshots`` reads open answers as holds): a claimed payment and a dispute until a
person closes the task (or the payment is seen), a question for ``PAUSE_DAYS``, an arrangement outside the
policy's bounds until it is approved. A claimed payment's task waits until the policy's ``paid_claim_check_days``
have passed, and is resolved without a person when a sync shows the payment first. An arrangement inside the
bounds starts at once and the ladder follows it (docs/portal.md#answers).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from connector import clock
from connector import portal as pages
from connector.channels.context import language_for
from connector.debtors.arrangements import create_arrangement
from connector.debtors.holds import HoldReason, apply_invoice_hold
from connector.decide import load_rules
from connector.errors import ConnectorError, PolicyError
from connector.model import InvoiceStatus, Money
from connector.model.outbox import OutboxAction, OutboxChannel, OutboxPayload, OutboxStatus
from connector.policies import policy_for
from connector.rules.policy import Policy
from connector.runtime import Runtime
from connector.snapshots import build_snapshots
from connector.storage import repos, tables
from connector.storage.db import Session, transaction

PAUSE_DAYS = 14  # a question pauses the ladder this long
DISPUTE_REASONS = ("not_received", "amount_wrong", "quality", "already_paid_or_credited", "other")
DEFAULT_CHECK_DAYS = 7  # "I have paid" without a policy to say: a person looks after this many days
MESSAGE_CHARS = 2000
TERM_DAYS = 30  # an arrangement's instalments are a month apart, the first a month from today
TASKS = {  # the worklist's line for each answer (stored data, like every step's name)
    "paid": "Debiteur meldt betaald (portaal): geen betaling gezien",
    "dispute": "Debiteur betwist factuur (portaal): beoordelen",
    "arrangement": "Debiteur vraagt betalingsregeling (portaal): goedkeuren",
    "arrangement_accepted": "Betalingsregeling via portaal gestart: ter info",
    "question": "Vraag van debiteur (portaal): beantwoorden",
}


class Kind(enum.StrEnum):
    PAID = "paid"
    DISPUTE = "dispute"
    ARRANGEMENT = "arrangement"
    QUESTION = "question"


class Problem(enum.StrEnum):
    """What is wrong with an answer, as a code the page turns into a sentence in the debtor's language."""

    NO_INVOICES = "no_invoices"
    PAID_ON = "paid_on"
    AMOUNT = "amount"
    REASON = "reason"
    MESSAGE = "message"
    TERMS = "terms"


class AnswerRefused(ConnectorError):
    """The answer cannot be taken: the link does not work (``state``) or a field is wrong (``problem``)."""

    def __init__(self, state: pages.Opened = pages.Opened.OK, problem: Problem | None = None) -> None:
        super().__init__(problem.value if problem else state.value)
        self.state, self.problem = state, problem


@dataclass(frozen=True)
class Answered:
    answer_id: int
    kind: Kind
    status: str  # open | accepted | awaiting_approval
    invoices: tuple[str, ...]  # their numbers
    creditor: str
    email: str | None
    language: str
    schedule: tuple[tuple[date, Decimal, str], ...] = field(default=())  # an accepted arrangement's payments


@dataclass(frozen=True)
class Form:
    """What the debtor posted, still as text: checked here, never trusted."""

    kind: str
    invoices: tuple[str, ...]
    paid_on: str = ""
    amount: str = ""
    reason: str = ""
    message: str = ""
    terms: str = ""


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise AnswerRefused(problem=Problem.AMOUNT) from None
    if not value.is_finite() or value <= 0 or value > Decimal("100000000") or value != value.quantize(Decimal("0.01")):
        raise AnswerRefused(problem=Problem.AMOUNT)
    return value


def _day(text: str, today: date) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise AnswerRefused(problem=Problem.PAID_ON) from None
    if day > today or day < today - timedelta(days=366):
        raise AnswerRefused(problem=Problem.PAID_ON)
    return day


def _message(text: str, *, required: bool) -> str | None:
    cleaned = "".join(ch for ch in text if ch in "\n\t" or (ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF))
    cleaned = cleaned.strip()[:MESSAGE_CHARS]
    if required and not cleaned:
        raise AnswerRefused(problem=Problem.MESSAGE)
    return cleaned or None


def answer(rt: Runtime, token: str, address: str, form: Form) -> Answered:
    """Take one answer through the link ``token`` (throttled like opening it); ``AnswerRefused`` says why not."""
    try:
        kind = Kind(form.kind)
    except ValueError:
        raise AnswerRefused(pages.Opened.NOT_FOUND) from None
    with transaction(rt.sessions) as s:
        state, link = pages.check(s, rt, token, address)
        if link is None:
            raise AnswerRefused(state)
        link_id, org_id, adm_id, debtor_ref = link.id, link.org_id, link.administration_id, link.debtor_ref
    with rt.sessions() as s:
        adm = repos.get_administration(s, org_id, adm_id)
        today = clock.today(adm.timezone, clock=rt.clock)
        chosen = _invoices(s, org_id, adm_id, debtor_ref, form.invoices)
    if kind is Kind.ARRANGEMENT:
        return _arrangement(rt, adm, link_id, debtor_ref, chosen, form, today)
    check_days = 0
    if kind is Kind.PAID:
        chosen_policies = _policies(rt, adm, debtor_ref, {inv.provider_ref for inv in chosen})
        check_days = min((p.paid_claim_check_days for p in chosen_policies or []), default=DEFAULT_CHECK_DAYS)
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, adm_id)
        fields: dict[str, object] = {}
        if kind is Kind.PAID:
            fields = {"paid_on": _day(form.paid_on, today), "check_on": today + timedelta(days=check_days)}
            amount = _amount(form.amount)
            fields.update(amount_minor=Money.of(amount, chosen[0].currency).to_minor(), currency=chosen[0].currency)
            fields["message"] = _message(form.message, required=False)
        elif kind is Kind.DISPUTE:
            if form.reason not in DISPUTE_REASONS:
                raise AnswerRefused(problem=Problem.REASON)
            fields = {"reason": form.reason, "message": _message(form.message, required=False)}
            for inv in chosen:
                apply_invoice_hold(s, adm, inv, HoldReason.DISPUTE, None, today)
        else:
            fields = {"message": _message(form.message, required=True), "check_on": today + timedelta(days=PAUSE_DAYS)}
        row = repos.add_portal_answer(
            s,
            org_id,
            adm_id,
            link_id=link_id,
            debtor_ref=debtor_ref,
            kind=kind.value,
            invoice_refs=[inv.provider_ref for inv in chosen],
            **fields,  # type: ignore[arg-type]
        )
        _record(s, adm, row, chosen, today, TASKS[kind.value])
        return _answered(s, adm, row, chosen)


def _invoices(s: Session, org_id: int, adm_id: int, debtor_ref: str, refs: tuple[str, ...]) -> list[tables.Invoice]:
    """The chosen invoices, each an open one of this debtor at this creditor (anything else is refused)."""
    open_rows = {
        row.provider_ref: row
        for row in repos.debtor_invoices(s, org_id, adm_id, debtor_ref)
        if row.status == InvoiceStatus.OPEN.value and row.open_minor > 0
    }
    wanted = list(dict.fromkeys(refs))
    if not wanted or len(wanted) > 200 or any(ref not in open_rows for ref in wanted):
        raise AnswerRefused(problem=Problem.NO_INVOICES)
    return [open_rows[ref] for ref in wanted]


def _arrangement(
    rt: Runtime,
    adm: tables.Administration,
    link_id: int,
    debtor_ref: str,
    chosen: list[tables.Invoice],
    form: Form,
    today: date,
) -> Answered:
    if len({inv.currency for inv in chosen}) != 1 or not form.terms.strip().isdigit():
        raise AnswerRefused(problem=Problem.TERMS)
    terms = int(form.terms.strip())
    max_terms, min_term = _bounds(rt, adm, debtor_ref, {inv.provider_ref for inv in chosen})
    total = sum((Money.from_minor(inv.open_minor, inv.currency).amount for inv in chosen), Decimal(0))
    if not 2 <= terms <= 60:
        raise AnswerRefused(problem=Problem.TERMS)
    refs = [inv.provider_ref for inv in chosen]
    plan_id = None
    if terms <= max_terms and total / terms >= min_term:
        plan_id = create_arrangement(
            rt,
            adm.org_id,
            adm.id,
            debtor_ref,
            refs,
            installments=terms,
            first_due=today + timedelta(days=TERM_DAYS),
            every_days=TERM_DAYS,
            note="portal",
        )
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, adm.org_id, adm.id)
        row = repos.add_portal_answer(
            s,
            adm.org_id,
            adm.id,
            link_id=link_id,
            debtor_ref=debtor_ref,
            kind=Kind.ARRANGEMENT.value,
            invoice_refs=refs,
            terms=terms,
            arrangement_id=plan_id,
            status="accepted" if plan_id else "awaiting_approval",
            message=_message(form.message, required=False),
        )
        _record(s, adm, row, chosen, today, TASKS["arrangement_accepted" if plan_id else "arrangement"])
        return _answered(s, adm, row, chosen)


def _policies(rt: Runtime, adm: tables.Administration, debtor_ref: str, refs: set[str]) -> list[Policy] | None:
    """The policies of the chosen invoices; None when one has none."""
    policies, _rates = load_rules(rt)
    with rt.sessions() as s:
        choose = policy_for(s, adm.org_id, adm.id, policies)
    found = []
    for snap in build_snapshots(rt, adm, debtor_ref=debtor_ref):
        if snap.invoice_ref not in refs:
            continue
        try:
            found.append(choose(snap))
        except PolicyError:
            return None
    return found


def _bounds(rt: Runtime, adm: tables.Administration, debtor_ref: str, refs: set[str]) -> tuple[int, Decimal]:
    """The strictest bounds the policies of the chosen invoices allow (most terms, least per term)."""
    found = _policies(rt, adm, debtor_ref, refs)
    if found is None:
        return 0, Decimal(0)  # no policy to say what is allowed: a person decides
    max_terms, min_term = 60, Decimal(0)
    for policy in found:
        max_terms, min_term = min(max_terms, policy.arrangement_max_terms), max(min_term, policy.arrangement_min_term)
    return max_terms, min_term


def _record(
    s: Session,
    adm: tables.Administration,
    row: tables.PortalAnswer,
    chosen: list[tables.Invoice],
    today: date,
    task: str,
) -> None:
    """The audit entry (the debtor's timeline) and the worklist task of an answer."""
    refs = [inv.provider_ref for inv in chosen]
    data = {"answer": row.id, "link": row.link_id, "kind": row.kind, "invoices": refs, "status": row.status}
    repos.audit(
        s,
        adm.org_id,
        "portal_answer",
        f"debtor answered on the portal: {row.kind} ({row.status})",
        administration_id=adm.id,
        debtor_ref=row.debtor_ref,
        invoice_ref=refs[0] if len(refs) == 1 else None,
        data=data,
    )
    total = sum(inv.open_minor for inv in chosen)
    claim: dict[str, object] = {}
    waits = None
    if row.kind == Kind.PAID.value and row.check_on is not None:
        # docs/portal.md#answers: the task waits (the worklist's snoozed tab) until the check day; a sync that shows
        # the payment first resolves it (connector.debtors.checks.check_paid_claims) and nobody ever sees it
        paid = Money.from_minor(row.amount_minor or 0, row.currency or chosen[0].currency).amount
        claim = {"claimed_paid_on": row.paid_on, "claimed_amount": paid, "claim_check_on": row.check_on}
        claim["snoozed_until"] = row.check_on
        waits = datetime.combine(row.check_on, time(0), tzinfo=ZoneInfo(adm.timezone)).astimezone(UTC)
    repos.add_outbox_item(
        s,
        adm.org_id,
        adm.id,
        idempotency_key=f"portal_answer:{adm.org_id}:{row.id}",
        action=OutboxAction.PORTAL_ANSWER,
        debtor_ref=row.debtor_ref,
        invoice_refs=refs,
        level=0,
        level_name=task,
        channel=OutboxChannel.TASK,
        run_date=today,
        status=OutboxStatus.TASK_OPEN,
        payload=OutboxPayload(
            currency=chosen[0].currency,
            open_amount=Money.from_minor(total, chosen[0].currency).amount,
            note=row.message,
            portal_answer=row.id,
            **claim,
        ),
        next_attempt_at=waits,
    )


def _answered(
    s: Session, adm: tables.Administration, row: tables.PortalAnswer, chosen: list[tables.Invoice]
) -> Answered:
    debtor = repos.get_debtors(s, adm.org_id, adm.id, [row.debtor_ref]).get(row.debtor_ref)
    schedule: tuple[tuple[date, Decimal, str], ...] = ()
    if row.arrangement_id is not None:
        rows = repos.installments(s, adm.org_id, [row.arrangement_id]).get(row.arrangement_id, [])
        schedule = tuple((i.due_date, Money.from_minor(i.amount_minor, i.currency).amount, i.currency) for i in rows)
    return Answered(
        answer_id=row.id,
        kind=Kind(row.kind),
        status=row.status,
        invoices=tuple(inv.number or inv.provider_ref for inv in chosen),
        creditor=adm.name,
        email=debtor.email if debtor else None,
        language=language_for(debtor.language if debtor else None),
        schedule=schedule,
    )
