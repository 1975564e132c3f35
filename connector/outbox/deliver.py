"""Deliver: our own channels, for every step the accounting package cannot send itself: e-mail, letter, phone task.

Part of the outbox step: ``connector.outbox.drain`` calls ``deliver`` for an item whose provider lacks
``SEND_REMINDER`` (Xero, Exact) or whose step is a letter or a phone call. It builds the template context from
storage (debtor, the invoices that passed the freshness gate, the costs and interest the rules computed), renders
it with ``connector.channels``, then: e-mails the message (``connector.outbox.smtp``, with the letter PDF attached
for letter steps); puts a letter in the post queue (``var/letters/``) when the level's channel is the letter and the
policy does not let e-mail replace it, or when the debtor has no e-mail address; or opens a phone task in the
worklist. Every letter gets its evidence recorded: an e-mailed one with the SMTP server's acceptance; a queued one
without a sending date until a person marks it posted (``connector.debtors.letters``), its printed dates assuming
posting on the day it was queued. A notice of default sent by e-mail is recorded on the invoices' dunning state.
Every e-mail and letter carries a fresh personal link to the debtor's page (``connector.auth.portal``); a letter
also its short code and a QR code; a reminder the package sends itself carries it in the text we give it
(``package_message``, docs/portal.md#links).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from connector.auth.portal import IssuedLink, issue_link
from connector.channels.context import (
    LETTER_KINDS,
    DebtorInfo,
    InstallmentInfo,
    InvoiceLine,
    MessageContext,
    MessageKind,
    Organisation,
)
from connector.channels.email import Attachment, render_email
from connector.channels.letters import RenderedLetter, render_letter
from connector.channels.phone import HistoryLine, build_phone_task
from connector.channels.templating import render_part
from connector.clock import local_date
from connector.errors import PermanentError
from connector.model import Debtor, Invoice, Money
from connector.model.outbox import (
    LETTER_ACTIONS,
    DeliveredPart,
    InstallmentPart,
    OutboxAction,
    OutboxChannel,
    OutboxItem,
    OutboxStatus,
    PhoneTaskPart,
)
from connector.outbox.smtp import send_email
from connector.rules.letter import letter_dates, term_wording_defect
from connector.rules.snapshot import LetterChannel
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import transaction

KIND_BY_ACTION = {
    OutboxAction.FRIENDLY_REMINDER: MessageKind.FRIENDLY_REMINDER,
    OutboxAction.REMINDER: MessageKind.REMINDER,
    OutboxAction.DEMAND_LETTER: MessageKind.DEMAND_LETTER,
    OutboxAction.FOURTEEN_DAY_LETTER: MessageKind.FOURTEEN_DAY_LETTER,
    OutboxAction.FINAL_NOTICE: MessageKind.FINAL_NOTICE,
    OutboxAction.PHONE_TASK: MessageKind.PHONE_SCRIPT,
    OutboxAction.CREDIT_STOP: MessageKind.CREDIT_STOP_NOTICE,
    OutboxAction.HAND_OVER: MessageKind.HAND_OVER_NOTICE,
    OutboxAction.INSTALLMENT_REMINDER: MessageKind.INSTALLMENT_REMINDER,
}


@dataclass(frozen=True)
class Delivered:
    """What our channel did (``part``, stored with the item: status ``task_open`` for a phone task waiting for a
    person, else ``done``), the letter it rendered, if any, and the context it rendered (its dates)."""

    part: DeliveredPart
    letter: RenderedLetter | None = None
    context: MessageContext | None = None
    delivery_proof: str | None = None


def message_context(
    adm: tables.Administration,
    item: OutboxItem,
    invoices: list[Invoice],
    debtor: Debtor,
    today: date,
    letter_channel: LetterChannel = LetterChannel.EMAIL,
) -> MessageContext:
    """The template context: the step's costs and interest as the rules computed them, never recomputed here."""
    kind = KIND_BY_ACTION.get(item.action, MessageKind.REMINDER)
    payload = item.payload
    costs = payload.letter_costs if kind is MessageKind.FOURTEEN_DAY_LETTER else payload.costs
    dates = None
    if kind is MessageKind.FOURTEEN_DAY_LETTER:
        dates = letter_dates(today, letter_channel)
    elif payload.notice_term_days is not None:
        dates = letter_dates(today, LetterChannel.EMAIL, term_days=payload.notice_term_days)
    interest = payload.interest
    return MessageContext(
        organisation=Organisation.of(adm.name, repos.bank_details(adm)),
        debtor=DebtorInfo.from_debtor(debtor),
        invoices=tuple(InvoiceLine.from_invoice(inv, today) for inv in invoices),
        level_name=item.level_name,
        issued_on=today,
        currency=invoices[0].currency if invoices else adm.currency,
        collection_costs=costs.fee if costs else None,
        vat_on_costs=(costs.vat if costs else None) or None,
        interest=interest if kind is not MessageKind.FOURTEEN_DAY_LETTER else None,
        interest_until=today if interest is not None else None,
        contact=None,  # no named person to reply to or ask for: the signature is the organisation's
        receipt_date=dates.received if dates else None,
        deadline=dates.term_ends if dates else None,
        reference=item.idempotency_key[:12],
        installment=_installment(payload.installment),
        default_since=payload.default_since,
        notice_of_default=payload.notice_term_days is not None,
    )


