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


ROUTES = {  # the app's URLs: the blueprints (pages, oauth, api, webhooks) split the code, never the addresses
    ("/", "GET", "pages.index"),
    ("/tomorrow", "GET", "pages.tomorrow"),
    ("/administrations/<int:administration_id>/safe-mode", "POST", "pages.safe_mode"),
    ("/dead-letters", "GET", "pages.dead_letters"),
    ("/dead-letters/replay", "POST", "pages.replay"),
    ("/connect/<provider>", "GET", "oauth.connect"),
    ("/oauth/<provider>/callback", "GET", "oauth.callback"),
    ("/api/v1/administrations", "GET", "api.administrations"),
    ("/api/v1/worklist", "GET", "api.worklist"),
    ("/webhooks/<provider>", "POST", "webhooks.webhook"),
}


def test_every_url_and_who_serves_it(tmp_path: Path) -> None:
    app = _client(tmp_path).application
    served = {
        (rule.rule, method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    }
    assert served == ROUTES, f"added {sorted(served - ROUTES)}, gone {sorted(ROUTES - served)}"


@pytest.mark.parametrize(
    ("path", "guarded_status"),
    [("/", 401), ("/tomorrow", 401), ("/dead-letters", 401), ("/connect/moneybird", 401), ("/api/v1/worklist", 401)],
)
def test_what_the_login_covers(guarded: FlaskClient, path: str, guarded_status: int) -> None:
    response = guarded.get(path)
    assert response.status_code == guarded_status, path
    expected = "Basic" if not path.startswith("/api/") else None  # the API answers for its own bearer tokens
    assert response.headers.get("WWW-Authenticate", "").split(" ")[0] == (expected or ""), path
