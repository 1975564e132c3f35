"""``dunning demo``: the whole flow against in-process provider sandboxes, with no configuration.

Starts each provider's sandbox and a local SMTP mailbox on free ports (state kept under ``var/`` so a second run
the same day sees the same administrations and what was written back), serves our web app (webhooks, OAuth
callback, dashboard), connects through the real OAuth flow over HTTP (skipped when the connection already
exists), syncs every administration, runs today's rules with safe mode off, drains the outbox (the package
sends where it can, our e-mail/letter channel where it cannot) and reports the counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from pydantic import SecretStr

from connector import accounts, decide, outbox, queries, services, sync
from connector.auth.crypto import TokenCipher
from connector.clock import SimulatedClock
from connector.debtors import daily_checks
from connector.errors import ConfigurationError
from connector.registry import ADAPTERS
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import upgrade
from sandboxes.mailbox import Mailbox, start_mailbox
from sandboxes.runner import SANDBOXES, RunningServer, sandbox_factory, serve_in_thread

DEMO_CLIENT_ID = "dunning-demo"
DEMO_CLIENT_SECRET = "dunning-demo-secret"  # noqa: S105 - the sandbox's own demo credentials
DEMO_WEBHOOK_KEY = "dunning-demo-webhook-key"
DEMO_ORG = "Demo accountancy"
DEMO_OWNER = "owner@demo.example"  # the demo's owner, printed by `dunning demo` with its password
DEMO_PASSWORD = "demo-owner-password"  # noqa: S105 - a demo on 127.0.0.1, printed for the person trying it
# sized so that connect + sync + today's reminders fit one Moneybird budget window (150 calls / 5 min)
DEMO_SIZES: dict[str, dict[str, Any]] = {
    "moneybird": {"invoices_per_administration": 100, "contacts_per_administration": 20}
}
URL_SETTINGS = {"moneybird": ("base_url",), "xero": ("login_url", "identity_url", "api_url"), "exact": ("base_url",)}


@dataclass
class Practice:
    """What sets a practice's demo apart: its organisation and owner, its sandboxes' books, its clock."""

    org: str
    owner: str
    password: str
    state_dir: str
    clock: SimulatedClock
    persist: bool = True  # keep the sandboxes' books under var/ (a benchmark's thousand clients need not)


@dataclass
class DemoRun:
    settings: Settings
    runtime: Runtime
    org_id: int
    web: RunningServer
    mailbox: Mailbox
    sandboxes: dict[str, RunningServer] = field(default_factory=dict)
    summary: dict[str, dict[str, int]] = field(default_factory=dict)
    owner: tuple[str, str] = (DEMO_OWNER, DEMO_PASSWORD)  # who connects the packages through the web app

    def shutdown(self) -> None:
        for server in [*self.sandboxes.values(), self.web]:
            server.shutdown()
        self.mailbox.stop()
        self.runtime.close()


def demo_settings(base: Settings) -> Settings:
    """Fill what the demo needs and the user did not set: an encryption key kept in var/, demo credentials."""
    keys = base.secret_keys
    if not keys:  # every later command run here finds this file the same way (Settings.fernet_keys)
        key_file = base.demo_key_file
        key_file.parent.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            key_file.write_text(TokenCipher.generate_key())
            key_file.chmod(0o600)
        keys = [SecretStr(key_file.read_text().strip())]
    return base.model_copy(update={"secret_keys": keys})


def _provider_settings(settings: Settings, provider: str, url: str) -> Settings:
    config = settings.provider(provider).model_copy(
        update={name: url for name in URL_SETTINGS[provider]}
        | {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": SecretStr(DEMO_CLIENT_SECRET),
            "webhook_key": SecretStr(DEMO_WEBHOOK_KEY),
        }
    )
    return settings.model_copy(update={provider: config})


def start(
    base: Settings,
    *,
    providers: list[str] | None = None,
    port: int = 0,
    options: dict[str, Any] | None = None,
    practice: Practice | None = None,
) -> DemoRun:
    """Sandboxes, mailbox, database and web app; ``practice``: an accounting practice's organisation, its own
    sandbox books and a simulated clock instead of the demo's (``connector.demo_practice``)."""
    settings = demo_settings(base)
    chosen = [p for p in (providers or list(SANDBOXES)) if p in ADAPTERS and p in SANDBOXES]
    state_dir = settings.var_dir / (practice.state_dir if practice else "sandboxes")
    state_dir.mkdir(parents=True, exist_ok=True)
    mailbox = start_mailbox(settings.var_dir / "mailbox")  # our own e-mail channel talks real SMTP to it
    # Moneybird e-mails the reminders it sends itself: the demo's sandbox into the same mailbox (docs/portal.md#links)
    mailing = {"moneybird": {"smtp_host": "127.0.0.1", "smtp_port": mailbox.port}} if not practice else {}
    sandboxes: dict[str, RunningServer] = {}
    for provider in chosen:
        app = sandbox_factory(provider)(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            state_path=state_dir / f"{provider}.json" if not practice or practice.persist else None,
            **{**DEMO_SIZES.get(provider, {}), **mailing.get(provider, {}), **(options or {}).get(provider, {})},
            **({"clock": practice.clock} if practice else {}),
        )
        sandboxes[provider] = serve_in_thread(app)
        settings = _provider_settings(settings, provider, sandboxes[provider].url)
    upgrade(settings.database_url)
    smtp = settings.smtp.model_copy(update={"host": "127.0.0.1", "port": mailbox.port, "enabled": True})
    settings = settings.model_copy(update={"smtp": smtp})
    from dashboard import create_app

    placeholder = settings.model_copy(update={"queue_immediate": True})
    clock = practice.clock if practice else None
    # the sandbox restarts with each demo, so does its window
    runtime = (
        Runtime(placeholder, budget_url="memory://", clock=clock, sleep=clock.sleep)
        if clock
        else Runtime(placeholder, budget_url="memory://")
    )
    if practice:
        org_id = services.ensure_organisation(runtime, practice.org, "practice")
        accounts.add_user(runtime, practice.owner, org_id, "owner", practice.password)
    else:
        org_id = services.ensure_organisation(runtime, DEMO_ORG)
        accounts.add_user(runtime, DEMO_OWNER, org_id, "owner", DEMO_PASSWORD)
    web_app = create_app(placeholder, runtime=runtime, org_id=org_id)
    try:
        web = serve_in_thread(web_app, port=port)
    except OSError:  # port taken: leave nothing running behind (the caller may retry on a free port)
        for server in sandboxes.values():
            server.shutdown()
        mailbox.stop()
        runtime.close()
        raise
    runtime.settings = settings.model_copy(update={"base_url": web.url, "queue_immediate": True})
    for provider, server in sandboxes.items():
        state = server.app.extensions["sandbox"]
        if hasattr(state, "set_webhook_target") and provider != "moneybird":
            state.set_webhook_target(f"{web.url}/webhooks/{provider}", DEMO_WEBHOOK_KEY)
    return DemoRun(
        settings=runtime.settings,
        runtime=runtime,
        org_id=org_id,
        web=web,
        mailbox=mailbox,
        sandboxes=sandboxes,
        owner=(practice.owner, practice.password) if practice else (DEMO_OWNER, DEMO_PASSWORD),
    )