def _installment(part: InstallmentPart | None) -> InstallmentInfo | None:
    if part is None:
        return None
    return InstallmentInfo(number=part.number, of=part.of, due_date=part.due_date, amount=part.amount)


def _history(rt: Runtime, org_id: int, debtor_ref: str) -> list[HistoryLine]:
    with rt.sessions() as s:
        entries = [e for e in repos.audit_trail(s, org_id, limit=500) if e.debtor_ref == debtor_ref]
        zone = repos.organisation_timezone(s, org_id)
    return [
        HistoryLine(on=local_date(e.created_at, zone), channel=e.kind, summary=e.message[:120]) for e in entries[:20]
    ]


def portal_link(rt: Runtime, adm: tables.Administration, item: OutboxItem, *, with_code: bool) -> IssuedLink:
    """A fresh personal link for the item's debtor (docs/portal.md#links), stored before the message goes out."""
    with transaction(rt.sessions) as s:
        return issue_link(
            s,
            adm,
            item.debtor_ref,
            keys=rt.settings.fernet_keys(),
            base_url=rt.settings.base_url,
            now=rt.clock(),
            outbox_key=item.idempotency_key,
            with_code=with_code,
        )


def with_portal(ctx: MessageContext, link: IssuedLink, base_url: str) -> MessageContext:
    """The context with the personal link (and on a letter the short code and the page to type it on)."""
    entry = base_url.rstrip("/") + "/p" if link.code else None
    return replace(ctx, portal_url=link.url, portal_code=link.code, portal_entry=entry)


def package_message(
    rt: Runtime,
    adm: tables.Administration,
    item: OutboxItem,
    invoices: list[Invoice],
    debtor_row: tables.Debtor | None,
    today: date,
) -> str:
    """The text a package sends as the reminder when it sends it itself (Moneybird's ``reminder_text``): the step's
    e-mail text in the debtor's language with a personal link, the same on every attempt (docs/portal.md#links)."""
    debtor = repos.debtor_row_to_model(debtor_row, item.debtor_ref)
    kind = KIND_BY_ACTION.get(item.action, MessageKind.REMINDER)
    link = portal_link(rt, adm, item, with_code=False)
    ctx = with_portal(message_context(adm, item, invoices, debtor, today), link, rt.settings.base_url)
    return render_part(kind, "body.txt", ctx)


