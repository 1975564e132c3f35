"""Grouping: per-invoice level moves → one message per debtor, level and currency, and the idempotency key.

Called by ``connector.rules.engine.evaluate`` after every invoice is evaluated; ``connector.decide`` stores each
``Message`` under its ``idempotency_key`` so a re-run or a retried job never sends twice
(docs/credit-management.md#no-duplicates). The per-debtor interval (``min_days_between_messages``) holds messages back
as ``NonDecision``s (``interval``); with an interval above zero a debtor also gets at most one message per run (the most
escalated level first). Phone tasks are not messages to the debtor and are never held back.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from connector.rules.decisions import Decision, Message, NonDecision, Reason, Why
from connector.rules.law import combine_costs


def idempotency_key(
    connection_id: str,
    administration_ref: str,
    debtor_ref: str,
    invoice_refs: Iterable[str],
    level: int,
    run_date: date,
) -> str:
    """Deterministic sha256 hex over the message identity; invoice order does not matter."""
    payload = [connection_id, administration_ref, debtor_ref, sorted(set(invoice_refs)), level, run_date.isoformat()]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode("utf-8")).hexdigest()


def group_by_debtor(
    decisions: Sequence[Decision], today: date, *, connection_id: str = ""
) -> tuple[list[Message], list[NonDecision]]:
    """Group level moves per (administration, debtor, level, currency); apply the per-debtor interval."""
    per_debtor: dict[tuple[str, str], list[Decision]] = defaultdict(list)
    for decision in decisions:
        if decision.skipped:
            continue
        per_debtor[(decision.administration_ref, decision.debtor_ref)].append(decision)
    messages: list[Message] = []
    held: list[NonDecision] = []
    for debtor_decisions in per_debtor.values():
        groups = _groups(debtor_decisions, today, connection_id)
        tasks = [g for g in groups if not g.decisions[0].sends_message]
        outgoing = sorted(
            (g for g in groups if g.decisions[0].sends_message), key=lambda g: (-g.level, -g.open_amount, g.currency)
        )
        messages.extend(tasks)
        interval = max((d.min_days_between_messages for d in debtor_decisions), default=0)
        last = max((d.debtor_last_message_on for d in debtor_decisions if d.debtor_last_message_on), default=None)
        for position, group in enumerate(outgoing):
            too_soon = last is not None and interval > 0 and (today - last).days < interval
            second_in_run = interval > 0 and position > 0
            if not (too_soon or second_in_run):
                messages.append(group)
                continue
            next_date = last + timedelta(days=interval) if too_soon and last else today + timedelta(days=interval)
            detail = (
                f"last message to this debtor on {last}, interval {interval} days"
                if too_soon
                else "another message goes to this debtor in this run"
            )
            held.extend(_interval(d, detail, next_date, interval, last) for d in group.decisions)
    return messages, held


def _groups(decisions: list[Decision], today: date, connection_id: str) -> list[Message]:
    by_key: dict[tuple[int, str, str, str, str], list[Decision]] = defaultdict(list)
    for d in decisions:
        by_key[(d.level, d.currency, d.action.value, d.channel.value, d.template)].append(d)
    groups: list[Message] = []
    for members in by_key.values():
        members.sort(key=lambda d: d.invoice_ref)
        first = members[0]
        refs = tuple(d.invoice_ref for d in members)
        interests = [d.interest for d in members if d.interest is not None]
        groups.append(
            Message(
                administration_ref=first.administration_ref,
                debtor_ref=first.debtor_ref,
                currency=first.currency,
                level=first.level,
                level_name=first.level_name,
                action=first.action,
                channel=first.channel,
                template=first.template,
                invoice_refs=refs,
                decisions=tuple(members),
                open_amount=sum((d.open_amount for d in members), Decimal(0)),
                costs=combine_costs([d.costs for d in members if d.costs is not None]),
                letter_costs=combine_costs([d.letter_costs for d in members if d.letter_costs is not None]),
                interest=sum(interests, Decimal(0)) if interests else None,
                requires_approval=any(d.requires_approval for d in members),
                needs_provider_pause=any(d.needs_provider_pause for d in members),
                default_since=_latest([d.default_since for d in members]),
                notice_term_days=max((d.notice_term_days or 0 for d in members), default=0) or None,
                email_may_replace_letter=all(d.email_may_replace_letter for d in members),
                idempotency_key=idempotency_key(
                    connection_id, first.administration_ref, first.debtor_ref, refs, first.level, today
                ),
            )
        )
    return groups


def _latest(days: list[date | None]) -> date | None:
    return None if any(day is None for day in days) else max(day for day in days if day is not None)


def _interval(decision: Decision, detail: str, next_date: date, interval: int, last: date | None) -> NonDecision:
    inputs = {**decision.why.inputs, "min_days_between_messages": str(interval), "last_message_on": str(last)}
    return NonDecision(
        invoice_ref=decision.invoice_ref,
        debtor_ref=decision.debtor_ref,
        administration_ref=decision.administration_ref,
        reason=Reason.INTERVAL,
        detail=detail,
        next_date=next_date,
        why=Why(rule="guard.interval", inputs=inputs, synced_at=decision.why.synced_at),
    )
