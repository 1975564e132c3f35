"""Storage on SQLite and PostgreSQL: migrations match the models, money round-trips exactly, rows stay scoped."""

from __future__ import annotations

import importlib
import inspect
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from connector import model, storage
from connector.errors import NotFound
from connector.model.outbox import OutboxAction, OutboxChannel
from connector.storage import repos
from connector.storage.db import alembic_config, make_engine
from connector.storage.tables import Base

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _invoice(ref: str, open_amount: str = "121.00", total: str = "121.00", currency: str = "EUR") -> model.Invoice:
    return model.Invoice(
        provider_ref=ref,
        number=f"2026-{ref}",
        debtor_ref="d1",
        invoice_date=date(2026, 10, 1),
        due_date=date(2026, 10, 31),
        currency=currency,
        total=Decimal(total),
        open_amount=Decimal(open_amount),
        status=model.InvoiceStatus.OPEN,
        provider_state="open",
        provider_version="1",
    )


def _org_with_admin(session: Session, name: str = "Org") -> tuple[int, int]:
    org = repos.create_organisation(session, name)
    conn = repos.create_connection(session, org, "moneybird")
    adm = repos.upsert_administration(
        session, org, conn.id, "moneybird", model.Tenant(provider_tenant_id="1", name="A")
    )
    return org, adm.id


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_then_upgrade(db_url: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(db_url), "base")
    eng = make_engine(db_url)
    with eng.connect() as conn:
        assert "invoices" not in eng.dialect.get_table_names(conn)
    eng.dispose()
    command.upgrade(alembic_config(db_url), "head")


def test_sqlite_pragmas(sqlite_url: str) -> None:
    eng = make_engine(sqlite_url)
    with eng.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    eng.dispose()


