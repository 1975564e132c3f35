"""Write-back into the Exact sandbox: notes per step, letter PDFs as documents, opt-in Blocked
(docs/providers/exact.md#write-back)."""

from __future__ import annotations

import pytest

from adapters.exact.client import ErrorCapBreaker
from adapters.exact.provider import ExactAdapter
from connector.errors import NotSupported
from connector.model import Capability, ReminderWrite, WriteAction
from connector.settings import ExactConfig
from tests.adapters.exact.conftest import Exact

PDF = b"%PDF-1.4\n% a reminder letter\n%%EOF\n"


def write(exact: Exact, action: WriteAction, key: str, **extra: object) -> ReminderWrite:
    tenant = exact.state.tenant_ids()[0]
    invoice = exact.state.open_invoice_ids(tenant)[0]
    debtor = exact.state.division(tenant)["entries"][invoice]["Account"]
    return ReminderWrite(
        action=action,
        debtor_ref=debtor,
        invoice_refs=[invoice],
        level=2,
        level_name="Tweede herinnering",
        text="Wij hebben uw betaling nog niet ontvangen.",
        idempotency_key=key,
        **extra,
    )  # type: ignore[arg-type]


def test_a_reminder_step_is_one_note_even_when_retried(exact: Exact) -> None:
    adapter = exact.adapter()
    tenant = exact.state.tenant_ids()[0]
    step = write(exact, WriteAction.NOTE, "conn1:inv:2:2026-03-02")
    first = adapter.write_reminder_status(tenant, step)
    again = adapter.write_reminder_status(tenant, step)
    assert first.ok
    assert not first.already_done
    assert again.already_done
    assert first.provider_refs == again.provider_refs
    notes = [w for w in exact.state.writes(tenant) if w["kind"] == "note"]
    assert len(notes) == 1
    assert notes[0]["invoice_ids"] == step.invoice_refs
    assert "[dunning:conn1:inv:2:2026-03-02]" in notes[0]["text"]
    other = adapter.write_reminder_status(tenant, write(exact, WriteAction.NOTE, "conn1:inv:3:2026-03-16"))
    assert not other.already_done
    assert len([w for w in exact.state.writes(tenant) if w["kind"] == "note"]) == 2


def test_a_letter_is_a_document_with_the_pdf_attached_once(exact: Exact) -> None:
    adapter = exact.adapter()
    tenant = exact.state.tenant_ids()[0]
    letter = write(exact, WriteAction.DOCUMENT, "conn1:inv:3:letter", attachment=PDF, attachment_name="aanmaning.pdf")
    first = adapter.write_reminder_status(tenant, letter)
    again = adapter.write_reminder_status(tenant, letter)
    assert first.ok
    assert again.already_done
    assert first.provider_refs == again.provider_refs
    docs = [w for w in exact.state.writes(tenant) if w["kind"] == "document"]
    assert len(docs) == 1
    assert docs[0]["pdf"]
    assert docs[0]["size"] == len(PDF)
    assert docs[0]["file_name"] == "aanmaning.pdf"
    with pytest.raises(NotSupported):
        adapter.write_reminder_status(tenant, write(exact, WriteAction.DOCUMENT, "no-pdf"))


def test_credit_stop_sets_blocked_only_when_opted_in(exact: Exact) -> None:
    tenant = exact.state.tenant_ids()[0]
    hold = write(exact, WriteAction.CREDIT_HOLD, "conn1:debtor:hold")
    advised = exact.adapter().write_reminder_status(tenant, hold)
    assert "note only" in advised.detail
    assert [w["kind"] for w in exact.state.writes(tenant)] == ["note"]
    assert not exact.state.division(tenant)["accounts"][hold.debtor_ref]["Blocked"]

    opted = exact.adapter(credit_stop_sets_blocked=True)
    assert not opted.write_reminder_status(tenant, hold).already_done
    assert exact.state.division(tenant)["accounts"][hold.debtor_ref]["Blocked"] is True
    assert opted.write_reminder_status(tenant, hold).already_done  # re-read first: no second PUT
    release = write(exact, WriteAction.CREDIT_RELEASE, "conn1:debtor:release")
    opted.write_reminder_status(tenant, release)
    assert exact.state.division(tenant)["accounts"][hold.debtor_ref]["Blocked"] is False
    assert [w["blocked"] for w in exact.state.writes(tenant) if w["kind"] == "blocked"] == [True, False]


def test_no_payments_topic_and_no_readable_reminders() -> None:
    """Exact sends no webhook for payments and its own reminders cannot be read (the write-backs that capabilities
    promise, and the ones they do not, are pinned for every adapter by the conformance suite)."""
    assert Capability.PAYMENT_EVENTS not in ExactAdapter.capabilities
    assert not ExactAdapter.reminder_settings(object.__new__(ExactAdapter), "1").active  # type: ignore[arg-type]


def test_notes_are_dated_by_the_runtime_clock_not_the_wall_clock(exact: Exact) -> None:
    """Under a time machine (or a replayed backlog) the note says when the step happened."""
    from datetime import UTC, datetime

    when = datetime(2026, 5, 17, 9, 30, tzinfo=UTC)  # neither the sandbox's clock nor today
    adapter = ExactAdapter(
        exact.session(), ExactConfig(base_url=exact.url), clock=lambda: when, breaker=ErrorCapBreaker(clock=exact.clock)
    )
    tenant = exact.state.tenant_ids()[0]
    result = adapter.write_reminder_status(tenant, write(exact, WriteAction.NOTE, "conn1:inv:2:dated"))
    (note_id,) = result.provider_refs
    stored = exact.state.division(tenant)["notes"][note_id]
    assert str(stored["Date"]).startswith("2026-05-17")
