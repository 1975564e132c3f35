"""Dashboard protection without a browser: optional password (HTTP Basic, constant time) and CSRF on every form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from pydantic import SecretStr

from connector.settings import Settings
from connector.storage.db import upgrade
from dashboard import create_app


def _client(tmp_path: Path, password: str = "") -> FlaskClient:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url,
        var_dir=tmp_path,
        secret_keys=[SecretStr(Fernet.generate_key().decode())],
        dashboard_password=SecretStr(password),
        queue_immediate=True,
    )
    return create_app(settings).test_client()


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[FlaskClient]:
    yield _client(tmp_path, password="s3cret-pass")


def test_password_is_required_when_set(guarded: FlaskClient) -> None:
    assert guarded.get("/").status_code == 401
    assert guarded.get("/", auth=("anyone", "wrong")).status_code == 401
    assert guarded.get("/", auth=("anyone", "s3cret-pass")).status_code == 200
    assert guarded.get("/oauth/moneybird/callback?error=access_denied").status_code == 400  # not behind the login
    assert guarded.post("/webhooks/moneybird", data=b"{}").status_code == 200  # provider probe, signed elsewhere


def test_posts_need_the_form_token(tmp_path: Path) -> None:
    client = _client(tmp_path)
    assert client.post("/dead-letters/replay").status_code == 400
    page = client.get("/dead-letters").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    assert client.post("/dead-letters/replay", data={"csrf": "forged"}).status_code == 400
    assert client.post("/dead-letters/replay", data={"csrf": token.group(1)}).status_code == 302
