"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records every message it accepts."""

from __future__ import annotations

import email
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from connector.settings import SmtpConfig

USERNAME = "mailer"
PASSWORD = "s3cret-pass"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.raw, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class SinkHandler:
    received: list[Received] = field(default_factory=list)
    refuse_rcpt_with: str | None = None  # e.g. "550 5.1.1 no such user"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if self.refuse_rcpt_with:
            return self.refuse_rcpt_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 Message accepted"


@dataclass
class SmtpServer:
    handler: SinkHandler
    port: int

    def config(self, **changes: Any) -> SmtpConfig:
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "enabled": True,
            "sender": "Korenschoof debiteuren <debiteuren@korenschoof.nl>",
        }
        values.update(changes)
        return SmtpConfig(**values)


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and (auth_data.password == PASSWORD.encode())
    )
    return AuthResult(success=ok, handled=False)


def _serve(**kwargs: Any) -> Iterator[SmtpServer]:
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer(handler, port)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    yield from _serve()


@pytest.fixture
def smtp_auth_server() -> Iterator[SmtpServer]:
    yield from _serve(authenticator=_authenticator, auth_require_tls=False, auth_required=True)


@dataclass
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for 127.0.0.1 and a client context that trusts exactly that certificate.

    OpenSSL checks validity against the machine's real clock, not the moved clock of a time-travel run: the
    certificate is valid a day either side of both.
    """
    import ipaddress
    from datetime import UTC, datetime, timedelta

    import time_machine
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    real_now = (
        time_machine.escape_hatch.datetime.datetime.now(UTC) if time_machine.escape_hatch.is_travelling() else now
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, real_now) - timedelta(days=1))
        .not_valid_after(max(now, real_now) + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    directory = tmp_path_factory.mktemp("tls")
    (directory / "cert.pem").write_bytes(cert_pem)
    (directory / "key.pem").write_bytes(key_pem)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return Tls(server, client)


@pytest.fixture
def smtp_starttls_server(tls: Tls) -> Iterator[SmtpServer]:
    yield from _serve(tls_context=tls.server, require_starttls=True)


@pytest.fixture
def smtp_ssl_server(tls: Tls) -> Iterator[SmtpServer]:
    yield from _serve(ssl_context=tls.server)
