"""Moneybird sandbox: the reminder e-mail Moneybird sends when ``send_reminders`` is called with ``Email``.

A real Moneybird mails the debtor the reminder (``reminder_text``, or the workflow step's own text) with its
placeholders filled in; the sandbox does the same over SMTP to the host and port it was started with
(``smtp_host``/``smtp_port``, e.g. the demo's local mailbox), so a reminder can be read as the debtor would. Without
an SMTP host nothing is sent: the reminder is only recorded (``writes(adm)``, the invoice's events). Stdlib only,
like the rest of the sandbox (docs/providers/moneybird.md#write-back).
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any

Record = dict[str, Any]


def _table(invoices: list[Record]) -> str:
    return "\n".join(
        f"{inv.get('invoice_id') or inv['id']}  {inv.get('due_date', '')}  EUR {inv.get('total_unpaid', '')}"
        for inv in invoices
    )


def reminder_message(adm: Record, contact: Record, invoices: list[Record], text: str, to: str) -> EmailMessage:
    """The e-mail: Moneybird's placeholders ``{recipient.name}`` and ``{reminders_table}`` filled in."""
    identity = (adm.get("identities") or [{}])[0]
    sender = str(identity.get("email") or "facturen@example.com")
    name = contact.get("company_name") or " ".join(
        str(part) for part in (contact.get("firstname"), contact.get("lastname")) if part
    )
    body = text.replace("{recipient.name}", str(name)).replace("{reminders_table}", _table(invoices))
    msg = EmailMessage()
    numbers = ", ".join(str(inv.get("invoice_id") or inv["id"]) for inv in invoices)
    msg["Subject"] = f"Herinnering factuur {numbers}"
    msg["From"] = formataddr((str(identity.get("company_name") or "Moneybird"), sender))
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="moneybird.sandbox")
    msg.set_content(body)
    return msg


def deliver(server: tuple[str, int], message: EmailMessage, timeout: float = 10.0) -> bool:
    """Hand the message to the SMTP server; False when it is unreachable or refuses (the API call still succeeds,
    as Moneybird's does: it sends its e-mails after answering)."""
    try:
        with smtplib.SMTP(server[0], server[1], timeout=timeout) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        return False
    return True
