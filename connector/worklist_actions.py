"""Worklist actions a person (or an API client) takes on an outbox item: approve, skip, snooze.

Next to ``connector.services`` (whose ``approve`` this reuses), each in one transaction with an audit line. Skip
closes an open item without doing it; snooze keeps a pending item from going out before a day. Called by the
public API (``dashboard.api``); the web pages can call the same.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from connector.errors import NotFound, PermanentError
from connector.model.outbox import OutboxStatus
from connector.runtime import Runtime
from connector.services import approve as approve
from connector.storage import repos
from connector.storage.db import transaction

SKIPPABLE = frozenset(
    {OutboxStatus.PENDING, OutboxStatus.AWAITING_APPROVAL, OutboxStatus.TASK_OPEN, OutboxStatus.FAILED}
)
SNOOZABLE = frozenset({OutboxStatus.PENDING, OutboxStatus.AWAITING_APPROVAL})


def skip(rt: Runtime, org_id: int, outbox_id: int, reason: str = "") -> None:
    with transaction(rt.sessions) as s:
        item = repos.get_outbox_item(s, org_id, outbox_id)
        if item is None:
            raise NotFound(f"no worklist item {outbox_id} here")
        if item.status not in SKIPPABLE:
            raise PermanentError(f"worklist item {outbox_id} is {item.status.value}: only open items can be skipped")
        repos.update_outbox_item(s, org_id, item.id, status=OutboxStatus.SKIPPED, done_at=rt.clock())
        repos.audit(
            s,
            org_id,
            "skipped",
            f"{item.level_name} skipped by hand {reason}".strip(),
            administration_id=item.administration_id,
            debtor_ref=item.debtor_ref,
        )


def snooze(rt: Runtime, org_id: int, outbox_id: int, until: date) -> None:
    today = rt.today(org_id)  # before the transaction: on SQLite a second session would wait for this one
    with transaction(rt.sessions) as s:
        item = repos.get_outbox_item(s, org_id, outbox_id)
        if item is None:
            raise NotFound(f"no worklist item {outbox_id} here")
        if item.status not in SNOOZABLE:
            raise PermanentError(f"worklist item {outbox_id} is {item.status.value}: only waiting items can be snoozed")
        if until <= today:
            raise PermanentError("snooze until a day after today")
        repos.update_outbox_item(s, org_id, item.id, next_attempt_at=datetime.combine(until, time(), UTC))
        repos.audit(
            s,
            org_id,
            "snoozed",
            f"{item.level_name} snoozed until {until.isoformat()}",
            administration_id=item.administration_id,
            debtor_ref=item.debtor_ref,
        )
