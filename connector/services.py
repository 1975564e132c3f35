"""Commands the CLI and the web app share: the organisation, safe mode, approvals and closing open tasks.

The write side next to ``connector.queries`` (the read side), above the pipeline. Each function takes the
``Runtime`` and the organisation it acts for, changes state in one transaction and returns plain data.
Connecting a provider is ``connector.connect``; debtor management (holds, promises, arrangements, hand-over) is
``connector.debtors``.
"""

from __future__ import annotations

from typing import Any

import structlog

from connector.errors import ConfigurationError, ConnectorError, NotFound, PermanentError
from connector.model.outbox import OutboxStatus
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction
from connector.sync import sync_connection

log = structlog.get_logger(__name__)


def ensure_organisation(rt: Runtime, name: str, kind: str = "sme") -> int:
    """The id of the organisation called ``name``, created (an ``sme`` or a ``practice``) when it does not exist."""
    with transaction(rt.sessions) as s:
        return repos.find_organisation(s, name) or repos.create_organisation(s, name, kind)


def choose_organisation(rt: Runtime, name: str | None, *, create_if_none: str | None = None) -> int:
    """The organisation to act for: ``name``, else the ``DUNNING_ORG`` setting, else the only one there is.

    Never creates one, except ``create_if_none`` when there is none at all (the web app of a fresh install,
    where connecting a provider is how the first organisation fills up). When the choice is unclear the error
    names the organisations to choose from.
    """
    with rt.sessions() as s:
        known = repos.list_organisations(s)
    chosen = name or rt.settings.org or None
    names = ", ".join(repr(n) for _, n in known)
    if chosen is not None:
        for org_id, org_name in known:
            if org_name == chosen:
                return org_id
        raise NotFound(f"no organisation {chosen!r} here" + (f"; the organisations here are {names}" if known else ""))
    if len(known) == 1:
        return known[0][0]
    if known:
        raise ConfigurationError(
            f"there are several organisations here ({names}): choose one with --org NAME or DUNNING_ORG"
        )
    if create_if_none:
        return ensure_organisation(rt, create_if_none)
    raise ConfigurationError(
        "no organisation here yet: run `dunning demo` to try it out, or `dunning connect PROVIDER`"
    )


def set_safe_mode(rt: Runtime, org_id: int, administration_id: int, enabled: bool) -> None:
    with transaction(rt.sessions) as s:
        repos.get_administration(s, org_id, administration_id).safe_mode = enabled
        repos.audit(
            s, org_id, "safe_mode", f"safe mode {'on' if enabled else 'off'}", administration_id=administration_id
        )


def sync_organisation(rt: Runtime, org_id: int, *, full: bool = False) -> list[dict[str, Any]]:
    """Sync every active connection of the organisation, one after the other; a connection that fails (provider
    unreachable, grant revoked, rate limit) is reported with its reason and the others still sync."""
    with rt.sessions() as s:
        connections = [(c.id, c.provider) for c in repos.list_connections(s, org_id) if c.status == "active"]
    results: list[dict[str, Any]] = []
    for connection_id, provider in connections:
        try:
            report = sync_connection(rt, org_id, connection_id, full=full)
        except (ConnectorError, OSError) as exc:
            log.warning("sync.connection_failed", connection_id=connection_id, error=type(exc).__name__)
            results.append(
                {"connection": connection_id, "provider": provider, "status": "failed", "error": _reason(exc)}
            )
            continue
        results.append(
            {
                "connection": connection_id,
                "provider": provider,
                "status": "synced",
                "administrations": report.administrations,
                "pages": report.pages,
                "changed": dict(report.changed),
                "api_calls": report.api_calls,
            }
        )
    return results


def _reason(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text[:300]


def existing_connection(rt: Runtime, org_id: int, provider: str) -> int | None:
    with rt.sessions() as s:
        rows = [c for c in repos.list_connections(s, org_id, provider) if c.status == "active"]
    return rows[0].id if rows else None


def complete_task(rt: Runtime, org_id: int, outbox_id: int, note: str = "") -> None:
    """A person has done an open task from the worklist (a call, filing a claim with the trustee)."""
    with transaction(rt.sessions) as s:
        item = repos.get_outbox_item(s, org_id, outbox_id)
        if item is None or item.status is not OutboxStatus.TASK_OPEN:
            raise PermanentError(f"outbox item {outbox_id} is not an open task")
        payload = item.payload.model_copy(update={"completed_note": note})
        repos.update_outbox_item(s, org_id, item.id, status=OutboxStatus.DONE, done_at=rt.clock(), payload=payload)
        if item.payload.portal_answer is not None:  # the debtor's answer is dealt with: its invoices' ladder goes on
            repos.resolve_portal_answer(s, org_id, item.payload.portal_answer)
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
        item = repos.get_outbox_item(s, org_id, outbox_id)
        if item is None or item.status is not OutboxStatus.AWAITING_APPROVAL:
            raise PermanentError(f"outbox item {outbox_id} is not waiting for approval")
        repos.update_outbox_item(s, org_id, item.id, status=OutboxStatus.PENDING)
        repos.audit(
            s,
            org_id,
            "approved",
            f"{item.level_name} approved",
            administration_id=item.administration_id,
            debtor_ref=item.debtor_ref,
        )