def write_post_queue(rt: Runtime, item: OutboxItem, letter: RenderedLetter) -> Path:
    """Write a letter's PDF into the post queue (``var/letters/<organisation>/``); returns its path."""
    folder = rt.settings.var_dir / "letters" / str(item.org_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{item.idempotency_key[:24]}-{letter.filename}"
    path.write_bytes(letter.pdf)
    return path


def deliver(
    rt: Runtime,
    adm: tables.Administration,
    item: OutboxItem,
    invoices: list[Invoice],
    debtor_row: tables.Debtor | None,
    today: date,
) -> Delivered:
    """Send one outbox item through our own channels (see the module docstring)."""
    debtor = repos.debtor_row_to_model(debtor_row, item.debtor_ref)
    kind = KIND_BY_ACTION.get(item.action, MessageKind.REMINDER)
    if kind is MessageKind.PHONE_SCRIPT or item.channel is OutboxChannel.PHONE:
        ctx = message_context(adm, item, invoices, debtor, today)
        task = build_phone_task(ctx, debtor_ref=item.debtor_ref, history=_history(rt, item.org_id, item.debtor_ref))
        part = PhoneTaskPart(
            phone=task.phone,
            script=task.script,
            invoices=tuple(task.invoice_numbers),
            total_open=task.total_open,
            outcomes=tuple(o.value for o in task.outcomes),
        )
        return Delivered(
            DeliveredPart(
                channel="phone",
                detail=f"phone task for {task.debtor_name} ({task.phone or 'no phone number on file'})",
                status=OutboxStatus.TASK_OPEN,
                task=part,
            )
        )
    by_email = bool(debtor.email) and (
        item.channel is not OutboxChannel.LETTER or item.payload.email_may_replace_letter
    )
    letter_channel = LetterChannel.EMAIL if by_email else LetterChannel.POST
    plain = message_context(adm, item, invoices, debtor, today, letter_channel)
    link = portal_link(rt, adm, item, with_code=kind in LETTER_KINDS)
    ctx = with_portal(plain, replace(link, code=None), rt.settings.base_url)  # the e-mail: the link only
    letter = render_letter(kind, with_portal(plain, link, rt.settings.base_url)) if kind in LETTER_KINDS else None
    if not by_email:
        if letter is None:
            raise PermanentError(
                f"{item.level_name} has no letter to post for {debtor.name}: give the level the email channel "
                "(or email_may_replace_letter: true), and make sure the debtor has an e-mail address"
            )
        path = write_post_queue(rt, item, letter)
        queued = DeliveredPart(channel="post", detail=f"letter waits to be posted: {path.name}", post_file=str(path))
        return Delivered(queued, letter, ctx)
    rendered = render_email(kind, ctx)
    attachments = [Attachment(letter.filename, letter.pdf)] if letter else []
    sent = send_email(
        rt.settings.smtp,
        rendered,
        idempotency_key=item.idempotency_key,
        attachments=attachments,
        clock=rt.clock,
        timeout=rt.settings.http_timeout_seconds,
    )
    detail = f"e-mailed to {', '.join(sent.recipients)}"
    mailed = DeliveredPart(channel="email", detail=detail, message_id=sent.message_id, subject=sent.subject)
    return Delivered(mailed, letter, ctx, sent.delivery_proof)


def record_evidence(
    rt: Runtime, adm: tables.Administration, item: OutboxItem, delivered: Delivered, today: date
) -> None:
    """Store what was sent, when and how: a contact moment for every message; for a letter its evidence (sending
    date, or none while it waits for the post; the end date it printed; what the check of its text found; the
    SMTP server's acceptance); for a notice of default the day it went out."""
    part = delivered.part
    with transaction(rt.sessions) as s:
        repos.record_contact_moment(
            s,
            item.org_id,
            adm.id,
            debtor_ref=item.debtor_ref,
            at=rt.clock(),
            channel=part.channel,
            level=item.level,
            note=f"{item.level_name}: {part.detail}"[:500],
            document_sha256=hashlib.sha256(delivered.letter.pdf).hexdigest() if delivered.letter else None,
        )
        if item.payload.notice_term_days is not None and part.channel == "email":
            repos.mark_notice_of_default(s, item.org_id, adm.id, list(item.invoice_refs), today)
        if delivered.letter is None or item.action not in LETTER_ACTIONS:
            return
        letter_step = item.action is OutboxAction.FOURTEEN_DAY_LETTER
        stated = item.payload.letter_costs if letter_step else item.payload.costs
        stated_minor = None
        if stated is not None:
            stated_minor = Money(amount=stated.total, currency=adm.currency).quantized().to_minor()
        posted = part.channel == "post"
        ctx = delivered.context
        wording_ok = None
        if letter_step:
            wording_ok = term_wording_defect(delivered.letter.text, delivered.letter.language) is None
        repos.record_letter_evidence(
            s,
            item.org_id,
            adm.id,
            debtor_ref=item.debtor_ref,
            invoice_refs=list(item.invoice_refs),
            kind=item.action.value,
            sent_on=None if posted else today,
            channel=LetterChannel.POST.value if posted else LetterChannel.EMAIL.value,
            stated_costs_minor=stated_minor,
            currency=adm.currency,
            sha256=hashlib.sha256(delivered.letter.pdf).hexdigest(),
            message_id=part.message_id,
            document_ref=part.post_file,
            outbox_id=item.id,
            queued_on=today if posted else None,
            dates_assume_sent_on=today,
            printed_term_ends=ctx.deadline if ctx is not None and letter_step else None,
            text_counts_from_receipt=wording_ok,
            delivery_proof=delivered.delivery_proof,
        )
