"""Send one rendered e-mail over SMTP and report exactly what went out: the outbox's only network channel of its own.

Part of the outbox step: ``connector.outbox.deliver`` renders the message (``connector.channels.email``) and calls
:func:`send_email` with the step's idempotency key. :func:`send_email` returns a :class:`SentEmail` (what exactly
went out, with hashes) for the evidence store (docs/law.md#the-14-day-letter,
docs/law.md#engine-rules-for-costs-and-interest, docs/credit-management.md#the-debtor-file). SMTP failures are mapped
onto ``connector.errors``: 4xx and connection trouble are transient, 5xx permanent, bad credentials a configuration
error.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import getaddresses, parseaddr
from enum import Enum
from typing import Any

import structlog

from connector.channels.email import Attachment, RenderedEmail, build_message
from connector.clock import Clock, utcnow
from connector.errors import ConfigurationError, PermanentError, TransientError
from connector.settings import SmtpConfig

log = structlog.get_logger(__name__)

PROVIDER = "smtp"


@dataclass(frozen=True)
class SentAttachment:
    filename: str
    mime_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class SentEmail:
    """What was handed to the SMTP server, for the audit trail. ``refused`` lists recipients the server refused;
    ``accepted`` is the server's reply accepting the message (e.g. ``250 2.0.0 Ok: queued as 4F3A1``), the proof of
    delivery kept with a letter's evidence."""

    message_id: str
    idempotency_key: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    attachments: tuple[SentAttachment, ...]
    sent_at: datetime
    sha256: str
    refused: tuple[str, ...] = ()
    accepted: str = ""
    server: str = ""

    @property
    def delivery_proof(self) -> str:
        """One line for the evidence: which server accepted the message, with its reply and the Message-ID."""
        return f"accepted by {self.server}: {self.accepted} ({self.message_id})"


def _smtp_error(exc: smtplib.SMTPException) -> Exception:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return ConfigurationError("SMTP login refused: check DUNNING_SMTP__USERNAME and DUNNING_SMTP__PASSWORD")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return ConfigurationError(f"SMTP server does not support a configured feature: {exc}")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        permanent = all(code >= 500 for code in codes)
        cls = PermanentError if permanent else TransientError
        return cls(f"SMTP refused all recipients (codes {sorted(set(codes))})", provider=PROVIDER)
    if isinstance(exc, smtplib.SMTPResponseException):
        cls = PermanentError if exc.smtp_code >= 500 else TransientError
        return cls(f"SMTP error {exc.smtp_code}", status=exc.smtp_code, provider=PROVIDER)
    return TransientError(f"SMTP failure: {type(exc).__name__}", provider=PROVIDER)


class _Replies:
    """Keeps the server's reply to DATA: smtplib checks it but does not hand it back."""

    def __init__(self) -> None:
        self.data: tuple[int, bytes] | None = None


class _SMTP(smtplib.SMTP):
    replies: _Replies

    def data(self, msg: Any) -> tuple[int, bytes]:
        reply = super().data(msg)
        self.replies.data = reply
        return reply


class _SMTPSSL(smtplib.SMTP_SSL):
    replies: _Replies

    def data(self, msg: Any) -> tuple[int, bytes]:
        reply = super().data(msg)
        self.replies.data = reply
        return reply


def _connect(config: SmtpConfig, timeout: float, context: ssl.SSLContext | None, replies: _Replies) -> smtplib.SMTP:
    if config.ssl and config.starttls:
        raise ConfigurationError("set only one of DUNNING_SMTP__SSL and DUNNING_SMTP__STARTTLS")
    smtp: _SMTP | _SMTPSSL
    if config.ssl:
        smtp = _SMTPSSL(config.host, config.port, timeout=timeout, context=context)
    else:
        smtp = _SMTP(config.host, config.port, timeout=timeout)
    smtp.replies = replies
    return smtp


def send_email(
    config: SmtpConfig,
    rendered: RenderedEmail,
    *,
    idempotency_key: str,
    to: Sequence[str] | None = None,
    attachments: Sequence[Attachment] = (),
    clock: Clock = utcnow,
    timeout: float = 30.0,
    ssl_context: ssl.SSLContext | None = None,
) -> SentEmail:
    """Send one rendered message over SMTP and return what was sent.

    ``to`` defaults to the debtor's address from the context. ``ssl_context`` defaults to the system trust store
    (tests pass one that trusts their own certificate).
    """
    if not config.enabled:
        raise ConfigurationError("e-mail sending is off: set DUNNING_SMTP__ENABLED=true (and the SMTP host)")
    recipients = [addr for _, addr in getaddresses(list(to) if to else [rendered.to or ""]) if addr]
    if not recipients:
        raise PermanentError("the debtor has no e-mail address; use the letter channel", provider=PROVIDER)
    sent_at = clock()
    msg = build_message(
        rendered,
        sender=config.sender,
        to=recipients,
        idempotency_key=idempotency_key,
        attachments=attachments,
        sent_at=sent_at,
    )
    raw = msg.as_bytes()
    context = ssl_context or ssl.create_default_context()
    replies = _Replies()
    try:
        with _connect(config, timeout, context, replies) as smtp:
            if config.starttls:
                smtp.starttls(context=context)
            if config.username:
                smtp.login(config.username, config.password.get_secret_value())
            refused = smtp.send_message(msg, from_addr=parseaddr(config.sender)[1], to_addrs=recipients)
    except smtplib.SMTPException as exc:
        raise _smtp_error(exc) from exc
    except OSError as exc:  # connection refused, reset, timeout, TLS handshake
        raise TransientError(f"SMTP connection failed: {type(exc).__name__}", provider=PROVIDER) from exc
    message_id = str(msg["Message-ID"])
    code, reply = replies.data or (250, b"")
    accepted = f"{code} {reply.decode('utf-8', 'replace')}".strip()
    kind = rendered.kind.value if isinstance(rendered.kind, Enum) else rendered.kind
    log.info("email.sent", kind=kind, message_id=message_id, recipients=len(recipients))
    return SentEmail(
        message_id=message_id,
        idempotency_key=idempotency_key,
        sender=config.sender,
        recipients=tuple(recipients),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        attachments=tuple(
            SentAttachment(a.filename, a.mime_type, len(a.content), hashlib.sha256(a.content).hexdigest())
            for a in attachments
        ),
        sent_at=sent_at,
        sha256=hashlib.sha256(raw).hexdigest(),
        refused=tuple(sorted(refused)),
        accepted=accepted[:300],
        server=f"{config.host}:{config.port}",
    )
