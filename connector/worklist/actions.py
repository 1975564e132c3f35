"""The worklist's commands: approve, skip with a reason, snooze to a day — one item or many at once.

Sits above ``connector.services`` (whose ``approve`` is the one way a waiting step is approved) and is called by
the dashboard, the API and the CLI. Each command checks the item belongs to the organisation (another
organisation's id is ``NotFound``, as if it did not exist), changes it in one transaction and writes an audit entry
saying what was done and why; who did it is recorded by ``repos.acting_as`` around the call. The bulk forms run
the single form per item and report which items were done and why others were refused, so one closed item never
stops the rest. The other inline actions of the worklist (log a call, a promise, a hold, an arrangement, a credit
stop) are ``connector.debtors``'s services, called as they are. See docs/worklist.md#actions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from connector import clock, services
from connector.errors import ConnectorError, NotFound, PermanentError
from connector.model.outbox import OutboxItem, OutboxStatus
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import Session, transaction
from connector.worklist.items import OPEN_STATUSES

MAX_REASON = 300


@contextmanager
def acting_as(who: str | None) -> Iterator[None]:
    """Record ``who`` (a user's e-mail address, ``cli``) with every audit entry written in the block."""
    with repos.acting_as(who):
        yield


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # item id -> why (one line, for the person)


def _item(rt: Runtime, org_id: int, item_id: int) -> OutboxItem:
    with rt.sessions() as s:
        item = repos.get_outbox_item(s, org_id, item_id)
    if item is None:
        raise NotFound(f"there is no worklist item {item_id}")
    return item


def _open_item(s: Session, rt: Runtime, org_id: int, item_id: int) -> OutboxItem:
    """The open item, locked for this transaction's change; refused when it is gone, closed, or claimed by a drain
    that is sending it right now (docs/worklist.md#actions)."""
    if not repos.hold_unclaimed_outbox_item(s, org_id, item_id, OPEN_STATUSES, rt.clock()):
        item = repos.get_outbox_item(s, org_id, item_id)
        if item is None:
            raise NotFound(f"there is no worklist item {item_id}")
        if item.status not in OPEN_STATUSES:
            raise PermanentError(f"item {item_id} is no longer open ({item.status.value})")
        raise PermanentError(f"item {item_id} is being sent right now: look again in a minute")
    item = repos.get_outbox_item(s, org_id, item_id)
    if item is None:  # held a moment ago in this very transaction
        raise NotFound(f"there is no worklist item {item_id}")
    return item


def approve(rt: Runtime, org_id: int, item_id: int) -> None:
    """Approve a step that waits for a person (a hand-over, a credit stop, a level the policy marks): it goes out
    with the next drain, or on the day it was snoozed to."""
    _item(rt, org_id, item_id)
    services.approve(rt, org_id, item_id)


def skip(rt: Runtime, org_id: int, item_id: int, reason: str) -> None:
    """Leave an open step undone, saying why. The debtor's level stays where the run put it, so the ladder goes
    on from there (docs/worklist.md#actions)."""
    why = " ".join(reason.split())[:MAX_REASON]
    if not why:
        raise PermanentError("say why this step is skipped")
    with transaction(rt.sessions) as s:
        item = _open_item(s, rt, org_id, item_id)
        payload = item.payload.model_copy(update={"skip_reason": why})
        repos.update_outbox_item(
            s, org_id, item.id, status=OutboxStatus.SKIPPED, done_at=rt.clock(), next_attempt_at=None, payload=payload
        )
        repos.audit(
            s,
            org_id,
            "worklist_skip",
            f"{item.level_name} skipped: {why}",
            administration_id=item.administration_id,
            debtor_ref=item.debtor_ref,
            data={"outbox_id": item.id, "reason": why, "invoices": list(item.invoice_refs)},
        )


def snooze(rt: Runtime, org_id: int, item_id: int, until: date) -> None:
    """Move an open step to ``until`` (a later day in the administration's time zone): it leaves today's worklist
    and, once approved or when it needs no approval, goes out from the start of that day."""
    with transaction(rt.sessions) as s:
        item = _open_item(s, rt, org_id, item_id)
        adm = repos.get_administration(s, org_id, item.administration_id)
        today = clock.today(adm.timezone, clock=rt.clock)
        if until <= today:
            raise PermanentError(f"snooze to a day after today ({today.isoformat()})")
        start = datetime.combine(until, time(0), tzinfo=ZoneInfo(adm.timezone))
        payload = item.payload.model_copy(update={"snoozed_until": until})
        repos.update_outbox_item(s, org_id, item.id, next_attempt_at=start, payload=payload)
        repos.audit(
            s,
            org_id,
            "worklist_snooze",
            f"{item.level_name} moved to {until.isoformat()}",
            administration_id=item.administration_id,
            debtor_ref=item.debtor_ref,
            data={"outbox_id": item.id, "until": until.isoformat(), "invoices": list(item.invoice_refs)},
        )


def _bulk(ids: Sequence[int], one: Callable[[int], None]) -> BulkResult:
    result = BulkResult()
    for item_id in dict.fromkeys(ids):  # each id once, in the order given
        try:
            one(item_id)
        except ConnectorError as exc:
            result.refused[item_id] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        else:
            result.done.append(item_id)
    return result


def approve_many(rt: Runtime, org_id: int, ids: Sequence[int]) -> BulkResult:
    return _bulk(ids, lambda item_id: approve(rt, org_id, item_id))


def skip_many(rt: Runtime, org_id: int, ids: Sequence[int], reason: str) -> BulkResult:
    if not " ".join(reason.split()):
        raise PermanentError("say why these steps are skipped")
    return _bulk(ids, lambda item_id: skip(rt, org_id, item_id, reason))


def snooze_many(rt: Runtime, org_id: int, ids: Sequence[int], until: date) -> BulkResult:
    return _bulk(ids, lambda item_id: snooze(rt, org_id, item_id, until))