def test_upsert_is_idempotent_and_detects_changes(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        org, adm = _org_with_admin(s)
        assert repos.upsert_invoices(s, org, adm, [_invoice("1"), _invoice("2")], NOW) == 2
    with sessions.begin() as s:
        assert repos.upsert_invoices(s, org, adm, [_invoice("1"), _invoice("2")], NOW) == 0
        assert repos.upsert_invoices(s, org, adm, [_invoice("1", open_amount="21.00")], NOW) == 1
    with sessions() as s:
        rows = repos.get_invoices(s, org, adm)
        assert [r.open_minor for r in rows] == [2100, 12100]
        assert repos.known_versions(s, org, adm, "invoices", ["1", "2", "3"]) == {"1": "1", "2": "1"}


def test_rows_are_scoped_to_their_organisation(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        org_a, adm_a = _org_with_admin(s, "A")
        org_b, _adm_b = _org_with_admin(s, "B")
        repos.upsert_invoices(s, org_a, adm_a, [_invoice("1")], NOW)
    with sessions() as s:
        assert repos.get_invoices(s, org_b, adm_a) == []
        with pytest.raises(NotFound):
            repos.get_administration(s, org_b, adm_a)
        assert repos.counts(s, org_b, [adm_a])["invoices"] == 0


def test_outbox_idempotency_key_is_unique(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        org, adm = _org_with_admin(s)
        fields = dict(
            idempotency_key="k1",
            action=OutboxAction.REMINDER,
            debtor_ref="d1",
            invoice_refs=["1"],
            level=1,
            level_name="first",
            channel=OutboxChannel.PROVIDER,
            run_date=date(2026, 11, 24),
        )
        assert repos.add_outbox_item(s, org, adm, **fields) is True
        assert repos.add_outbox_item(s, org, adm, **fields) is False
        assert len(repos.outbox_items(s, org)) == 1


def test_inbox_dedupes(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        org, _ = _org_with_admin(s)
        first = repos.record_inbox_event(s, org, provider="moneybird", dedupe_id="x", raw=b"{}")
        again = repos.record_inbox_event(s, org, provider="moneybird", dedupe_id="x", raw=b"{}")
        assert first is not None and again is None


def test_naive_datetime_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(Exception, match="naive"), sessions.begin() as s:
        repos.create_connection(s, repos.create_organisation(s, "x"), "xero").last_sync_at = datetime(2026, 1, 1)  # noqa: DTZ001
        s.flush()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cents=st.integers(min_value=-(10**15), max_value=10**15), currency=st.sampled_from(["EUR", "JPY", "KWD"]))
def test_money_round_trips_exactly(sessions: sessionmaker[Session], cents: int, currency: str) -> None:
    money = model.Money.from_minor(cents, currency)
    with sessions.begin() as s:
        org, adm = _org_with_admin(s, f"m{cents}{currency}")
        inv = _invoice(f"r{cents}", open_amount=str(money.amount), total=str(money.amount), currency=currency)
        repos.upsert_invoices(s, org, adm, [inv], NOW)
    with sessions() as s:
        back = repos.invoice_row_to_model(repos.get_invoices(s, org, adm)[0])
        assert back.open_amount == money.amount and back.currency == currency


# functions that take a session but act before or across organisations, each for a reason
UNSCOPED = {
    "connector.storage.repos.organisations.create_organisation": "creates the scope itself",
    "connector.storage.repos.organisations.find_organisation": "finds the scope by its name",
    "connector.storage.repos.organisations.route_tenant": "webhook routing: which organisations hold a tenant",
    "connector.storage.repos.organisations.route_webhook_secrets": "webhook routing: the secrets to verify with",
    "connector.storage.repos.organisations.get_oauth_state": "an OAuth redirect names its organisation by state",
    "connector.storage.repos.organisations.list_organisations": "the command line and the periodic jobs choose here",
    "connector.storage.repos.organisations.rotate_webhook_secrets": "installation-wide: the installation's keys",
    "connector.storage.repos.portal.find_portal_code": "a short code typed from a letter names its organisation",
    "connector.storage.repos.tokens.lock_connection": "the token manager works per connection (see tokens.py)",
    "connector.storage.repos.tokens.token_connection": "the token manager works per connection",
    "connector.storage.repos.tokens.load_token": "the token manager works per connection",
    "connector.storage.repos.tokens.idle_tokens": "the keep-alive job looks at every connection",
    "connector.storage.repos.tokens.token_batch": "key rotation: installation-wide",
    "connector.storage.repos.tokens.stored_ciphertexts": "doctor: the installation's keys against its secrets",
    "connector.storage.repos.tokens.swap_token": "the token manager works per connection",
    "connector.storage.repos.tokens.mark_token_needs_reauth": "the token manager works per connection",
    "connector.storage.repos.organisations.active_connections": "the periodic sync works every connection",
    "connector.storage.repos.scope.now": "the clock the session stamps rows with",
    "connector.storage.repos.accounts.create_user": "a person exists before any organisation",
    "connector.storage.repos.accounts.find_user": "signing in: the person, before their organisation",
    "connector.storage.repos.accounts.get_user": "the session cookie or a signed link names the person",
    "connector.storage.repos.accounts.set_password_hash": "a person's password is theirs across organisations",
    "connector.storage.repos.accounts.mark_login": "a person's last login",
    "connector.storage.repos.accounts.count_users": "installation-wide: is there anyone who can sign in",
    "connector.storage.repos.accounts.memberships_of": "which organisations a person may enter",
    "connector.storage.repos.accounts.login_failures": "throttling counts before anyone is signed in",
    "connector.storage.repos.accounts.record_login_failure": "throttling counts before anyone is signed in",
    "connector.storage.repos.accounts.clear_login_failures": "throttling counts before anyone is signed in",
    "connector.storage.repos.apikeys.find_api_key": "an API call names its organisation by its key",
}
SESSION_FUNCTIONS = 170  # how many the walk must find: a module the walk missed would lower it


def _storage_modules() -> list[ModuleType]:
    """Every module of ``connector.storage`` (migrations aside), found on disk, not from a list."""
    root = Path(storage.__file__).parent
    names = sorted(
        ".".join(path.relative_to(root.parents[1]).with_suffix("").parts).removesuffix(".__init__")
        for path in root.rglob("*.py")
        if "migrations" not in path.relative_to(root).parts
    )
    return [importlib.import_module(name) for name in names]


def test_every_storage_function_is_scoped() -> None:
    """Every public storage function that takes a session takes ``org_id`` right after it (except UNSCOPED)."""
    checked: list[str] = []
    for module in _storage_modules():
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            params = list(inspect.signature(fn).parameters)
            if not params or params[0] != "session":
                continue
            qualified = f"{module.__name__}.{name}"
            checked.append(qualified)
            if qualified not in UNSCOPED:
                assert params[1:2] == ["org_id"], f"{qualified} is not scoped to an organisation"
    assert set(UNSCOPED) <= set(checked), f"stale exceptions: {sorted(set(UNSCOPED) - set(checked))}"
    assert len(checked) == SESSION_FUNCTIONS, f"walked {len(checked)} session functions, expected {SESSION_FUNCTIONS}"


def test_repos_exports_every_repository_function() -> None:
    """``repos`` is the namespace callers use: it carries every public function of its modules."""
    exported = set(repos.__all__)
    for module in _storage_modules():
        if module.__name__.startswith("connector.storage.repos."):
            public = {n for n, fn in inspect.getmembers(module, inspect.isfunction) if fn.__module__ == module.__name__}
            missing = {n for n in public if not n.startswith("_")} - exported - {"scoped", "where_scoped"}
            assert not missing, f"{module.__name__}: not in repos: {sorted(missing)}"


@pytest.mark.parametrize(
    ("zones", "expected"),
    [
        ((), "Europe/Amsterdam"),
        (("America/Curacao",), "America/Curacao"),
        (("Europe/London", "Asia/Tokyo"), "Europe/London"),
    ],
)
def test_an_organisation_counts_days_in_its_administrations_zone(
    sessions: sessionmaker[Session], zones: tuple[str, ...], expected: str
) -> None:
    with sessions.begin() as s:
        org = repos.create_organisation(s, "Org")
        conn = repos.create_connection(s, org, "moneybird")
        for n, zone in enumerate(zones):
            tenant = model.Tenant(provider_tenant_id=str(n), name=f"A{n}", timezone=zone)
            repos.upsert_administration(s, org, conn.id, "moneybird", tenant)
    with sessions() as s:
        assert repos.organisation_timezone(s, org) == expected


def test_webhook_secrets_of_every_organisation_are_re_encrypted(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        for name in ("A", "B"):
            org, adm = _org_with_admin(s, name)
            repos.get_administration(s, org, adm).webhook_secret_ciphertext = f"old-{name}"
        _org_with_admin(s, "no secret")
    with sessions.begin() as s:
        assert repos.rotate_webhook_secrets(s, lambda text: text.replace("old", "new")) == 2
    with sessions() as s:
        secrets = sorted(
            a.webhook_secret_ciphertext or "" for org in (1, 2, 3) for a in repos.list_administrations(s, org)
        )
    assert secrets == ["", "new-A", "new-B"]
