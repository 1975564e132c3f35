"""Render reminder e-mails from the Jinja templates into a MIME message; pure, no I/O.

The outbox delivers a step whose channel is e-mail (``connector.outbox.deliver``): it builds a ``MessageContext``,
calls :func:`render_email`, optionally attaches PDF letters from ``connector.channels.letters``, and hands the
result to ``connector.outbox.smtp``, which builds the message with :func:`build_message` and sends it. The
Message-ID is derived from the step's idempotency key, so a resend after a crash carries the same Message-ID and
is recognisable to the receiver and in our audit trail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from connector.channels.context import MessageContext, MessageKind
from connector.channels.templating import render_part


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/pdf"


@dataclass(frozen=True)
class RenderedEmail:
    """Subject, plain text and HTML of one message in the debtor's language."""

    kind: MessageKind | str  # a str for the web app's account e-mails (invitation, password reset)
    language: str
    subject: str
    text: str
    html: str
    to: str | None
    reply_to: str | None


def render_email(kind: MessageKind, ctx: MessageContext) -> RenderedEmail:
    """Render ``subject.txt``, ``body.txt`` and ``body.html`` of ``kind``; raises ``LegalCheckFailed`` first."""
    reply_to = (ctx.contact.email if ctx.contact else None) or ctx.organisation.email
    return RenderedEmail(
        kind=kind,
        language=ctx.language,
        subject=render_part(kind, "subject.txt", ctx),
        text=render_part(kind, "body.txt", ctx),
        html=render_part(kind, "body.html", ctx),
        to=ctx.debtor.email,
        reply_to=reply_to,
    )


def message_id_for(idempotency_key: str, sender: str) -> str:
    """A Message-ID that is a pure function of the idempotency key (and the sender's domain)."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2] if "@" in address else "dunning.invalid"
    return f"<dunning.{digest}@{domain}>"


def build_message(
    rendered: RenderedEmail,
    *,
    sender: str,
    to: Sequence[str],
    idempotency_key: str,
    attachments: Sequence[Attachment] = (),
    sent_at: datetime,
) -> EmailMessage:
    """A multipart/mixed message: multipart/alternative (text, HTML) plus the attachments."""
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if rendered.reply_to:
        msg["Reply-To"] = rendered.reply_to
    msg["Date"] = format_datetime(sent_at)
    msg["Message-ID"] = message_id_for(idempotency_key, sender)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: tells auto-responders not to answer
    msg.set_content(rendered.text, subtype="plain", charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        msg.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    msg["Content-Language"] = rendered.language  # after the body: set_content/add_* move Content-* headers
    # Headers up to RFC 5322's hard limit on one line: at the default 78 a subject that fits alone is folded right
    # after "Subject:", and readers show it with a leading space. The bodies were encoded above, unaffected.
    msg.policy = msg.policy.clone(max_line_length=998)
    return msg
