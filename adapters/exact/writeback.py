"""Write-back of dunning status into Exact Online, which has no reminder API (docs/providers/exact.md#own-reminders).

Sits at the end of the outbox drain: ``provider.write_reminder_status`` hands one ``ReminderWrite`` here.
Each reminder step becomes an append-only ``activities/CommunicationNotes`` entry on the debtor's account;
a letter PDF becomes a ``documents/Documents`` record plus a ``documents/DocumentAttachments`` upload; a credit
stop sets ``crm/Accounts.Blocked`` only when ``ExactConfig.credit_stop_sets_blocked`` opts in (otherwise a
note advises it). Every write carries the idempotency marker and is preceded by a read that looks for it,
so a retried or timed-out write never lands twice.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any

from adapters.exact.client import ExactClient, guid
from connector.clock import utcnow
from connector.errors import NotSupported
from connector.model import ReminderWrite, WriteAction, WriteResult

DOCUMENT_TYPE_MISC = 55  # docs/providers/exact.md#write-back: type 55 = "Miscellaneous" in Exact's sample
SUBJECT_MAX = 200


def marker(write: ReminderWrite) -> str:
    """The line that makes a write recognisable when we re-read (and when it echoes back as a webhook)."""
    return f"[dunning:{write.idempotency_key}]"


def _subject(write: ReminderWrite, prefix: str = "Herinnering") -> str:
    text = f"{prefix} {write.level} ({write.level_name})"
    return text[:SUBJECT_MAX]


def _body(write: ReminderWrite) -> str:
    refs = ", ".join(write.invoice_refs)
    return f"{write.text}\n\nFacturen: {refs}\nKanaal: {write.channel}\n{marker(write)}".strip()


class ExactWriteback:
    def __init__(
        self, client: ExactClient, *, credit_stop_sets_blocked: bool, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.client = client
        self.clock = clock or utcnow
        self.credit_stop_sets_blocked = credit_stop_sets_blocked
        self.calls = 0

    def _get(self, division: str, endpoint: str, select: tuple[str, ...], flt: str) -> list[dict[str, Any]]:
        self.calls += 1
        return self.client.get_all(division, endpoint, select=select, filter=flt)

    def write(self, division: str, write: ReminderWrite) -> WriteResult:
        if write.action is WriteAction.NOTE:
            return self._note(division, write, _subject(write))
        if write.action is WriteAction.DOCUMENT:
            return self._document(division, write)
        if write.action in (WriteAction.CREDIT_HOLD, WriteAction.CREDIT_RELEASE):
            return self._credit(division, write, hold=write.action is WriteAction.CREDIT_HOLD)
        raise NotSupported(f"exact: {write.action.value} (Exact has no reminder API)")

    def _note(self, division: str, write: ReminderWrite, subject: str) -> WriteResult:
        existing = self._get(
            division, "activities/CommunicationNotes", ("ID", "Notes"), f"Account eq {guid(write.debtor_ref)}"
        )
        for note in existing:
            if marker(write) in str(note.get("Notes") or ""):
                return WriteResult(ok=True, provider_refs=[str(note["ID"])], already_done=True, api_calls=self.calls)
        created = self.client.post(
            division,
            "activities/CommunicationNotes",
            {
                "Account": write.debtor_ref,
                "Subject": subject,
                "Notes": _body(write),
                "Date": self.clock().strftime("%Y-%m-%dT%H:%M:%S"),
            },
        )
        self.calls += 1
        return WriteResult(ok=True, provider_refs=[str(created.get("ID", ""))], api_calls=self.calls)

    def _document(self, division: str, write: ReminderWrite) -> WriteResult:
        if not write.attachment:
            raise NotSupported("exact: a document write needs the letter PDF")
        found = [
            d
            for d in self._get(division, "documents/Documents", ("ID", "Body"), f"Account eq {guid(write.debtor_ref)}")
            if marker(write) in str(d.get("Body") or "")
        ]
        if found:
            doc_id, already = str(found[0]["ID"]), True
        else:
            created = self.client.post(
                division,
                "documents/Documents",
                {
                    "Subject": _subject(write, "Aanmaning"),
                    "Type": DOCUMENT_TYPE_MISC,
                    "Account": write.debtor_ref,
                    "Body": _body(write),
                    "DocumentDate": self.clock().strftime("%Y-%m-%dT%H:%M:%S"),
                },
            )
            self.calls += 1
            doc_id, already = str(created["ID"]), False
        attachments = (
            []
            if not already
            else self._get(division, "documents/DocumentAttachments", ("ID",), f"Document eq {guid(doc_id)}")
        )
        if attachments:
            return WriteResult(ok=True, provider_refs=[doc_id], already_done=True, api_calls=self.calls)
        self.client.post(
            division,
            "documents/DocumentAttachments",
            {
                "Document": doc_id,
                "FileName": write.attachment_name or f"aanmaning-{write.level}.pdf",
                "Attachment": base64.b64encode(write.attachment).decode("ascii"),
            },
        )
        self.calls += 1
        return WriteResult(
            ok=True,
            provider_refs=[doc_id],
            already_done=False,
            api_calls=self.calls,
            detail="attachment completed" if already else "",
        )

    def _credit(self, division: str, write: ReminderWrite, *, hold: bool) -> WriteResult:
        # docs/providers/exact.md#write-back: Blocked is an opt-in escalation only
        if not self.credit_stop_sets_blocked:
            result = self._note(
                division,
                write,
                _subject(write, "Kredietstop geadviseerd" if hold else "Kredietstop opheffen geadviseerd"),
            )
            return result.model_copy(update={"detail": "note only: credit_stop_sets_blocked is off"})
        rows = self._get(division, "crm/Accounts", ("ID", "Blocked"), f"ID eq {guid(write.debtor_ref)}")
        if rows and bool(rows[0].get("Blocked")) == hold:
            return WriteResult(ok=True, provider_refs=[write.debtor_ref], already_done=True, api_calls=self.calls)
        self.client.put(division, f"crm/Accounts({guid(write.debtor_ref)})", {"Blocked": hold})
        self.calls += 1
        return WriteResult(ok=True, provider_refs=[write.debtor_ref], api_calls=self.calls)
