"""Read-only views for the dashboard, the JSON API and the CLI; every one is scoped to an organisation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from connector import clock
from connector.errors import NotFound
from connector.model import InvoiceStatus, Money
from connector.model.outbox import CLOSED_STATUSES, OutboxChannel, OutboxStatus, PhoneTaskPart
from connector.runtime import Runtime
from connector.storage import repos


@dataclass(frozen=True)
class AdministrationView:
    id: int
    provider: str
    name: str
    safe_mode: bool
    provider_reminders_active: bool
    invoices: int
    open_invoices: int
    open_total: str
    currency: str
    connection_status: str


def administrations(rt: Runtime, org_id: int) -> list[AdministrationView]:
    with rt.sessions() as s:
        connections = {c.id: c for c in repos.list_connections(s, org_id)}
        views = []
        for adm in repos.list_administrations(s, org_id):
            counts = repos.counts(s, org_id, [adm.id])
            open_minor = counts["open_minor"]
            views.append(
                AdministrationView(
                    id=adm.id,
                    provider=adm.provider,
                    name=adm.name,
                    safe_mode=adm.safe_mode,
                    provider_reminders_active=adm.provider_reminders_active,
                    invoices=counts["invoices"],
                    open_invoices=counts["open_invoices"],
                    open_total=str(Money.from_minor(open_minor, adm.currency).amount),
                    currency=adm.currency,
                    connection_status=connections[adm.connection_id].status,
                )
            )
    return views


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


def dead_letters(rt: Runtime, org_id: int) -> list[dict[str, Any]]:
    with rt.sessions() as s:
        return [
            {
                "id": e.id,
                "provider": e.provider,
                "action": e.action,
                "entity_id": e.entity_id,
                "error": e.last_error,
                "received_at": e.received_at.isoformat(),
                "attempts": e.attempts,
            }
            for e in repos.inbox_events(s, org_id, status="dead")
        ]


def why(rt: Runtime, org_id: int, invoice: str, today: date | None = None) -> list[dict[str, Any]]:
    """Why an invoice did or did not get a step: what the rules decide for it right now (rule, inputs, the sync
    time it relied on), then every recorded decision and non-decision, newest first. ``invoice`` is the number a
    person sees or the provider's reference; an invoice that is not here is an error, not an empty answer."""
    from connector.decide import load_rules, snapshot_outcome

    with rt.sessions() as s:
        found = repos.find_invoices(s, org_id, invoice)
        if not found:
            raise NotFound(f"no invoice {invoice!r} here: give its number or reference as `dunning invoices` lists it")
        administrations = {a.id: a for a in repos.list_administrations(s, org_id)}
        recorded = [
            {
                "at": e.created_at.isoformat(),
                "kind": e.kind,
                "message": e.message,
                "data": e.data,
                "administration": administrations[row.administration_id].name,
                "invoice": row.number or row.provider_ref,
            }
            for row in found
            for e in repos.audit_trail(s, org_id, invoice_ref=row.provider_ref)
            if e.administration_id in (None, row.administration_id)
        ]
    recorded.sort(key=lambda entry: str(entry["at"]), reverse=True)
    live = []
    policies, rates = load_rules(rt)
    for row in found:
        adm = administrations[row.administration_id]
        day = today or clock.today(adm.timezone, clock=rt.clock)
        outcome = snapshot_outcome(rt, adm, row.provider_ref, day, policies, rates)
        if outcome is not None:
            live.append(
                {
                    "at": day.isoformat(),
                    "kind": "now",
                    "message": outcome[0],
                    "data": outcome[1],
                    "administration": adm.name,
                    "invoice": row.number or row.provider_ref,
                }
            )
    return live + recorded


