"""Read-only views for the dashboard, the JSON API and the CLI; every one is scoped to an organisation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connector.model import Money
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
    since = rt.clock().date() - timedelta(days=RECENT_DAYS)
    with rt.sessions() as s:
        names = {a.id: a.name for a in repos.list_administrations(s, org_id)}
        items = [
            i for i in repos.outbox_items(s, org_id) if i.status not in ("done", "skipped") or i.run_date >= since
        ][-limit:]
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
                "open_amount": item.payload.get("open_amount"),
                "currency": item.payload.get("currency"),
                "last_error": item.last_error,
            }
        )
    return rows


def phone_tasks(rt: Runtime, org_id: int) -> list[dict[str, Any]]:
    """Open phone tasks (P8): whom to call, the number, what is open and the script; closed by the call's outcome."""
    with rt.sessions() as s:
        names = {a.id: a.name for a in repos.list_administrations(s, org_id)}
        tasks = repos.outbox_items(s, org_id, status="task_open")
        debtors = {(a, ref): d for a in names for ref, d in repos.get_debtors(s, org_id, a).items()}
    rows = []
    for item in tasks:
        task = (item.payload.get("delivered") or {}).get("task") or {}
        debtor = debtors.get((item.administration_id, item.debtor_ref))
        rows.append(
            {
                "id": item.id,
                "administration": names.get(item.administration_id, "?"),
                "administration_id": item.administration_id,
                "debtor_ref": item.debtor_ref,
                "debtor": debtor.name if debtor else item.debtor_ref,
                "phone": task.get("phone"),
                "invoices": task.get("invoices", []),
                "total_open": task.get("total_open"),
                "currency": item.payload.get("currency"),
                "script": task.get("script", ""),
                "level_name": item.level_name,
            }
        )
    return rows


def over_credit_limit(rt: Runtime, org_id: int) -> list[dict[str, Any]]:
    """P2: debtors whose open items exceed the credit limit granted to them."""
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
    """Debtors under a credit stop (P14): deliver nothing until the overdue amount is paid."""
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
    with rt.sessions() as s:
        names = {
            (adm.name, ref): debtor.name
            for adm in repos.list_administrations(s, org_id)
            for ref, debtor in repos.get_debtors(s, org_id, adm.id).items()
        }
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


def why(rt: Runtime, org_id: int, invoice_ref: str, today: date | None = None) -> list[dict[str, Any]]:
    """Why an invoice did or did not get a step: what the rules decide for it right now (rule, inputs, the sync
    time it relied on), then every recorded decision and non-decision, newest first."""
    from connector.decide import load_rules, snapshot_outcome

    with rt.sessions() as s:
        recorded = [
            {"at": e.created_at.isoformat(), "kind": e.kind, "message": e.message, "data": e.data}
            for e in repos.audit_trail(s, org_id, invoice_ref=invoice_ref)
        ]
        administrations = repos.list_administrations(s, org_id)
        holding = [a for a in administrations if repos.get_invoices(s, org_id, a.id, [invoice_ref])]
    live = []
    policies, rates = load_rules(rt)
    for adm in holding:
        day = today or rt.clock().astimezone(ZoneInfo(adm.timezone)).date()
        outcome = snapshot_outcome(rt, adm, invoice_ref, day, policies, rates)
        if outcome is not None:
            live.append({"at": day.isoformat(), "kind": "now", "message": outcome[0], "data": outcome[1]})
    return live + recorded


def as_dicts(rows: list[Any]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
