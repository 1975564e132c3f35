"""E-mail channel against a real SMTP server on 127.0.0.1: what arrives is what the templates rendered."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connector.channels.context import MessageKind
from connector.channels.email import Attachment, build_message, message_id_for, render_email
from connector.channels.letters import render_letter
from connector.errors import ConfigurationError, PermanentError, TransientError
from connector.outbox.smtp import send_email
from connector.settings import SmtpConfig
from tests.channels.conftest import PASSWORD, USERNAME, SmtpServer, Tls, free_port
from tests.channels.factories import BUSINESS, INVOICE_A, INVOICE_B, PAY_LINK, context, fourteen_day_context

NO_TLS_WARNING = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
FIXED_NOW = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)


def clock() -> datetime:
    return FIXED_NOW


def _plain(text: str) -> str:
    # babel puts a no-break space between the euro sign and the amount (nl_NL); compare with a normal space
    return text.replace("\u00a0", " ")


def test_dutch_reminder_with_letter_arrives_complete(smtp_server: SmtpServer) -> None:
    ctx = context(BUSINESS, invoices=(INVOICE_A, INVOICE_B), level_name="Aanmaning")
    letter = render_letter(MessageKind.DEMAND_LETTER, ctx)
    rendered = render_email(MessageKind.DEMAND_LETTER, ctx)
    key = "conn-1:D-1042:level-3:2026-03-03"

    sent = send_email(
        smtp_server.config(),
        rendered,
        idempotency_key=key,
        attachments=[Attachment(letter.filename, letter.pdf)],
        clock=clock,
    )

    [got] = smtp_server.handler.received
    assert got.rcpt_tos == ["crediteuren@jansen-installatie.nl"]
    assert got.mail_from == "debiteuren@korenschoof.nl"
    msg = got.message
    assert msg["Subject"] == "Aanmaning: 2 openstaande facturen"
    assert msg["Message-ID"] == message_id_for(key, "debiteuren@korenschoof.nl") == sent.message_id
    assert msg["Reply-To"] == "petra@korenschoof.nl"
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text, html = _plain(text_part.get_content()), _plain(html_part.get_content())
    assert "Beste Karin Jansen," in text
    assert "€ 1.234,56" in text and "€ 250,00" in text
    assert "Totaal openstaand: € 1.484,56" in text  # 1,234.56 + 250.00
    assert PAY_LINK in text and f'href="{PAY_LINK}"' in html
    assert "vervaldatum 9 februari 2026" in text
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == letter.filename
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF") and pdf == letter.pdf
    assert sent.attachments[0].sha256 == letter.sha256
    assert sent.sent_at == FIXED_NOW and sent.recipients == ("crediteuren@jansen-installatie.nl",)
    assert sent.text == rendered.text


def test_english_debtor_gets_english_text(smtp_server: SmtpServer) -> None:
    ctx = context(BUSINESS, language="en-GB", level_name="Reminder")
    send_email(smtp_server.config(), render_email(MessageKind.REMINDER, ctx), idempotency_key="k-en", clock=clock)
    msg = smtp_server.handler.received[0].message
    assert msg["Subject"] == "Payment reminder: invoice F2026-001"
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Dear Karin Jansen," in text and "€1,234.56" in text and "due 9 February 2026" in text
    assert msg["Content-Language"] == "en"


def test_resend_with_same_key_has_same_message_id(smtp_server: SmtpServer) -> None:
    rendered = render_email(MessageKind.REMINDER, context())
    first = send_email(smtp_server.config(), rendered, idempotency_key="key-1", clock=clock)
    again = send_email(smtp_server.config(), rendered, idempotency_key="key-1", clock=clock)
    other = send_email(smtp_server.config(), rendered, idempotency_key="key-2", clock=clock)
    ids = [r.message["Message-ID"] for r in smtp_server.handler.received]
    assert ids[0] == ids[1] == first.message_id == again.message_id
    assert ids[2] == other.message_id != ids[0]


def test_fourteen_day_letter_by_email_states_costs_and_deadline(smtp_server: SmtpServer) -> None:
    ctx = fourteen_day_context()
    letter = render_letter(MessageKind.FOURTEEN_DAY_LETTER, ctx)
    send_email(
        smtp_server.config(),
        render_email(MessageKind.FOURTEEN_DAY_LETTER, ctx),
        idempotency_key="k14",
        attachments=[Attachment(letter.filename, letter.pdf)],
        clock=clock,
    )
    msg = smtp_server.handler.received[0].message
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    text = _plain(body.get_content())
    assert "Deze incassokosten bedragen € 185,18" in text
    assert "te rekenen vanaf de dag na ontvangst van deze brief" in text
    assert "tot en met 19 maart 2026" in text
    assert "bedraagt € 1.419,74" in text  # 1,234.56 + 185.18


@NO_TLS_WARNING
def test_login_with_credentials(smtp_auth_server: SmtpServer) -> None:
    config = smtp_auth_server.config(username=USERNAME, password=PASSWORD)
    send_email(config, render_email(MessageKind.REMINDER, context()), idempotency_key="k", clock=clock)
    assert len(smtp_auth_server.handler.received) == 1


@NO_TLS_WARNING
def test_wrong_password_is_a_configuration_error(smtp_auth_server: SmtpServer) -> None:
    config = smtp_auth_server.config(username=USERNAME, password="wrong")
    with pytest.raises(ConfigurationError, match="USERNAME"):
        send_email(config, render_email(MessageKind.REMINDER, context()), idempotency_key="k", clock=clock)
    assert smtp_auth_server.handler.received == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [("550 5.1.1 mailbox unavailable", PermanentError), ("451 4.3.0 try again later", TransientError)],
)
def test_refused_recipient_maps_to_error_class(smtp_server: SmtpServer, reply: str, error: type[Exception]) -> None:
    smtp_server.handler.refuse_rcpt_with = reply
    with pytest.raises(error):
        send_email(smtp_server.config(), render_email(MessageKind.REMINDER, context()), idempotency_key="k")
    assert smtp_server.handler.received == []


def test_unreachable_server_is_transient() -> None:
    config = SmtpConfig(host="127.0.0.1", port=free_port(), enabled=True)  # nothing listens there
    with pytest.raises(TransientError):
        send_email(config, render_email(MessageKind.REMINDER, context()), idempotency_key="k", timeout=5)


def test_disabled_smtp_sends_nothing(smtp_server: SmtpServer) -> None:
    with pytest.raises(ConfigurationError, match="ENABLED"):
        send_email(
            smtp_server.config(enabled=False), render_email(MessageKind.REMINDER, context()), idempotency_key="k"
        )
    assert smtp_server.handler.received == []


def test_debtor_without_address_is_permanent(smtp_server: SmtpServer) -> None:
    ctx = context(replace(BUSINESS, email=None))
    with pytest.raises(PermanentError, match="letter"):
        send_email(smtp_server.config(), render_email(MessageKind.REMINDER, ctx), idempotency_key="k")


def test_explicit_recipient_overrides_debtor_address(smtp_server: SmtpServer) -> None:
    ctx = context(BUSINESS, collection_costs=Decimal("40.00"))
    send_email(
        smtp_server.config(),
        render_email(MessageKind.REMINDER, ctx),
        idempotency_key="k",
        to=["Boekhouding <boekhouding@jansen-installatie.nl>"],
    )
    assert smtp_server.handler.received[0].rcpt_tos == ["boekhouding@jansen-installatie.nl"]


def test_starttls(smtp_starttls_server: SmtpServer, tls: Tls) -> None:
    config = smtp_starttls_server.config(starttls=True)
    rendered = render_email(MessageKind.REMINDER, context())
    send_email(config, rendered, idempotency_key="k-tls", ssl_context=tls.client)
    assert len(smtp_starttls_server.handler.received) == 1
    with pytest.raises(PermanentError):  # the server demands STARTTLS: 530 without it
        send_email(smtp_starttls_server.config(), rendered, idempotency_key="k-plain")
    with pytest.raises(TransientError):  # the system trust store does not know the self-signed certificate
        send_email(config, rendered, idempotency_key="k-untrusted")


def test_implicit_tls(smtp_ssl_server: SmtpServer, tls: Tls) -> None:
    config = smtp_ssl_server.config(ssl=True)
    send_email(config, render_email(MessageKind.REMINDER, context()), idempotency_key="k-ssl", ssl_context=tls.client)
    assert len(smtp_ssl_server.handler.received) == 1


def test_ssl_and_starttls_together_is_a_configuration_error(smtp_server: SmtpServer) -> None:
    with pytest.raises(ConfigurationError, match="only one"):
        send_email(
            smtp_server.config(ssl=True, starttls=True),
            render_email(MessageKind.REMINDER, context()),
            idempotency_key="k",
        )


def test_a_subject_that_fits_on_its_own_line_has_no_leading_space() -> None:
    """At 70-odd characters the default folding put the subject on a line of its own after "Subject:", and
    readers showed it with a leading space."""
    import email

    rendered = render_email(MessageKind.FRIENDLY_REMINDER, context())
    assert rendered.subject == "Vriendelijke herinnering: factuur F2026-001 vervalt op 9 februari 2026"
    msg = build_message(rendered, sender="a@b.nl", to=["c@d.nl"], idempotency_key="k", sent_at=FIXED_NOW)
    raw = msg.as_bytes()
    assert f"Subject: {rendered.subject}\n".encode() in raw
    assert email.message_from_bytes(raw)["Subject"] == rendered.subject  # also as the oldest parsers read it
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    assert body["Content-Transfer-Encoding"] == "quoted-printable", "the body's encoding is unchanged"
