"""Setting up: ``dunning keygen``, ``dunning db upgrade`` and ``dunning connect moneybird`` end to end.

``connect`` runs as a real process (``python -c 'from connector.cli import app; app()' connect ...``): it prints
the authorize URL on stdout and waits for the browser on its loopback port; the test plays the browser with
``requests`` against a Moneybird sandbox that consents automatically and redirects to that port.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect, text

from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos, tables
from connector.storage.db import alembic_config
from sandboxes.runner import start_sandbox
from tests.clirunner import Cli
from tests.dbs import installation_environment

ROOT = Path(__file__).resolve().parents[2]


def test_keygen_prints_a_fresh_fernet_key(cli: Cli) -> None:
    first, second = (cli.ok("keygen").stdout for _ in range(2))
    assert first.endswith("\n") and first.count("\n") == 1
    key = first.strip()
    token = Fernet(key.encode()).encrypt(b"refresh token")
    assert Fernet(key.encode()).decrypt(token) == b"refresh token"
    assert second.strip() != key


def test_keygen_output_works_as_dunning_secret_keys(cli: Cli) -> None:
    keys = json.dumps([cli.ok("keygen").stdout.strip(), cli.key])
    cli = cli.with_env(DUNNING_SECRET_KEYS=keys)
    cli.ok("db", "upgrade")
    checks = cli.json("doctor", "--json")
    assert checks["keys"] == "2 key(s)"
    assert checks["connections"] == []
    assert checks["organisations"] == []


@pytest.mark.sqlite_only
def test_doctor_without_a_database_says_what_to_do_and_creates_nothing(cli: Cli) -> None:
    result = cli("doctor", "--json")
    assert result.exit_code == 1, result.describe()
    checks = result.json()
    assert checks["keys"] == "1 key(s)"
    assert "no database here yet" in checks["database_error"], checks
    assert "dunning db upgrade" in checks["database_error"], checks
    assert not cli.var_dir.exists(), "doctor created var/"


def test_doctor_on_an_unmigrated_database_says_to_upgrade(cli: Cli) -> None:
    cli.var_dir.mkdir()
    (cli.var_dir / "dunning.db").touch()
    result = cli("doctor", "--json")
    assert result.exit_code == 1, result.describe()
    checks = result.json()
    assert "without any schema" in checks["migrations_error"], checks
    assert "dunning db upgrade" in checks["migrations_error"], checks
    assert "database_error" not in checks, "an empty database is reachable: only its schema is missing"
    shown = cli("doctor")
    assert shown.exit_code == 1, shown.describe()
    assert "migrations problem" in shown.stdout


def test_db_upgrade_creates_the_schema_at_head_and_is_idempotent(cli: Cli) -> None:
    database = cli.var_dir / "dunning.db"
    assert not database.exists()
    for _ in range(2):
        result = cli.ok("db", "upgrade")
        assert "database is up to date" in result.stderr
    url = cli.settings().database_url  # var/dunning.db, or PostgreSQL in that pass of the suite
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            versions = [v for (v,) in conn.execute(text("SELECT version_num FROM alembic_version"))]
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert versions == [head]
    assert {"organisations", "connections", "administrations", "invoices", "outbox", "inbox_events"} <= tables


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_connect_moneybird_through_the_loopback_redirect(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    sandbox = start_sandbox(
        "moneybird",
        client_id="cli-test-client",
        client_secret="cli-test-secret",
        invoices_per_administration=5,
        contacts_per_administration=3,
        rate_limits=False,
    )
    port = _free_port()
    env = {
        **os.environ,
        **cli.env,
        "DUNNING_MONEYBIRD__BASE_URL": sandbox.url,
        "DUNNING_MONEYBIRD__CLIENT_ID": "cli-test-client",
        "DUNNING_MONEYBIRD__CLIENT_SECRET": "cli-test-secret",
        "DUNNING_BASE_URL": sandbox.url,  # webhooks registered somewhere reachable; not exercised here
    }
    command = [sys.executable, "-c", "from connector.cli import app; app()", "connect", "moneybird"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        authorize = process.stdout.readline().strip()
        parts = urlsplit(authorize)
        query = parse_qs(parts.query)
        assert f"{parts.scheme}://{parts.netloc}" == sandbox.url and parts.path == "/oauth/authorize"
        assert query["client_id"] == ["cli-test-client"]
        assert query["redirect_uri"] == [f"http://127.0.0.1:{port}/oauth/moneybird/callback"]
        assert query["state"][0]
        # the "browser": the sandbox consents automatically and redirects to the command's loopback server
        page = requests.get(authorize, timeout=30)
        assert page.status_code == 200 and "return to the terminal" in page.text
        assert page.url.startswith(f"http://127.0.0.1:{port}/oauth/moneybird/callback?code=")
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        sandbox.shutdown()
    assert process.returncode == 0, stderr
    assert stdout == "", "the authorize URL is the only thing on stdout"
    tenants = sandbox.app.extensions["sandbox"].tenant_ids()
    assert f"connected: {len(tenants)} administration(s)" in stderr

    rt = Runtime(Settings(var_dir=cli.var_dir, secret_keys=[cli.key]), budget_url="memory://")
    try:
        with rt.sessions() as s:
            org_id = repos.find_organisation(s, "default")
            assert org_id is not None
            connections = repos.list_connections(s, org_id, "moneybird")
            administrations = repos.list_administrations(s, org_id)
            states = s.query(tables.OAuthState).count()
        assert [c.status for c in connections] == ["active"]
        assert sorted(a.provider_tenant_id for a in administrations) == sorted(tenants)
        assert states == 0, "the OAuth state is single use"
        assert rt.tokens.access_token(connections[0].id)  # stored encrypted, readable with the configured key
    finally:
        rt.close()


def test_connect_reports_a_refused_consent(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    sandbox = start_sandbox(
        "moneybird", client_id="cli-test-client", client_secret="cli-test-secret", auto_consent=False
    )
    port = _free_port()
    env = {
        **os.environ,
        **cli.env,
        "DUNNING_MONEYBIRD__BASE_URL": sandbox.url,
        "DUNNING_MONEYBIRD__CLIENT_ID": "cli-test-client",
        "DUNNING_MONEYBIRD__CLIENT_SECRET": "cli-test-secret",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from connector.cli import app; app()", "connect", "moneybird", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        authorize = process.stdout.readline().strip()
        consent = requests.get(authorize, timeout=30)
        assert "Toegang verlenen" in consent.text
        fields = dict(parse_qs(urlsplit(authorize).query))
        form = {k: v[0] for k, v in fields.items()} | {"decision": "deny"}
        requests.post(f"{sandbox.url}/oauth/authorize", data=form, timeout=30)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        sandbox.shutdown()
    assert process.returncode == 1
    assert stderr.splitlines() == ["error: connecting failed: access_denied", "run the command again"]


def test_the_console_is_quiet_unless_asked(cli: Cli) -> None:
    quiet = cli.ok("db", "upgrade")
    assert quiet.stderr == "database is up to date\n", quiet.stderr
    with installation_environment(cli.cwd / "other") as other:  # a second installation, PostgreSQL in that pass
        fresh = cli.with_env(DUNNING_VAR_DIR=str(cli.cwd / "other"), **other)
        chatty = fresh.ok("-v", "db", "upgrade")
    assert "Running upgrade" in chatty.stderr, "-v shows what the libraries (alembic) log"


@pytest.mark.postgres
def test_setting_up_on_postgresql(cli: Cli) -> None:
    """The same commands against PostgreSQL: schema, doctor, no organisation yet, and an unknown one."""
    from tests.dbs import fresh_postgres

    with fresh_postgres() as url:
        pg = cli.with_env(DUNNING_DATABASE_URL=url)
        pg.ok("db", "upgrade")
        checks = pg.json("doctor", "--json")
        assert checks["organisations"] == []
        assert checks["database"].startswith("postgresql+psycopg://postgres@127.0.0.1:5432/"), checks
        missing = pg("outbox")
        assert missing.exit_code == 2, missing.describe()
        assert "no organisation here yet" in missing.stderr
        assert not cli.var_dir.joinpath("dunning.db").exists(), "nothing made on the side"