def invoices(
    rt: Runtime,
    org_id: int,
    today: date,
    *,
    administration_id: int | None = None,
    debtor: str | None = None,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    """Invoices as a person looks them up: number, debtor by name, amounts, due date and days overdue; open
    ones first (most overdue first), then the rest. ``debtor`` is a reference, customer number or name."""
    rows: list[dict[str, Any]] = []
    with rt.sessions() as s:
        for adm in _administrations(s, org_id, administration_id):
            debtors = repos.get_debtors(s, org_id, adm.id)
            wanted = _matching_debtors(debtors, debtor) if debtor else None
            for inv in repos.get_invoices(s, org_id, adm.id):
                if inv.deleted or (wanted is not None and inv.debtor_ref not in wanted):
                    continue
                is_open = inv.status == InvoiceStatus.OPEN.value and inv.open_minor != 0
                days_overdue = (today - inv.due_date).days if is_open else None
                if overdue and not (days_overdue is not None and days_overdue > 0):
                    continue
                found = debtors.get(inv.debtor_ref)
                rows.append(
                    {
                        "id": inv.id,
                        "administration_id": adm.id,
                        "administration": adm.name,
                        "number": inv.number or inv.provider_ref,
                        "reference": inv.provider_ref,
                        "debtor": found.name if found else inv.debtor_ref,
                        "debtor_ref": inv.debtor_ref,
                        "invoice_date": inv.invoice_date.isoformat() if inv.invoice_date else None,
                        "due_date": inv.due_date.isoformat(),
                        "days_overdue": days_overdue,
                        "status": inv.status,
                        "currency": inv.currency,
                        "total": str(Money.from_minor(inv.total_minor, inv.currency).amount),
                        "open_amount": str(Money.from_minor(inv.open_minor, inv.currency).amount),
                    }
                )
    rows.sort(key=lambda r: (r["days_overdue"] is None, -(r["days_overdue"] or 0), r["administration"], r["number"]))
    return rows


def debtors(rt: Runtime, org_id: int, today: date, *, administration_id: int | None = None) -> list[dict[str, Any]]:
    """Debtors with what they owe: open and overdue amounts and invoices, the oldest due date, and the flags a
    credit controller acts on (hold, credit stop, insolvency); the largest open amount first."""
    rows: list[dict[str, Any]] = []
    with rt.sessions() as s:
        for adm in _administrations(s, org_id, administration_id):
            open_by_debtor: dict[str, list[Any]] = {}
            for inv in repos.get_invoices(s, org_id, adm.id, open_only=True):
                if inv.open_minor:
                    open_by_debtor.setdefault(inv.debtor_ref, []).append(inv)
            for ref, debtor in repos.get_debtors(s, org_id, adm.id).items():
                if debtor.deleted:
                    continue
                open_items = open_by_debtor.get(ref, [])
                overdue_items = [i for i in open_items if i.due_date < today]
                open_minor = sum(i.open_minor for i in open_items)
                overdue_minor = sum(i.open_minor for i in overdue_items)
                flags = [
                    label
                    for label, on in (
                        ("on hold", bool(debtor.on_hold_reason)),
                        ("promise", debtor.promise_date is not None and debtor.promise_date >= today),
                        ("credit stop", debtor.credit_stop or debtor.blocked),
                        ("insolvent", debtor.insolvent),
                        (debtor.collectible, debtor.collectible != "collectible"),
                    )
                    if on
                ]
                rows.append(
                    {
                        "id": debtor.id,
                        "administration_id": adm.id,
                        "administration": adm.name,
                        "name": debtor.name,
                        "reference": ref,
                        "customer_number": debtor.customer_number,
                        "segment": debtor.segment_override or debtor.segment,
                        "currency": adm.currency,
                        "open_invoices": len(open_items),
                        "open_amount": str(Money.from_minor(open_minor, adm.currency).amount),
                        "overdue_invoices": len(overdue_items),
                        "overdue_amount": str(Money.from_minor(overdue_minor, adm.currency).amount),
                        "oldest_due_date": min((i.due_date for i in open_items), default=None),
                        "risk_class": debtor.risk_class,
                        "flags": flags,
                    }
                )
    rows.sort(key=lambda r: (-Decimal(r["open_amount"]), r["administration"], r["name"]))
    return rows


def _administrations(s: Any, org_id: int, administration_id: int | None) -> list[Any]:
    if administration_id is None:
        return repos.list_administrations(s, org_id)
    return [repos.get_administration(s, org_id, administration_id)]


def _matching_debtors(debtors: dict[str, Any], wanted: str) -> set[str]:
    folded = wanted.casefold()
    return {ref for ref, d in debtors.items() if wanted in (ref, d.customer_number) or d.name.casefold() == folded}


MESSAGE_CHANNELS = frozenset({OutboxChannel.EMAIL, OutboxChannel.LETTER, OutboxChannel.PROVIDER})  # not a task or note


def messages_sent(rt: Runtime, org_id: int, administration_ids: list[int], day: date) -> int:
    """Messages to debtors (e-mail, letter, or sent by the package) delivered for the run of ``day``."""
    wanted = set(administration_ids)
    with rt.sessions() as s:
        items = repos.outbox_items(s, org_id, status=OutboxStatus.DONE)
    return sum(
        1 for i in items if i.administration_id in wanted and i.run_date == day and i.channel in MESSAGE_CHANNELS
    )


def example_reminded_invoice(rt: Runtime, org_id: int) -> str | None:
    """The number of the invoice most recently reminded (what a newcomer can ask ``dunning why`` about)."""
    with rt.sessions() as s:
        for item in reversed(repos.outbox_items(s, org_id, status=OutboxStatus.DONE)):
            if item.channel in MESSAGE_CHANNELS and item.invoice_refs:
                rows = repos.get_invoices(s, org_id, item.administration_id, [item.invoice_refs[0]])
                if rows:
                    return rows[0].number or rows[0].provider_ref
    return None


def debtor_names(rt: Runtime, org_id: int) -> dict[tuple[str, str], str]:
    """Debtor names by (administration name, debtor reference): how rows that carry a reference name a debtor."""
    with rt.sessions() as s:
        return {
            (adm.name, ref): debtor.name
            for adm in repos.list_administrations(s, org_id)
            for ref, debtor in repos.get_debtors(s, org_id, adm.id).items()
        }


def connection_health(rt: Runtime, org: str | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """Every organisation's name, and each connection's state (of ``org`` only, when named): whether it needs
    re-authorisation or is parked by a daily limit, and what to do about it. Installation-wide, for ``doctor``."""
    with rt.sessions() as s:
        known = repos.list_organisations(s)
        rows = [
            {
                "organisation": name,
                "id": c.id,
                "provider": c.provider,
                "status": c.status,
                "last_sync_at": c.last_sync_at.isoformat() if c.last_sync_at else None,
                "parked_until": c.parked_until.isoformat() if c.parked_until else None,
                "reason": c.parked_reason,
                "action": f"run `dunning connect {c.provider}`" if c.status == "needs_reauth" else "",
            }
            for org_id, name in known
            if org is None or name == org
            for c in repos.list_connections(s, org_id)
        ]
    return [name for _, name in known], rows


def _text(amount: Decimal | None) -> str | None:
    return str(amount) if amount is not None else None


def as_dicts(rows: list[Any]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


def organisation_name(rt: Runtime, org_id: int) -> str:
    """The organisation's name as its members see it in the page header."""
    with rt.sessions() as s:
        names = dict(repos.list_organisations(s))
    if org_id not in names:
        raise NotFound(f"no organisation {org_id} here")
    return names[org_id]


def todays_actions(rt: Runtime, org_id: int) -> int:
    """How many of the worklist's items are still open (queued, awaiting approval, phone tasks, failed)."""
    with rt.sessions() as s:
        return sum(1 for i in repos.outbox_items(s, org_id) if i.status not in CLOSED_STATUSES)
