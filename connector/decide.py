"""Decide: once a day per administration, storage -> snapshots -> pure rules -> outbox, in one transaction.

The step between ``connector.sync`` and the outbox. For every administration of an organisation the run builds
one ``InvoiceSnapshot`` per open invoice (``connector.snapshots``), asks ``connector.rules`` for today's
decisions, and stores each grouped message as an outbox item (deterministic idempotency key) together with the
new reminder levels and an audit entry saying why. Administrations in safe mode, and ``dry_run`` runs, only
record a preview. ``connector.outbox`` drains the items: it sends, writes back and records what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import structlog

from connector.channels.templating import check_fourteen_day_templates
from connector.errors import ConnectorError
from connector.model import Capability, Money
from connector.model.api import EventType
from connector.model.outbox import CostsPart, InstallmentPart, OutboxAction, OutboxChannel, OutboxPayload, OutboxStatus
from connector.policies import packaged_policies, policy_for
from connector.registry import adapter_class
from connector.rules.dayone import DayOne, DayOneSetting, day_one_policy, split_history
from connector.rules.decisions import Decision, EvaluationResult, Message, NonDecision, Reason
from connector.rules.engine import RunContext, evaluate, evaluate_invoice
from connector.rules.interest import RateTable, load_rate_table
from connector.rules.law import CostLine
from connector.rules.policy import Action, Policy
from connector.runtime import Runtime
from connector.snapshots import build_snapshots
from connector.storage import repos, tables
from connector.storage.db import transaction

log = structlog.get_logger(__name__)
PROVIDER_COUNTED = {Action.FRIENDLY_REMINDER, Action.REMINDER}  # steps a package's own workflow also sends
PROVIDER_CHASED = PROVIDER_COUNTED | {Action.FINAL_NOTICE, Action.DEMAND_LETTER}  # what its reminders would double
QUIET_REASONS = {Reason.NOT_DUE, Reason.PAID, Reason.DRAFT, Reason.VOIDED, Reason.CREDITED}


@dataclass
class RunReport:
    run_date: date
    dry_run: bool
    decisions: int = 0
    messages: int = 0
    queued: int = 0
    previews: list[dict[str, Any]] = field(default_factory=list)
    non_decisions: dict[str, int] = field(default_factory=dict)


def load_rules(rt: Runtime) -> tuple[dict[str, Policy], RateTable]:
    """The policies (each level's template checked against the template sets we can render) and the rate table;
    the 14-day letter's templates are rendered on a sample and refused when their words count from today."""
    policies = packaged_policies(rt.settings.policies_dir)  # the YAML ones; policy_for adds the organisation's
    check_fourteen_day_templates()
    return policies, load_rate_table(rt.settings.interest_rates_file)


def _provider_already_reminded(inv: tables.Invoice, state: tables.ReminderState) -> bool:
    """The package's own workflow sent a reminder we did not send (its reminder_count ran ahead of ours)."""
    return inv.provider_reminder_count > repos.provider_reminders_known(state)


def run_administration(
    rt: Runtime,
    adm: tables.Administration,
    today: date,
    policies: dict[str, Policy],
    rates: RateTable,
    *,
    dry_run: bool = False,
    report: RunReport | None = None,
) -> RunReport:
    report = report or RunReport(run_date=today, dry_run=dry_run)
    with rt.sessions() as s:
        last_run = repos.last_run_date(s, adm.org_id, adm.id)
        choose = policy_for(s, adm.org_id, adm.id, policies)  # docs/policies.md#which-policy-applies
    setting = day_one(adm)  # how the history enters the ladder (docs/onboarding.md#day-one-choices)
    snapshots, left_alone = split_history(build_snapshots(rt, adm), setting)
    result = evaluate(
        snapshots,
        day_one_policy(choose, setting),
        today,
        last_run_date=None if dry_run else last_run,
        run_context=RunContext(connection_id=str(adm.connection_id), rates=rates),
    )
    if left_alone:
        result = result.model_copy(update={"non_decisions": (*result.non_decisions, *left_alone)})
    for nd in result.non_decisions:
        report.non_decisions[nd.reason.value] = report.non_decisions.get(nd.reason.value, 0) + 1
    if dry_run or adm.safe_mode or adm.paused:  # paused from the cockpit: nothing sent (docs/cockpit.md#bulk-actions)
        report.previews.extend(_preview(adm, m) for m in result.messages)
        report.decisions += len(result.decisions)
        report.messages += len(result.messages)
        if not dry_run and not adm.paused:
            _record_preview(rt, adm, result, today)
        return report
    _commit_run(rt, adm, result, today, report)
    return report


def day_one(adm: tables.Administration) -> DayOneSetting | None:
    """The administration's day-one choice, None until the onboarding made one (the policy as it is)."""
    if adm.day_one in {c.value for c in DayOne} and adm.day_one_from is not None:
        return DayOneSetting(DayOne(adm.day_one), adm.day_one_from)
    return None


def _preview(adm: tables.Administration, message: Message) -> dict[str, Any]:
    return {
        "administration": adm.name,
        "debtor_ref": message.debtor_ref,
        "level": message.level,
        "level_name": message.level_name,
        "action": message.action.value,
        "channel": message.channel.value,
        "invoices": list(message.invoice_refs),
        "open_amount": str(message.open_amount),
        "currency": message.currency,
        "costs": str(message.costs.total) if message.costs else None,
        "interest": str(message.interest) if message.interest is not None else None,
        "requires_approval": message.requires_approval,
    }


def _record_preview(rt: Runtime, adm: tables.Administration, result: EvaluationResult, today: date) -> None:
    with transaction(rt.sessions) as s:
        for message in result.messages:
            repos.audit(
                s,
                adm.org_id,
                "preview",
                f"safe mode: would send {message.level_name}",
                administration_id=adm.id,
                debtor_ref=message.debtor_ref,
                data=_preview(adm, message),
            )


def _commit_run(
    rt: Runtime, adm: tables.Administration, result: EvaluationResult, today: date, report: RunReport
) -> None:
    with transaction(rt.sessions) as s:
        # two runs at once (the CLI beside the worker) commit one after the other; the second finds the first
        # one's items by their idempotency keys and queues nothing twice (docs/architecture.md#concurrency)
        repos.serialise_run(s, adm.org_id, adm.id)
        run = repos.start_run(s, adm.org_id, adm.id, today, dry_run=False)
        invoices = {i.provider_ref: i for i in repos.get_invoices(s, adm.org_id, adm.id, open_only=True)}
        cannot_pause = Capability.PAUSE_PROVIDER_REMINDERS not in adapter_class(adm.provider).capabilities
        for message in result.messages:
            report.messages += 1
            if message.needs_provider_pause and cannot_pause and message.action in PROVIDER_CHASED:
                _blocked_double_chase(s, adm, message)  # the level stays, so the ladder resumes once it is off
                continue
            decisions = list(message.decisions)
            by_provider = [
                d
                for d in decisions
                if d.action in PROVIDER_COUNTED
                and d.invoice_ref in invoices
                and _provider_already_reminded(
                    invoices[d.invoice_ref], repos.reminder_state(s, adm.org_id, adm.id, d.invoice_ref)
                )
            ]
            # docs/credit-management.md#double-chasing: never a second reminder for a step the package already sent
            for decision in by_provider:
                _advance(s, adm, decision, today, message=False, provider_step=True)
            remaining = [d for d in decisions if d not in by_provider]
            if not remaining:
                continue
            inserted = repos.add_outbox_item(
                s,
                adm.org_id,
                adm.id,
                idempotency_key=message.idempotency_key,
                action=OutboxAction(message.action.value),
                debtor_ref=message.debtor_ref,
                invoice_refs=[d.invoice_ref for d in remaining],
                level=message.level,
                level_name=message.level_name,
                channel=OutboxChannel(message.channel.value),
                run_date=today,
                status=OutboxStatus.AWAITING_APPROVAL if message.requires_approval else OutboxStatus.PENDING,
                payload=_payload(message),
            )
            if inserted:
                report.queued += 1
                repos.emit_event(
                    s,
                    adm.org_id,
                    EventType.DECISION_MADE,
                    {
                        "administration_id": adm.id,
                        "debtor_ref": message.debtor_ref,
                        "invoices": [d.invoice_ref for d in remaining],
                        "level": message.level,
                        "level_name": message.level_name,
                        "action": message.action.value,
                        "channel": message.channel.value,
                        "needs_approval": message.requires_approval,
                    },
                )
                for decision in remaining:
                    _advance(s, adm, decision, today, message=True)
                    report.decisions += 1
        for decision in result.skipped:
            _advance(s, adm, decision, today, message=False)
            report.decisions += 1
        for nd in result.non_decisions:
            if nd.reason not in QUIET_REASONS:
                _audit_non_decision(s, adm, nd.invoice_ref, nd.debtor_ref, f"{nd.reason.value}: {nd.detail}", nd.why)
        report.queued += _installment_reminders(s, adm, today)
        report.queued += _file_claim_tasks(s, adm, today, result.non_decisions)
        run.decisions = report.decisions
        run.finished_at = rt.clock()


def _cost_line(line: CostLine | None) -> CostsPart | None:
    if line is None:
        return None
    return CostsPart(basis=line.basis.value, principal=line.principal, fee=line.fee, vat=line.vat, cap=line.cap)


def _file_claim_tasks(s: Any, adm: tables.Administration, today: date, non_decisions: Any) -> int:
    """docs/law.md#insolvency: an insolvent debtor is not chased; a person files the claim with the trustee. One open
    task per debtor in the worklist, listing the invoices and the amount to file (idempotent per debtor)."""
    claims: dict[str, list[NonDecision]] = {}
    for nd in non_decisions:
        if nd.reason is Reason.INSOLVENT:
            claims.setdefault(nd.debtor_ref, []).append(nd)
    if not claims:
        return 0
    invoices = {i.provider_ref: i for i in repos.get_invoices(s, adm.org_id, adm.id, open_only=True)}
    queued = 0
    for debtor_ref, items in claims.items():
        refs = sorted(nd.invoice_ref for nd in items)
        total = sum(invoices[r].open_minor for r in refs if r in invoices)
        queued += repos.add_outbox_item(
            s,
            adm.org_id,
            adm.id,
            idempotency_key=f"file_claim:{adm.org_id}:{adm.id}:{debtor_ref}",
            action=OutboxAction.FILE_CLAIM,
            debtor_ref=debtor_ref,
            invoice_refs=refs,
            level=0,
            level_name="Vordering indienen bij curator/bewindvoerder",
            channel=OutboxChannel.TASK,
            run_date=today,
            status=OutboxStatus.TASK_OPEN,
            payload=OutboxPayload(currency=adm.currency, open_amount=Money.from_minor(total, adm.currency).amount),
        )
    return queued


# docs/credit-management.md#payment-arrangements: remind of an agreed payment this many days before it is due
INSTALLMENT_NOTICE_DAYS = 3


def _installment_reminders(s: Any, adm: tables.Administration, today: date) -> int:
    """Reminders follow the arrangement's schedule (docs/credit-management.md#payment-arrangements): one e-mail per
    instalment, a few days before it is due.

    The normal ladder stays paused while the arrangement holds; a missed instalment breaks it (daily checks) and
    the ladder resumes. Idempotent per (arrangement, instalment).
    """
    plans = repos.arrangements(s, adm.org_id, adm.id, status="active")
    schedules = repos.installments(s, adm.org_id, [plan.id for plan in plans])
    queued = 0
    for plan in plans:
        rows = schedules.get(plan.id) or []
        for row in rows:
            if row.paid or not (row.due_date - timedelta(days=INSTALLMENT_NOTICE_DAYS) <= today <= row.due_date):
                continue
            amount = Money.from_minor(row.amount_minor, row.currency).amount
            queued += repos.add_outbox_item(
                s,
                adm.org_id,
                adm.id,
                idempotency_key=f"installment:{adm.org_id}:{adm.connection_id}:{plan.id}:{row.number}",
                action=OutboxAction.INSTALLMENT_REMINDER,
                debtor_ref=plan.debtor_ref,
                invoice_refs=[str(ref) for ref in plan.invoice_refs],
                level=0,
                level_name=f"Termijn {row.number}/{len(rows)}",
                channel=OutboxChannel.EMAIL,
                run_date=today,
                payload=OutboxPayload(
                    currency=row.currency,
                    open_amount=amount,
                    note=f"Betalingsregeling: herinnering termijn {row.number}/{len(rows)} verstuurd",
                    installment=InstallmentPart(number=row.number, of=len(rows), due_date=row.due_date, amount=amount),
                ),
            )
    return queued


def _blocked_double_chase(s: Any, adm: tables.Administration, message: Message) -> None:
    """Double-chase guard (docs/credit-management.md#double-chasing): the package chases by itself and cannot be paused
    per invoice (Xero)."""
    text = (
        f"not sent: {adm.provider}'s own invoice reminders are on for {adm.name} and cannot be paused per invoice; "
        f"switch them off in {adm.provider} or set who_chases_when_provider_reminders_on: provider in the policy"
    )
    for decision in message.decisions:
        _audit_non_decision(s, adm, decision.invoice_ref, decision.debtor_ref, f"double_chase: {text}", decision.why)


def _payload(message: Message) -> OutboxPayload:
    return OutboxPayload(
        template=message.template,
        open_amount=message.open_amount,
        currency=message.currency,
        costs=_cost_line(message.costs),
        letter_costs=_cost_line(message.letter_costs),
        interest=message.interest,
        needs_provider_pause=message.needs_provider_pause,
        default_since=message.default_since,
        notice_term_days=message.notice_term_days,
        email_may_replace_letter=message.email_may_replace_letter,
        why=tuple(d.why.model_dump(mode="json") for d in message.decisions),
    )


def _advance(
    s: Any, adm: tables.Administration, decision: Decision, today: date, *, message: bool, provider_step: bool = False
) -> None:
    ref = decision.invoice_ref
    repos.reach_level(s, adm.org_id, adm.id, ref, decision.level, decision.level_name, today, messaged=message)
    if provider_step:
        repos.record_provider_reminder(s, adm.org_id, adm.id, ref, decision.level, by="provider")
    kind = "provider_step" if provider_step else ("skipped" if decision.skipped else "decision")
    text = {
        "provider_step": f"level {decision.level} ({decision.level_name}) already sent by the accounting package",
        "skipped": f"level {decision.level} ({decision.level_name}) passed during downtime: recorded, not sent",
        "decision": f"level {decision.level} ({decision.level_name}) via {decision.channel.value}",
    }[kind]
    repos.audit(
        s,
        adm.org_id,
        kind,
        text,
        administration_id=adm.id,
        invoice_ref=decision.invoice_ref,
        debtor_ref=decision.debtor_ref,
        data={"why": decision.why.model_dump(mode="json"), "open_amount": str(decision.open_amount)},
    )


def _audit_non_decision(
    s: Any, adm: tables.Administration, invoice_ref: str, debtor_ref: str, text: str, why: Any
) -> None:
    """Why nothing was sent for an invoice (the rule, its inputs, the sync time it relied on)."""
    repos.audit(
        s,
        adm.org_id,
        "non_decision",
        text,
        administration_id=adm.id,
        invoice_ref=invoice_ref,
        debtor_ref=debtor_ref,
        data={"why": why.model_dump(mode="json")},
    )


def invoice_outcome(
    rt: Runtime,
    adm: tables.Administration,
    invoice_ref: str,
    today: date,
    policies: dict[str, Policy],
    rates: RateTable,
) -> Decision | NonDecision | None:
    """The rules' outcome for one invoice today (the decision, or why nothing happens and until when); None when it
    is not open any more. Raises ``ConnectorError`` when no policy applies."""
    setting = day_one(adm)
    with rt.sessions() as s:
        found = repos.get_invoices(s, adm.org_id, adm.id, [invoice_ref])
        choose = day_one_policy(policy_for(s, adm.org_id, adm.id, policies), setting)
    if not found:
        return None
    snapshots = build_snapshots(rt, adm, debtor_ref=found[0].debtor_ref)  # its debtor's invoices, not the ledger
    snapshot = next((snap for snap in snapshots if snap.invoice_ref == invoice_ref), None)
    if snapshot is None:
        return None
    _kept, left_alone = split_history([snapshot], setting)  # as the run does (docs/onboarding.md#day-one-choices)
    if left_alone:
        return left_alone[0]
    return evaluate_invoice(snapshot, choose(snapshot), today, rates=rates)


def snapshot_outcome(
    rt: Runtime,
    adm: tables.Administration,
    invoice_ref: str,
    today: date,
    policies: dict[str, Policy],
    rates: RateTable,
) -> tuple[str, dict[str, Any]] | None:
    """What the rules decide for one invoice today, as (summary, why); None when it is not open any more."""
    try:
        outcome = invoice_outcome(rt, adm, invoice_ref, today, policies, rates)
    except ConnectorError as exc:
        return f"no decision: {exc}", {}
    if outcome is None:
        return None
    why = outcome.why.model_dump(mode="json")
    if isinstance(outcome, NonDecision):
        return f"{outcome.reason.value}: {outcome.detail}", {"why": why, "next_date": str(outcome.next_date or "")}
    verb = "recorded without a message" if outcome.skipped else f"send via {outcome.channel.value}"
    return f"level {outcome.level} ({outcome.level_name}): {verb}", {"why": why}


def run_dunning(
    rt: Runtime,
    org_id: int,
    today: date,
    *,
    dry_run: bool = False,
    on_administration: Callable[[tables.Administration], None] | None = None,
) -> RunReport:
    policies, rates = load_rules(rt)
    report = RunReport(run_date=today, dry_run=dry_run)
    with rt.sessions() as s:
        administrations = [a for a in repos.list_administrations(s, org_id) if not a.suspended]
    for adm in administrations:
        run_administration(rt, adm, today, policies, rates, dry_run=dry_run, report=report)
        if on_administration:
            on_administration(adm)
    log.info("dunning.run", org_id=org_id, run_date=today.isoformat(), decisions=report.decisions, dry_run=dry_run)
    return report