def login(run: DemoRun, email: str = DEMO_OWNER, password: str = DEMO_PASSWORD) -> requests.Session:
    """An HTTP session of the web app logged in as the demo's owner (the login form, with its CSRF token)."""
    http = requests.Session()
    form = http.get(f"{run.web.url}/login", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    data = {"email": email, "password": password, "csrf": token.group(1) if token else ""}
    answer = http.post(f"{run.web.url}/login", data=data, timeout=30, allow_redirects=False)
    if answer.status_code != 302:
        raise ConfigurationError(f"the demo's owner could not log in to the web app (HTTP {answer.status_code})")
    return http


def connect(run: DemoRun, provider: str) -> int:
    """Reuse the stored connection, or connect through the real OAuth redirect flow over HTTP."""
    existing = services.existing_connection(run.runtime, run.org_id, provider)
    if existing is not None:
        return existing
    # the callback finds every administration and registers their webhooks: a practice's hundred take a while
    response = login(run, *run.owner).get(f"{run.web.url}/connect/{provider}", timeout=600, allow_redirects=True)
    if response.status_code != 200:
        raise RuntimeError(f"connecting {provider} failed ({response.status_code}): {response.text[:300]}")
    connection_id = services.existing_connection(run.runtime, run.org_id, provider)
    if connection_id is None:
        raise RuntimeError(f"connecting {provider} left no connection")
    return connection_id


JSON_COUNTS = (
    "administrations",
    "invoices_synced",
    "open_invoices",
    "payments",
    "api_calls",
    "decisions",
    "writebacks",
)


def run_provider(
    run: DemoRun,
    provider: str,
    today: Any,
    progress: Callable[[str, int], None] | None = None,
    stage: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Connect, sync, decide and send for one provider; the counts (``JSON_COUNTS`` and ``messages_sent``).
    ``progress(stream, records)`` follows the sync page by page, ``stage(step)`` names each step as it starts."""
    rt = run.runtime
    step = stage or (lambda _step: None)
    step("connecting")
    connection_id = connect(run, provider)
    before = rt.calls_for(connection_id)
    step("syncing")
    sync.sync_connection(rt, run.org_id, connection_id, progress=progress)
    with rt.sessions() as s:
        administrations = repos.list_administrations(s, run.org_id, connection_id)
    for adm in administrations:
        if adm.safe_mode:
            services.set_safe_mode(rt, run.org_id, adm.id, False)  # the demo sends to its own sandboxes
    step("deciding")
    ids = [a.id for a in administrations]
    sent_before = queries.messages_sent(rt, run.org_id, ids, today)
    daily_checks(rt, run.org_id, today)  # holds, promises and arrangements settled before the rules run
    policies, rates = decide.load_rules(rt)
    report = decide.RunReport(run_date=today, dry_run=False)
    with rt.sessions() as s:
        administrations = repos.list_administrations(s, run.org_id, connection_id)
    for adm in administrations:
        decide.run_administration(rt, adm, today, policies, rates, report=report)
    step("sending and writing back")
    drained = outbox.drain(rt, run.org_id)
    with rt.sessions() as s:
        counts = repos.counts(s, run.org_id, ids)
    return {
        "administrations": len(administrations),
        "invoices_synced": counts["invoices"],
        "open_invoices": counts["open_invoices"],
        "payments": counts["payments"],
        "api_calls": rt.calls_for(connection_id) - before,
        "decisions": report.decisions,
        "writebacks": drained.writebacks,
        "messages_sent": queries.messages_sent(rt, run.org_id, ids, today) - sent_before,
    }


def as_json(summary: dict[str, dict[str, int]]) -> str:
    """The counts per provider as one JSON object (the same keys on every run, for scripts)."""
    return json.dumps(
        {"providers": {name: {k: counts[k] for k in JSON_COUNTS} for name, counts in summary.items()}},
        sort_keys=True,
    )


def example_invoice(run: DemoRun) -> str | None:
    """The number of an invoice the demo reminded, for the user to ask ``dunning why`` about."""
    return queries.example_reminded_invoice(run.runtime, run.org_id)


def state_files(settings: Settings) -> list[Path]:
    return sorted((settings.var_dir / "sandboxes").glob("*.json"))
