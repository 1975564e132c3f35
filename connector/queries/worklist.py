"""Read-only views of what needs a person: the worklist of outbox items, open phone tasks, debtors over their
credit limit or under a credit stop, tomorrow's actions, stored previews and dead-lettered webhook events.

Part of ``connector.queries``, the read side under the dashboard, the JSON API and the CLI; it reads the outbox and
inbox that ``connector.outbox`` and ``connector.inbox`` fill, and asks ``connector.decide`` for a dry run when it
previews tomorrow. Nothing here writes.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from connector.model import Money
from connector.model.outbox import CLOSED_STATUSES, OutboxStatus, PhoneTaskPart
from connector.queries.overview import debtor_names
from connector.runtime import Runtime
from connector.storage import repos

RECENT_DAYS = 7


def worklist(rt: Runtime, org_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The worklist: everything still open (queued, awaiting approval, phone tasks, failed) and what was done or
    skipped in the last week, newest first."""
    since = rt.today(org_id) - timedelta(days=RECENT_DAYS)
    with rt.sessions() as s:
        names = {a.id: a.name for a in repos.list_administrations(s, org_id)}
        items = [i for i in repos.outbox_items(s, org_id) if i.status not in CLOSED_STATUSES or i.run_date >= since]
        items = items[-limit:]
        debtors: dict[tuple[int, str], str] = {}
        for adm_id in names:
            for ref, d in repos.get_debtors(s, org_id, adm_id).items():
                debtors[(adm_id, ref)] = d.name
    rows = []
    for item in reversed(items):
        rows.append(
            {
                "id": item.id,
                "administration": names.get(item.administration_id, "?"),
                "debtor": debtors.get((item.administration_id, item.debtor_ref), item.debtor_ref),
                "level": item.level,
                "level_name": item.level_name,
                "channel": item.channel,
                "action": item.action,
                "invoices": len(item.invoice_refs),
                "status": item.status,
                "run_date": item.run_date.isoformat(),
                "open_amount": _text(item.payload.open_amount),
                "currency": item.payload.currency,
                "last_error": item.last_error,
            }
        )
    return rows


def phone_tasks(rt: Runtime, org_id: int) -> list[dict[str, Any]]:
    """Open phone tasks (docs/credit-management.md#channels): whom to call, the number, what is open and the script;
    closed by the call's outcome."""
    with rt.sessions() as s:
        names = {a.id: a.name for a in repos.list_administrations(s, org_id)}
        tasks = repos.outbox_items(s, org_id, status=OutboxStatus.TASK_OPEN)
        debtors = {(a, ref): d for a in names for ref, d in repos.get_debtors(s, org_id, a).items()}
    rows = []
    for item in tasks:
        delivered = item.payload.delivered
        task = (delivered.task if delivered else None) or PhoneTaskPart()
        debtor = debtors.get((item.administration_id, item.debtor_ref))
        rows.append(
            {
                "id": item.id,
                "administration": names.get(item.administration_id, "?"),
                "administration_id": item.administration_id,
                "debtor_ref": item.debtor_ref,
                "debtor": debtor.name if debtor else item.debtor_ref,
                "phone": task.phone,
                "invoices": list(task.invoices),
                "total_open": _text(task.total_open),
                "currency": item.payload.currency,
                "script": task.script,
                "level_name": item.level_name,
            }
        )
    return rows


def over_credit_limit(rt: Runtime, org_id: int) -> list[dict[str, Any]]:
    """docs/credit-management.md#screening-and-credit-limits: debtors whose open items exceed the credit limit granted
    to them."""
    rows = []
    with rt.sessions() as s:
        for adm in repos.list_administrations(s, org_id):
            debtors = {
                ref: d for ref, d in repos.get_debtors(s, org_id, adm.id).items() if d.credit_limit_minor is not None
            }
            if not debtors:
                continue
            open_minor: dict[str, int] = {}
            for inv in repos.get_invoices(s, org_id, adm.id, open_only=True):
                if inv.debtor_ref in debtors:
                    open_minor[inv.debtor_ref] = open_minor.get(inv.debtor_ref, 0) + inv.open_minor
            for ref, debtor in debtors.items():
                limit = debtor.credit_limit_minor or 0
                if open_minor.get(ref, 0) > limit:
                    rows.append(
                        {
                            "administration": adm.name,
                            "debtor_ref": ref,
                            "debtor": debtor.name,
                            "currency": adm.currency,
                            "open": str(Money.from_minor(open_minor[ref], adm.currency).amount),
                            "limit": str(Money.from_minor(limit, adm.currency).amount),
                        }
                    )
    return rows


def credit_stops(rt: Runtime, org_id: int) -> list[dict[str, Any]]:
    """Debtors under a credit stop (docs/credit-management.md#credit-stop): deliver nothing until the overdue amount is
    paid."""
    with rt.sessions() as s:
        rows = []
        for adm in repos.list_administrations(s, org_id):
            for debtor in repos.get_debtors(s, org_id, adm.id).values():
                if debtor.credit_stop or debtor.blocked:
                    rows.append(
                        {
                            "administration": adm.name,
                            "debtor_ref": debtor.provider_ref,
                            "debtor": debtor.name,
                            "set_by": "us" if debtor.credit_stop else adm.provider,
                        }
                    )
    return rows


def tomorrow(rt: Runtime, org_id: int, today: date) -> list[dict[str, Any]]:
    """Tomorrow's actions as a dry run would decide them now (nothing is stored or sent)."""
    from connector.decide import run_dunning

    actions = run_dunning(rt, org_id, today + timedelta(days=1), dry_run=True).previews
    names = debtor_names(rt, org_id)
    return [{**a, "debtor": names.get((a["administration"], a["debtor_ref"]), a["debtor_ref"])} for a in actions]


def previews(rt: Runtime, org_id: int, limit: int = 100) -> list[dict[str, Any]]:
    with rt.sessions() as s:
        return [dict(e.data) for e in repos.audit_trail(s, org_id, kind="preview", limit=limit)]


def dead_letters(rt: Runtime, org_id: int | None) -> list[dict[str, Any]]:
    """The organisation's failed webhook events; ``None``: those no organisation could be found for (the tenant
    is connected nowhere, or no longer), which only the operator sees (docs/operations.md#dead-letters)."""
    with rt.sessions() as s:
        return [
            {
                "id": e.id,
                "provider": e.provider,
                "tenant": e.provider_tenant_id,
                "action": e.action,
                "entity_id": e.entity_id,
                "error": e.last_error,
                "received_at": e.received_at.isoformat(),
                "attempts": e.attempts,
            }
            for e in repos.inbox_events(s, org_id, status="dead")
        ]


def _text(amount: Decimal | None) -> str | None:
    return str(amount) if amount is not None else None


def todays_actions(rt: Runtime, org_id: int) -> int:
    """How many of the worklist's items are still open (queued, awaiting approval, phone tasks, failed)."""
    with rt.sessions() as s:
        return sum(1 for i in repos.outbox_items(s, org_id) if i.status not in CLOSED_STATUSES)
