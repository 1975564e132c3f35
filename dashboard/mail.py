"""The web app's own e-mails to its users: an invitation and a password-reset link, in the user's language.

Called by ``dashboard.auth``. The text comes from ``templates/emails/`` (translated like every page, with
``_()``); the message goes out through the same SMTP channel as the reminders (``connector.outbox.smtp``), so the
demo's mailbox shows it. The link is built from ``DUNNING_BASE_URL`` by ``connector.accounts``.
"""

from __future__ import annotations

import hashlib

import structlog
from flask import render_template
from flask_babel import gettext as _

from connector import accounts
from connector.channels.email import RenderedEmail
from connector.errors import ConnectorError
from connector.outbox.smtp import send_email
from connector.runtime import Runtime
from dashboard.i18n import lang

log = structlog.get_logger(__name__)


def send_account_mail(rt: Runtime, person: accounts.Person, purpose: str) -> bool:
    """E-mail ``person`` an ``invite`` or ``reset`` link; False (logged, without the address) when it failed."""
    link = accounts.link_url(rt, person.id, purpose)
    subject = _("Your invitation to Credit management") if purpose == "invite" else _("Choose a new password")
    context = {"link": link, "purpose": purpose, "hours": accounts.RESET_HOURS, "days": accounts.INVITATION_DAYS}
    rendered = RenderedEmail(
        kind=f"account_{purpose}",
        language=lang(),
        subject=subject,
        text=render_template("emails/account.txt", **context),
        html=render_template("emails/account.html", **context),
        to=person.email,
        reply_to=None,
    )
    key = f"account:{purpose}:{person.id}:{hashlib.sha256(link.encode()).hexdigest()[:16]}"
    try:
        send_email(rt.settings.smtp, rendered, idempotency_key=key, clock=rt.clock)
    except ConnectorError as exc:
        log.warning("account_mail.failed", purpose=purpose, user_id=person.id, error=type(exc).__name__)
        return False
    return True
