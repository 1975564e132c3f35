"""No secret in any log line: a full ``dunning demo`` and the error paths, at DEBUG, in real processes.

The CLI runs as a process of its own (``dunning demo --no-serve``, then a password and an API key made, a sync
whose access tokens the sandboxes no longer know (401, refresh), one whose refresh tokens are gone too (401,
re-authorisation needed), ``doctor`` with a key that decrypts nothing and a database URL carrying a password that
cannot be reached), and ``dunning serve`` under gunicorn answers API calls with a good and a bad key, a login, a
webhook subscription, deliveries with bad signatures to the three receivers and OAuth callbacks with an error or an
unknown state. Every line they log (stderr) is then searched for every secret of the installation, collected from
where it lives, so the test fails the day one is logged: the sandboxes' issued codes and tokens (their saved
state), the tokens and webhook secrets stored in the database (decrypted with the demo's key), the key itself, the
demo's client secret and webhook key, the passwords, the API key, the subscription's signing secret and the
``Authorization`` header values sent (docs/operations.md#logs).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet

from connector.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, DEMO_SIZES, DEMO_WEBHOOK_KEY
from connector.demo import URL_SETTINGS as SANDBOX_URL_SETTINGS
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos
from sandboxes.runner import RunningServer, sandbox_factory, serve_in_thread

BIN = Path(sys.executable).parent
WEBHOOK_KEYS = {f"DUNNING_{p}__WEBHOOK_KEY": DEMO_WEBHOOK_KEY for p in ("XERO", "EXACT")}
PASSWORD = "owner-two-password-Zq8!"  # noqa: S105 - a test's own password, searched for in the logs
DB_PASSWORD = "db-password-Yk3Lm"  # noqa: S105 - in a database URL that cannot be reached
OAUTH_CODE = "oauth-code-sent-to-the-callback-Qw7"
SECRET_KEYS = ("token", "secret", "password", "key", "code")
# where each sandbox keeps what it issued: codes and tokens are the keys of these maps (sandboxes/*/state)
ISSUED = {"codes", "access_tokens", "refresh_tokens", "access", "refresh"}


@dataclass
class Logs:
    """What every process logged (its stderr), by what it was, and every secret in play, by what it is."""

    lines: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # value -> what it is

    def add_secret(self, value: Any, what: str) -> None:
        if isinstance(value, str) and len(value) >= 8:
            self.secrets.setdefault(value, what)


def _env(folder: Path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("DUNNING_")}
    return {**env, "DUNNING_LOG_LEVEL": "DEBUG", "DUNNING_VAR_DIR": str(folder / "var"), **extra}


def _dunning(
    logs: Logs,
    what: str,
    folder: Path,
    *args: str,
    stdin: str | None = None,
    shows_secret: bool = False,
    env: dict[str, str] | None = None,
) -> str:
    """Run ``dunning args`` as a process of its own; keep its stderr (the log) under ``what``, and its stdout too
    unless printing a secret there is its job (``shows_secret``: the demo's login, a new API key); return stdout."""
    done = subprocess.run(  # noqa: S603 - our own command line
        [str(BIN / "dunning"), *args],
        cwd=folder,
        env=_env(folder, **(env or {})),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    logs.lines[what] = done.stderr
    if not shows_secret:
        logs.lines[f"{what} (stdout)"] = done.stdout
    return done.stdout


def _walk(value: Any, logs: Logs, what: str, secret: bool = False) -> None:
    """Every string in a saved sandbox state or a decrypted secret that is a code, token, key or secret."""
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key).lower()
            if name in ISSUED and isinstance(item, dict):
                for issued in item:
                    logs.add_secret(issued, f"{what}: {name}")
            _walk(item, logs, what, secret=any(word in name for word in SECRET_KEYS))
    elif isinstance(value, list):
        for item in value:
            _walk(item, logs, what, secret)
    elif secret:
        logs.add_secret(value, what)


def _issued_by(provider: str, folder: Path, logs: Logs) -> dict[str, Any]:
    """A sandbox's saved state, every code and token it issued collected as a secret."""
    state: dict[str, Any] = json.loads((folder / "var" / "sandboxes" / f"{provider}.json").read_text())
    _walk(state, logs, f"{provider} sandbox")
    return state


def _sandboxes(folder: Path, logs: Logs, forget: tuple[str, ...] = ()) -> dict[str, RunningServer]:
    """The demo's three sandboxes started again from their saved state, first forgetting the issued ``forget``
    (``access``: every access token, so the next call is a 401; ``refresh``: the refresh tokens too)."""
    running = {}
    for provider in SANDBOX_URL_SETTINGS:
        path = folder / "var" / "sandboxes" / f"{provider}.json"
        state = _issued_by(provider, folder, logs)
        issued = state.get("oauth", state)
        for name in list(issued):
            if name in ISSUED and name.startswith(forget):
                issued[name] = {}
        path.write_text(json.dumps(state))
        app = sandbox_factory(provider)(
            client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, state_path=path, **DEMO_SIZES.get(provider, {})
        )
        running[provider] = serve_in_thread(app)
    return running


def _provider_env(running: dict[str, RunningServer]) -> dict[str, str]:
    env: dict[str, str] = {}
    for provider, server in running.items():
        upper = provider.upper()
        env |= {f"DUNNING_{upper}__{name.upper()}": server.url for name in SANDBOX_URL_SETTINGS[provider]}
        env |= {f"DUNNING_{upper}__CLIENT_ID": DEMO_CLIENT_ID, f"DUNNING_{upper}__CLIENT_SECRET": DEMO_CLIENT_SECRET}
        env[f"DUNNING_{upper}__WEBHOOK_KEY"] = DEMO_WEBHOOK_KEY
    return env


def _stop(running: dict[str, RunningServer]) -> None:
    for server in running.values():
        server.shutdown()


def _stored_secrets(folder: Path, key: str, logs: Logs) -> None:
    """The tokens and webhook secrets stored in the demo's database, decrypted with its key."""
    rt = Runtime(Settings(var_dir=folder / "var", secret_keys=[key]))
    with rt.sessions() as s:
        stored = repos.stored_ciphertexts(s, limit=10_000)
    rt.close()
    assert stored, "the demo stored no token: the search below would prove nothing"
    for what, ciphertext in stored:
        _walk(json.loads(Fernet(key.encode()).decrypt(ciphertext.encode())), logs, f"database: {what}", True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _serve_and_call(folder: Path, logs: Logs, api_key: str) -> None:
    """``dunning serve`` (gunicorn) at DEBUG, called the ways that touch a secret; its stderr kept as its log."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = folder / "serve.log"
    with log_file.open("w") as err:
        server = subprocess.Popen(  # noqa: S603 - our own command line
            [str(BIN / "dunning"), "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
            cwd=folder,
            env=_env(folder, DUNNING_BASE_URL=base, **WEBHOOK_KEYS),
            stdout=err,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(base, server)
        bearer = {"Authorization": f"Bearer {api_key}"}
        browser = requests.Session()
        token = re.search(r'name="csrf" value="([^"]+)"', browser.get(f"{base}/login", timeout=30).text)
        assert token, "the login page carries a CSRF token"
        csrf = token.group(1)
        logs.add_secret(f"{PASSWORD}-wrong", "a wrong password")
        wrong = f"{api_key[:-4]}zzzz"
        logs.add_secret(wrong, "a wrong API key sent as Authorization")
        calls: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", "/api/v1/debtors?limit=2", {"headers": bearer}),
            ("GET", "/api/v1/invoices", {"headers": {"Authorization": f"Bearer {wrong}"}}),
            ("POST", "/login", {"data": {"email": "owner2@demo.example", "password": PASSWORD, "csrf": csrf}}),
            (
                "POST",
                "/login",
                {"data": {"email": "owner2@demo.example", "password": f"{PASSWORD}-wrong", "csrf": csrf}},
            ),
            ("POST", "/webhooks/xero", {"data": b'{"events": []}', "headers": {"x-xero-signature": "bm90LWl0"}}),
            ("POST", "/webhooks/exact", {"data": b'{"Content": {}, "HashCode": "00FF"}'}),
            (
                "POST",
                "/webhooks/moneybird",
                {"json": {"state": "paid"}, "headers": {"Moneybird-Signature": "t=1,v1=ab"}},
            ),
            ("GET", "/oauth/moneybird/callback?error=access_denied&error_description=no&state=unknown", {}),
            ("GET", f"/oauth/exact/callback?code={OAUTH_CODE}&state=unknown", {}),
        ]
        for method, path, kwargs in calls:
            answer = browser.request(method, f"{base}{path}", timeout=30, allow_redirects=False, **kwargs)
            assert answer.status_code < 500, f"{method} {path}: {answer.status_code} {answer.text[:300]}"
        made = requests.post(
            f"{base}/api/v1/webhooks/subscriptions",
            json={"url": "https://hooks.example/in", "events": ["reminder.sent"]},
            headers=bearer,
            timeout=30,
        )
        if made.status_code == 201:
            logs.add_secret(made.json()["secret"], "webhook subscription's signing secret")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    logs.lines["dunning serve (gunicorn)"] = log_file.read_text()


def _wait_for(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "dunning serve exited at start: see serve.log"
        try:
            requests.get(f"{base}/login", timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.3)
    raise AssertionError("dunning serve did not answer within 60 s")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logs]:
    folder = tmp_path_factory.mktemp("secrets")
    found = Logs()
    _dunning(found, "dunning demo --no-serve", folder, "demo", "--no-serve", shows_secret=True)
    key = (folder / "var" / "demo-secret.key").read_text().strip()
    found.add_secret(key, "the demo's encryption key (DUNNING_SECRET_KEYS)")
    for value, what in [
        (DEMO_CLIENT_SECRET, "the demo's OAuth client secret"),
        (DEMO_WEBHOOK_KEY, "the demo's webhook key"),
        (DEMO_PASSWORD, "the demo owner's password"),
        (PASSWORD, "a password set with --password-stdin"),
        (DB_PASSWORD, "the password in DUNNING_DATABASE_URL"),
        (OAUTH_CODE, "an OAuth code sent to the callback"),
    ]:
        found.add_secret(value, what)
    _dunning(
        found, "user create", folder, "user", "create", "owner2@demo.example", "--role", "owner", "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    api_key = _dunning(found, "api-key create", folder, "api-key", "create", "--scope", "write", shows_secret=True)
    api_key = api_key.splitlines()[0]
    assert api_key.startswith("dk_"), f"api-key create printed {api_key!r}"
    found.add_secret(api_key, "an API key")
    for forget, what in [(("access",), "after a 401 (refresh)"), (("access", "refresh"), "refresh refused")]:
        running = _sandboxes(folder, found, forget)
        try:
            _dunning(found, f"sync {what}", folder, "sync", env=_provider_env(running))
            _dunning(found, f"run {what}", folder, "run", env=_provider_env(running))
        finally:
            _stop(running)
    _dunning(found, "doctor with a key that decrypts nothing", folder, "doctor",
             env={"DUNNING_SECRET_KEYS": json.dumps([Fernet.generate_key().decode()])})  # fmt: skip
    _dunning(found, "doctor on a database it cannot reach", folder, "doctor",
             env={"DUNNING_DATABASE_URL": f"postgresql+psycopg://dunning:{DB_PASSWORD}@127.0.0.1:9/none"})  # fmt: skip
    _serve_and_call(folder, found, api_key)
    for provider in SANDBOX_URL_SETTINGS:  # the tokens the syncs were issued last, from the state they saved
        _issued_by(provider, folder, found)
    _stored_secrets(folder, key, found)
    yield found


def test_the_processes_logged_at_debug(logs: Logs) -> None:
    """The search below means something only when there is a lot to search and the error paths ran."""
    counts = {what: len(text.splitlines()) for what, text in logs.lines.items()}
    assert counts["dunning demo --no-serve"] > 500, f"the demo logged little at DEBUG: {counts}"
    assert counts["dunning serve (gunicorn)"] > 10, f"gunicorn logged little at DEBUG: {counts}"
    assert len(logs.secrets) > 15, f"too few secrets collected to search for: {sorted(logs.secrets.values())}"
    ran = {
        "a refused refresh": "must be re-authorised" in logs.lines["sync refresh refused (stdout)"],
        "an unreachable database": "unreachable" in logs.lines["doctor on a database it cannot reach (stdout)"],
        "three bad signatures": logs.lines["dunning serve (gunicorn)"].count("webhook.rejected") == 3,
        "a refresh after a 401": "401" in logs.lines["sync after a 401 (refresh)"],
    }
    assert all(ran.values()), f"an error path did not run as meant: {ran}"


def test_no_secret_in_any_log_line(logs: Logs) -> None:
    leaks = [
        f"{source}: {what} in: {line.strip()[:300]}"
        for source, text in logs.lines.items()
        for line in text.splitlines()
        for value, what in logs.secrets.items()
        if value in line
    ]
    assert not leaks, f"{len(leaks)} log lines carry a secret:\n" + "\n".join(leaks[:30])
