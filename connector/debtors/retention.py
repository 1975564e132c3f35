"""Retention: how long we keep what, and the daily purges that enforce it (AVG/GDPR storage limitation).

The table :data:`RETENTION` is the one the docs show (docs/law.md#retention-privacy-and-limitation). The
daily ``retention`` job (``connector.jobs``) calls :func:`run_retention` for every organisation; each purge writes
one audit entry with counts only, never a name, a reference or an amount:

- Synced copies (invoices, credit notes, payments, debtors) of an administration that is disconnected (no longer
  reachable through its grant, or its grant is gone): purged 30 days after the job first saw it disconnected. Our
  own dunning records stay, so a reconnect neither loses the history nor sends a step twice.
- Letters (PDF and evidence): kept while the claim can be enforced. A payment claim is time-barred five years
  after it became due (art. 3:307 BW), and every written demand interrupts that and starts five new years
  (art. 3:317, 3:319 BW); so a letter is kept while any invoice it covers is open, and for five years after the
  later of the letter and the day the last of its invoices was closed.
- Raw webhook bodies: 30 days after processing (the metadata stays for the audit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from connector import clock
from connector.model import InvoiceStatus
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import transaction

DISCONNECTED_DAYS = 30
WEBHOOK_BODY_DAYS = 30
LIMITATION_YEARS = 5


@dataclass(frozen=True)
class RetentionRule:
    data: str
    kept: str
    purged_by: str


RETENTION: tuple[RetentionRule, ...] = (
    RetentionRule(
        "Synced copies of invoices, credit notes, payments and debtors",
        "while the administration is connected; 30 days after it is disconnected",
        "daily job: purge_disconnected",
    ),
    RetentionRule(
        "Letters (PDF) and their evidence (sending, receipt, costs stated, delivery proof)",
        "while the claim can be enforced: while an invoice they cover is open, then 5 years after the later of "
        "the letter and the invoices' closing (art. 3:307, 3:317 BW)",
        "daily job: purge_letters",
    ),
    RetentionRule(
        "Raw webhook bodies",
        "30 days after processing; the metadata (provider, entity, action, times) stays",
        "daily job: purge_webhook_bodies",
    ),
    RetentionRule(
        "A debtor's data on request",
        "erased on request (`dunning debtor REF --erase --confirm`) once no claim on the debtor is open",
        "by hand",
    ),
)


def run_retention(rt: Runtime, org_id: int, now: datetime | None = None) -> dict[str, int]:
    """Every purge of the retention table for one organisation; what each removed."""
    moment = now or rt.clock()
    return {
        "disconnected_administrations": purge_disconnected(rt, org_id, moment),
        "letters": purge_letters(rt, org_id, moment),
        "webhook_bodies": purge_webhook_bodies(rt, org_id, moment),
    }


def purge_disconnected(rt: Runtime, org_id: int, now: datetime) -> int:
    """Note when an administration was first seen disconnected (clear it when it is back); purge the synced copies
    of those disconnected for 30 days. Returns how many administrations were purged."""
    purged = 0
    with transaction(rt.sessions) as s:
        connections = {c.id: c for c in repos.list_connections(s, org_id)}
        for adm in repos.list_administrations(s, org_id):
            connection = connections.get(adm.connection_id)
            away = adm.suspended or connection is None or connection.status in ("revoked", "needs_reauth")
            if not away:
                adm.disconnected_at = None
                continue
            if adm.disconnected_at is None:
                adm.disconnected_at = now
                continue
            if now - adm.disconnected_at < timedelta(days=DISCONNECTED_DAYS):
                continue
            counts = repos.purge_synced_copies(s, org_id, adm.id)
            if any(counts.values()):
                purged += 1
                repos.audit(
                    s,
                    org_id,
                    "retention",
                    f"purged the synced copies of a disconnected administration ({sum(counts.values())} records)",
                    administration_id=adm.id,
                    data={
                        "purge": "disconnected",
                        "counts": counts,
                        "disconnected_at": adm.disconnected_at.isoformat(),
                    },
                )
    return purged


def purge_letters(rt: Runtime, org_id: int, now: datetime) -> int:
    """Delete letters (PDF and evidence) whose claim can no longer be enforced; returns how many."""
    expired: list[tuple[int, str | None]] = []
    with rt.sessions() as s:
        zones = {adm.id: adm.timezone for adm in repos.list_administrations(s, org_id)}
        for row in repos.all_letter_evidence(s, org_id):
            today = clock.local_date(now, zones.get(row.administration_id) or clock.DEFAULT_TIMEZONE)
            closing = repos.invoice_closing(s, org_id, row.administration_id, [str(r) for r in row.invoice_refs])
            if _enforceable_until(row, closing) < today:
                expired.append((row.id, row.document_ref))
    if not expired:
        return 0
    with transaction(rt.sessions) as s:
        removed = repos.delete_letter_evidence(s, org_id, [letter_id for letter_id, _ in expired])
        repos.audit(
            s,
            org_id,
            "retention",
            f"purged {removed} letter(s) whose claim can no longer be enforced",
            data={"purge": "letters", "count": removed},
        )
    for _, document in expired:
        if document:
            Path(document).unlink(missing_ok=True)
    return removed


def _enforceable_until(row: tables.LetterEvidence, closing: dict[str, tuple[str, date | None]]) -> date:
    """The last day the letter may be needed: far away while an invoice it covers is open."""
    latest = row.sent_on or row.queued_on or row.created_at.date()
    for status, paid_on in closing.values():
        if status == InvoiceStatus.OPEN.value:
            return date.max
        if paid_on is not None:
            latest = max(latest, paid_on)
    return _years_later(latest, LIMITATION_YEARS)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


def purge_webhook_bodies(rt: Runtime, org_id: int, now: datetime) -> int:
    """Raw bodies of processed webhook events older than 30 days; the metadata stays."""
    with transaction(rt.sessions) as s:
        removed = repos.purge_webhook_bodies(s, org_id, now - timedelta(days=WEBHOOK_BODY_DAYS))
        if removed:
            repos.audit(
                s,
                org_id,
                "retention",
                f"purged the bodies of {removed} processed webhook event(s) older than {WEBHOOK_BODY_DAYS} days",
                data={"purge": "webhook_bodies", "count": removed},
            )
    return removed
