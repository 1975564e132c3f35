"""Read views the public API needs beyond ``connector.queries``: one debtor or invoice by id (with our level,
hold, promise, today's next step and why), and lists filtered the way API clients ask.

Next to ``connector.queries`` (whose views these reuse, so the API, the pages and the CLI agree); scoped to the
organisation of the API key. An id this organisation does not have is ``NotFound`` (the API's 404).
"""

from __future__ import annotations

from typing import Any

from connector import queries
from connector.errors import NotFound
from connector.runtime import Runtime
from connector.storage import repos


def _known_administration(rt: Runtime, org_id: int, administration_id: int | None) -> bool:
    if administration_id is None:
        return True
    with rt.sessions() as s:
        return any(a.id == administration_id for a in repos.list_administrations(s, org_id))


def debtors(
    rt: Runtime, org_id: int, *, administration_id: int | None = None, text: str | None = None
) -> list[dict[str, Any]]:
    if not _known_administration(rt, org_id, administration_id):
        return []
    rows = queries.debtors(rt, org_id, rt.today(org_id), administration_id=administration_id)
    if text:
        folded = text.casefold()
        rows = [
            r
            for r in rows
            if folded in r["name"].casefold()
            or folded in r["reference"].casefold()
            or folded in (r["customer_number"] or "").casefold()
        ]
    return rows


def debtor(rt: Runtime, org_id: int, debtor_id: int) -> dict[str, Any]:
    for row in queries.debtors(rt, org_id, rt.today(org_id)):
        if row["id"] == debtor_id:
            return row
    raise NotFound(f"No debtor {debtor_id} here.")


def invoices(
    rt: Runtime,
    org_id: int,
    *,
    administration_id: int | None = None,
    debtor: str | None = None,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    if not _known_administration(rt, org_id, administration_id):
        return []
    return queries.invoices(
        rt, org_id, rt.today(org_id), administration_id=administration_id, debtor=debtor, overdue=overdue
    )


def invoice_detail(rt: Runtime, org_id: int, invoice_id: int) -> dict[str, Any]:
    """One invoice with our dunning state and ``why``: today's decision first, then the recorded ones."""
    row = next((r for r in queries.invoices(rt, org_id, rt.today(org_id)) if r["id"] == invoice_id), None)
    if row is None:
        raise NotFound(f"No invoice {invoice_id} here.")
    with rt.sessions() as s:
        state = repos.reminder_states(s, org_id, row["administration_id"], [row["reference"]]).get(row["reference"])
    why = [
        {"at": str(e["at"]), "kind": str(e["kind"]), "message": str(e["message"])}
        for e in queries.why(rt, org_id, row["reference"])
        if e["administration"] == row["administration"]
    ]
    return {
        **row,
        "level": state.level if state else None,
        "level_name": state.level_name if state else None,
        "hold_reason": state.hold_reason if state else None,
        "hold_until": state.hold_until if state else None,
        "promise_date": state.promise_date if state else None,
        "next_step": next((e["message"] for e in why if e["kind"] == "now"), None),
        "why": why,
    }
