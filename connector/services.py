"""Commands the CLI and the web app share: the organisation, safe mode, approvals and closing open tasks.

The write side next to ``connector.queries`` (the read side), above the pipeline. Each function takes the
``Runtime`` and the organisation it acts for, changes state in one transaction and returns plain data.
Connecting a provider is ``connector.connect``; debtor management (holds, promises, arrangements, hand-over) is
``connector.debtors``.
"""

from __future__ import annotations

from sqlalchemy import select

from connector.errors import PermanentError
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import transaction


def ensure_organisation(rt: Runtime, name: str) -> int:
    """The id of the organisation called ``name``, created when it does not exist yet."""
    with transaction(rt.sessions) as s:
        return repos.find_organisation(s, name) or repos.create_organisation(s, name)


def set_safe_mode(rt: Runtime, org_id: int, administration_id: int, enabled: bool) -> None:
    with transaction(rt.sessions) as s:
        repos.get_administration(s, org_id, administration_id).safe_mode = enabled
        repos.audit(
            s, org_id, "safe_mode", f"safe mode {'on' if enabled else 'off'}", administration_id=administration_id
        )


def existing_connection(rt: Runtime, org_id: int, provider: str) -> int | None:
    with rt.sessions() as s:
        rows = [c for c in repos.list_connections(s, org_id, provider) if c.status == "active"]
    return rows[0].id if rows else None


def complete_task(rt: Runtime, org_id: int, outbox_id: int, note: str = "") -> None:
    """A person has done an open task from the worklist (a call, filing a claim with the trustee)."""
    with transaction(rt.sessions) as s:
        item = s.scalar(
            select(tables.OutboxItem).where(tables.OutboxItem.id == outbox_id, tables.OutboxItem.org_id == org_id)
        )
        if item is None or item.status != "task_open":
            raise PermanentError(f"outbox item {outbox_id} is not an open task")
        item.status, item.done_at = "done", rt.clock()
        item.payload = {**item.payload, "completed_note": note}
        repos.audit(
            s,
            org_id,
            "task_done",
            f"{item.level_name} done {note}".strip(),
            administration_id=item.administration_id,
            debtor_ref=item.debtor_ref,
        )


def approve(rt: Runtime, org_id: int, outbox_id: int) -> None:
    """A person approves a step that needs approval (hand-over): it moves to the outbox."""
    with transaction(rt.sessions) as s:
        item = s.scalar(
            select(tables.OutboxItem).where(tables.OutboxItem.id == outbox_id, tables.OutboxItem.org_id == org_id)
        )
        if item is None or item.status != "awaiting_approval":
            raise PermanentError(f"outbox item {outbox_id} is not waiting for approval")
        item.status = "pending"
        repos.audit(
            s,
            org_id,
            "approved",
            f"{item.level_name} approved",
            administration_id=item.administration_id,
            debtor_ref=item.debtor_ref,
        )
