"""The e-mail that confirms a debtor's answer on its page, in the language the debtor used there.

Called by ``dashboard.portal`` after ``connector.portal_answers`` stored an answer. The text comes from
``templates/emails/portal_answer.*`` (translated like every page); it goes out through the same SMTP channel as the
reminders (``connector.outbox.smtp``), so the demo's mailbox shows it. A debtor without an e-mail address gets
none; a failure is logged without the address and does not undo the answer (docs/portal.md#answers).
"""

from __future__ import annotations

import structlog
from flask import render_template
from flask_babel import gettext as _

from connector.channels.email import RenderedEmail
from connector.errors import ConnectorError
from connector.outbox.smtp import send_email
from connector.portal_answers import Answered
from connector.runtime import Runtime
from dashboard.i18n import lang

log = structlog.get_logger(__name__)


def send_confirmation(rt: Runtime, done: Answered) -> bool:
    """E-mail the debtor what it answered and what happens next; False when there is no address or it failed."""
    if not done.email:
        return False
    context = {"done": done}
    rendered = RenderedEmail(
        kind=f"portal_{done.kind.value}",
        language=lang(),
        subject=_("Your answer to %(name)s", name=done.creditor),
        text=render_template("emails/portal_answer.txt", **context),
        html=render_template("emails/portal_answer.html", **context),
        to=done.email,
        reply_to=None,
    )
    try:
        send_email(rt.settings.smtp, rendered, idempotency_key=f"portal_answer:{done.answer_id}", clock=rt.clock)
    except ConnectorError as exc:
        log.warning("portal_mail.failed", answer=done.answer_id, error=type(exc).__name__)
        return False
    return True
