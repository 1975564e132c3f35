"""The redaction processor and the stdlib/structlog pipeline never let a credential through."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from connector.logging import MASK, configure_logging, redact_secrets, scrub_text, unconfigure_logging


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("DEBUG", json=True, stream=stream)
    yield stream
    unconfigure_logging()


@pytest.mark.parametrize(
    "key",
    [
        "access_token",
        "refresh_token",
        "client_secret",
        "Authorization",
        "password",
        "code",
        "HashCode",
        "x-xero-signature",
        "Moneybird-Signature",
        "code_verifier",
        "webhook_token",
    ],
)
def test_sensitive_keys_are_masked(key: str) -> None:
    event = redact_secrets(None, "info", {"event": "x", key: "s3cr3t-value"})
    assert event[key] == MASK


def test_nested_values_and_free_text_are_scrubbed() -> None:
    event = redact_secrets(
        None,
        "info",
        {
            "event": "token call failed",
            "body": '{"access_token": "abc.def.ghi", "expires_in": "600"}',
            "headers": {"Authorization": "Bearer abc.def.ghi", "Accept": "application/json"},
            "url": "https://example.test/callback?code=XYZ123&state=s1",
            "items": [{"refresh_token": "r-1"}],
            "status_code": 400,
        },
    )
    rendered = json.dumps(event)
    for secret in ("abc.def.ghi", "XYZ123", "r-1"):
        assert secret not in rendered
    assert event["headers"]["Accept"] == "application/json"
    assert event["status_code"] == 400
    assert '"expires_in": "600"' in event["body"]


def test_long_bodies_are_truncated() -> None:
    event = redact_secrets(None, "info", {"event": "x", "body": "a" * 5000})
    assert len(event["body"]) < 600
    assert event["body"].endswith("more chars]")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer eyJhbGciOi.abc-def", "eyJhbGciOi.abc-def"),
        ("grant_type=refresh_token&refresh_token=rt-9&client_secret=cs-1", "rt-9"),
        ("grant_type=refresh_token&refresh_token=rt-9&client_secret=cs-1", "cs-1"),
        ('{"HashCode":"ABCDEF0123"}', "ABCDEF0123"),
    ],
)
def test_scrub_text(text: str, secret: str) -> None:
    assert secret not in scrub_text(text)


def test_structlog_and_stdlib_output_is_redacted_json(captured: io.StringIO) -> None:
    structlog.get_logger("connector.test").info("refreshed", refresh_token="rt-secret", connection_id=7)
    logging.getLogger("urllib3.test").warning("sent Authorization: Bearer at-secret to host")
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert [line["event"] for line in lines][0] == "refreshed"
    assert lines[0]["connection_id"] == 7 and lines[0]["level"] == "info"
    assert "at-secret" not in captured.getvalue() and "rt-secret" not in captured.getvalue()
    assert len(lines) == 2
