"""Read-only views of the organisation as a whole: its administrations with their counts, its name, the health of
its connections, and what the last run sent.

Part of ``connector.queries``, the read side under the dashboard, the JSON API and the CLI: every function opens
its own session, reads through ``connector.storage.repos`` scoped to one organisation, and returns plain data
(dataclasses or dicts with amounts as strings); nothing here writes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from connector.errors import NotFound
from connector.model import Money
from connector.model.outbox import OutboxChannel, OutboxStatus
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


def as_dicts(rows: list[Any]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


def organisation_name(rt: Runtime, org_id: int) -> str:
    """The organisation's name as its members see it in the page header."""
    with rt.sessions() as s:
        names = dict(repos.list_organisations(s))
    if org_id not in names:
        raise NotFound(f"no organisation {org_id} here")
    return names[org_id]
