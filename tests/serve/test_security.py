"""A web app safe to expose, through Flask's test client: the Host check and redirects built from
DUNNING_BASE_URL only, trusted proxies, security headers and cookie flags on every response, no inline script or
style, expired OAuth states purged, dead letters without an organisation shown to the operator
(docs/operations.md#exposing-the-web-app)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from pydantic import SecretStr

from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction, upgrade
from dashboard import create_app, security

TEMPLATES = Path(security.__file__).parent / "templates"
PUBLIC = "https://dunning.example.nl"


def _client(tmp_path: Path, base_url: str = "http://127.0.0.1:8000", **settings: object) -> FlaskClient:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    if not (tmp_path / "d.db").exists():
        upgrade(url)
    loaded = Settings(
        database_url=url,
        var_dir=tmp_path,
        secret_keys=[SecretStr(Fernet.generate_key().decode())],
        base_url=base_url,
        queue_immediate=True,
        moneybird={"client_id": "client-1"},
        **settings,  # type: ignore[arg-type]
    )
    return create_app(loaded).test_client()


@pytest.mark.parametrize(
    ("base_url", "host", "allowed"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://127.0.0.1:8000", "localhost:5000", True),  # any loopback name and port on a loopback base URL
        ("http://127.0.0.1:8000", "[::1]:8000", True),
        ("http://127.0.0.1:8000", "evil.example", False),  # DNS rebinding onto a loopback dashboard
        ("http://127.0.0.1:8000", "127.0.0.1.evil.example:8000", False),
        ("http://localhost:8000", "localhost", True),
        (PUBLIC, "dunning.example.nl", True),
        (PUBLIC, "dunning.example.nl:443", True),
        (PUBLIC, "DUNNING.example.nl", True),
        (PUBLIC, "dunning.example.nl:8443", False),
        (PUBLIC, "evil.example", False),
        (PUBLIC, "127.0.0.1", False),  # a public installation is not reached by its loopback address either
        (PUBLIC, "dunning.example.nl.evil.example", False),
        (PUBLIC, "", False),
        (PUBLIC, "dunning.example.nl:notaport", False),
        ("https://dunning.example.nl:8443", "dunning.example.nl:8443", True),
        ("https://dunning.example.nl:8443", "dunning.example.nl", False),
    ],
)
def test_which_hosts_are_served(base_url: str, host: str, allowed: bool) -> None:
    assert security.host_allowed(host, base_url) is allowed, f"Host {host!r} under base URL {base_url}"


@pytest.mark.parametrize(
    "path", ["/", "/dead-letters", "/connect/moneybird", "/api/v1/worklist", "/static/dashboard.css"]
)
def test_a_foreign_host_is_refused_everywhere(tmp_path: Path, path: str) -> None:
    client = _client(tmp_path, base_url=PUBLIC)
    refused = client.get(path, headers={"Host": "evil.example"})
    assert refused.status_code == 400, f"{path} served to Host evil.example: {refused.status_code}"
    assert "evil.example" not in refused.get_data(as_text=True), f"{path}: the refusal echoes the foreign host"
    webhook = client.post("/webhooks/moneybird", data=b"{}", headers={"Host": "evil.example"})
    assert webhook.status_code == 400, "a webhook to a foreign Host was accepted"
    served = client.get(path, headers={"Host": "dunning.example.nl"})
    assert served.status_code != 400, f"{path} refused under the configured host"


@pytest.mark.parametrize("proxies", [0, 1])
@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"Host": "127.0.0.1:8000", "X-Forwarded-Host": "evil.example"},
        {"Host": "127.0.0.1:8000", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
        {"Host": "localhost", "X-Forwarded-Host": "evil.example:443", "X-Forwarded-Port": "443"},
    ],
)
def test_the_oauth_redirect_follows_the_base_url_only(tmp_path: Path, proxies: int, headers: dict[str, str]) -> None:
    client = _client(tmp_path, trusted_proxies=proxies)
    response = client.get("/connect/moneybird", headers=headers)
    location = response.headers.get("Location", "")
    assert "evil.example" not in location, f"redirect follows a client header {headers}: {location}"
    assert "evil.example" not in response.get_data(as_text=True), f"the page echoes a client header {headers}"
    if response.status_code == 302:
        redirect_uri = parse_qs(urlsplit(location).query)["redirect_uri"][0]
        assert redirect_uri == "http://127.0.0.1:8000/oauth/moneybird/callback", f"redirect_uri {redirect_uri}"
    else:
        assert response.status_code == 400, f"neither refused nor redirected: {response.status_code}"


def test_forwarded_headers_count_only_from_trusted_proxies(tmp_path: Path) -> None:
    forwarded = {"Host": "127.0.0.1:8000", "X-Forwarded-Host": PUBLIC.removeprefix("https://")}
    trusting = _client(tmp_path, base_url=PUBLIC, trusted_proxies=1)
    assert trusting.get("/", headers=forwarded).status_code == 200, "one trusted proxy: its forwarded host counts"
    ignoring = _client(tmp_path, base_url=PUBLIC)
    assert ignoring.get("/", headers=forwarded).status_code == 400, "no trusted proxy: X-Forwarded-Host counted"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/tomorrow"),
        ("GET", "/dead-letters"),
        ("GET", "/no-such-page"),
        ("GET", "/connect/nowhere"),
        ("GET", "/oauth/moneybird/callback?error=access_denied"),
        ("GET", "/api/v1/worklist"),
        ("POST", "/webhooks/moneybird"),
        ("POST", "/dead-letters/replay"),
        ("GET", "/static/dashboard.css"),
    ],
)
def test_every_response_carries_the_security_headers(tmp_path: Path, method: str, path: str) -> None:
    response = _client(tmp_path).open(path, method=method, data=b"{}" if method == "POST" else None)
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, f"{method} {path}: CSP {csp!r}"
    assert "'unsafe-inline'" not in csp, f"{method} {path}: CSP allows inline code"
    assert "script-src 'self'" in csp, f"{method} {path}: CSP {csp!r}"
    assert response.headers.get("X-Frame-Options") == "DENY", f"{method} {path}: can be framed"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", f"{method} {path}"
    assert response.headers.get("Referrer-Policy") == "same-origin", f"{method} {path}"


def test_no_inline_script_or_style_in_the_templates() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)
    pages = [path for path in TEMPLATES.rglob("*.html") if "emails" not in path.parts]  # mail clients: no CSP
    found = {str(path.relative_to(TEMPLATES)): inline.findall(path.read_text()) for path in pages}
    assert found, "no templates found"
    assert not any(found.values()), f"inline script or style (the CSP blocks it): {found}"


@pytest.mark.parametrize(("base_url", "secure"), [("http://127.0.0.1:8000", False), (PUBLIC, True)])
def test_cookie_flags(tmp_path: Path, base_url: str, secure: bool) -> None:
    client = _client(tmp_path, base_url=base_url)
    host = urlsplit(base_url).netloc
    response = client.get("/dead-letters?lang=en", headers={"Host": host})
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"lang", "session"}, f"cookies set: {sorted(cookies)}"
    for name, cookie in cookies.items():
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert "httponly" in flags, f"{name} cookie readable by scripts: {cookie}"
        assert "samesite=lax" in flags, f"{name} cookie without SameSite=Lax: {cookie}"
        assert ("secure" in flags) is secure, f"{name} cookie Secure flag wrong under {base_url}: {cookie}"
    hsts = response.headers.get("Strict-Transport-Security")
    assert bool(hsts) is secure, f"HSTS under {base_url}: {hsts}"


def test_expired_oauth_states_are_purged_when_a_new_one_starts(tmp_path: Path) -> None:
    client = _client(tmp_path)
    rt = client.application.extensions["dunning"].runtime
    org_id = client.application.extensions["dunning"].org_id
    with transaction(rt.sessions) as s:
        for name, age in (("stale", timedelta(hours=1)), ("fresh", timedelta(minutes=-5))):
            repos.add_oauth_state(
                s, org_id, name, provider="moneybird", code_verifier=None, redirect_uri="x", expires_at=rt.clock() - age
            )
    assert client.get("/connect/moneybird").status_code == 302, "connect did not redirect"
    with rt.sessions() as s:
        left = {name for name in ("stale", "fresh") if repos.get_oauth_state(s, name) is not None}
    assert left == {"fresh"}, f"states left besides the new one: {sorted(left)} (expected only the unexpired one)"


def test_dead_letters_without_an_organisation_are_shown_to_the_operator(tmp_path: Path) -> None:
    from tests.clirunner import Cli

    client = _client(tmp_path)
    rt = client.application.extensions["dunning"].runtime
    with transaction(rt.sessions) as s:
        repos.record_inbox_event(
            s,
            None,
            provider="xero",
            provider_tenant_id="tenant-nobody-has",
            dedupe_id="orphan-1",
            action="INVOICE.UPDATE",
            status="dead",
            last_error="no organisation has this tenant",
            raw=b"{}",
        )
    page = client.get("/dead-letters?lang=en").get_data(as_text=True)
    assert "tenant-nobody-has" in page, "the dashboard's failed-webhooks page leaves out the unrouted dead letter"
    cli = Cli(cwd=tmp_path, env={"DUNNING_DATABASE_URL": rt.settings.database_url, "DUNNING_VAR_DIR": str(tmp_path)})
    cli = cli.with_env(DUNNING_SECRET_KEYS=f'["{rt.settings.secret_keys[0].get_secret_value()}"]')
    listed = cli.ok("dead-letters", "--json").json()
    assert [row["tenant"] for row in listed if not row["organisation"]] == ["tenant-nobody-has"], f"listed {listed}"
    table = cli.ok("dead-letters").stdout
    assert "tenant-nobody-has" in table and "no organisation" in table, f"the CLI table leaves it out:\n{table}"
