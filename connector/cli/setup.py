"""Setting up and checking an installation: ``keygen``, ``db upgrade``, ``connect``, ``doctor``, ``rotate-keys``.

Commands over ``connector.connect`` and ``connector.services``, ``connector.storage`` (schema, key rotation) and
the settings; ``doctor`` only reads: it reports what is wrong and what to do, and creates nothing.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from connector.cli import output
from connector.cli.shared import FAILURE, Org, app, fail, runtime, settings
from connector.settings import Settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db", rich_help_panel="Setting up")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the latest schema."""
    from connector.storage.db import upgrade

    upgrade(settings().database_url)
    output.say("database is up to date")


@app.command(rich_help_panel="Setting up")
def keygen() -> None:
    """Print a new encryption key for DUNNING_SECRET_KEYS."""
    from connector.auth.crypto import TokenCipher

    sys.stdout.write(TokenCipher.generate_key() + "\n")


@app.command(rich_help_panel="Setting up")
def connect(
    provider: Annotated[str, typer.Argument(help="moneybird, xero or exact.")],
    port: Annotated[int, typer.Option(help="Loopback port the browser returns to.")] = 8765,
    org: Org = None,
) -> None:
    """Print the authorize URL and complete the connection when the browser returns to 127.0.0.1:PORT."""
    from connector import services
    from connector.connect import complete_connect, start_connect
    from connector.loopback import listen
    from connector.registry import ADAPTERS

    if provider not in ADAPTERS:
        fail(f"unknown provider {provider!r}", f"choose one of {', '.join(sorted(ADAPTERS))}")
    rt = runtime()
    name = org or rt.settings.org
    # connecting is how an organisation starts: a name not seen before is created, and the first one is "default"
    org_id = (
        services.ensure_organisation(rt, name)
        if name
        else services.choose_organisation(rt, None, create_if_none="default")
    )
    path = f"/oauth/{provider}/callback"
    try:
        listener = listen(port, path)  # listening before the URL is shown: a quick browser finds us
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port} for the browser's return ({exc.strerror})", "try another --port")
    sys.stdout.write(start_connect(rt, org_id, provider, f"http://127.0.0.1:{port}{path}") + "\n")
    sys.stdout.flush()
    params = listener.wait()
    if "error" in params or "code" not in params:
        reason = params.get("error_description") or params.get("error") or "no code"
        fail(f"connecting failed: {reason}", "run the command again", code=FAILURE)
    connected = complete_connect(rt, provider, params["code"], params["state"], expected_org=org_id)
    output.say(f"connected: {connected.administrations} administration(s), {connected.webhooks} webhook(s)")


def _safe_url(url: str) -> str:
    from connector.storage.db import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a database URL (e.g. redis://): drop what could be a password
        return url.split("@")[-1]


def _keys(loaded: Settings) -> str:
    from connector.auth.crypto import TokenCipher

    keys = loaded.fernet_keys()
    TokenCipher(keys)  # each one a usable key, or a ConfigurationError saying which setting is wrong
    count = len(keys)
    return f"{count} key(s) from {loaded.demo_key_file} (the demo's)" if loaded.uses_demo_key() else f"{count} key(s)"


def _rules(loaded: Settings) -> dict[str, str]:
    """The policies and the statutory interest table, loaded as a run would load them."""
    from connector.channels.context import MessageKind
    from connector.errors import ConnectorError
    from connector.rules.interest import load_rate_table
    from connector.rules.loader import load_policies

    checks: dict[str, str] = {}
    try:
        policies = load_policies(loaded.policies_dir, templates={kind.value for kind in MessageKind})
        checks["policies"] = f"{', '.join(sorted(policies))} from {loaded.policies_dir}"
    except ConnectorError as exc:
        checks["policies_error"] = str(exc)
    try:
        table = load_rate_table(loaded.interest_rates_file)
        checks["interest_rates"] = f"{len(table.rates)} rate(s) since {table.rates[0].from_date} from "
        checks["interest_rates"] += str(loaded.interest_rates_file)
    except ConnectorError as exc:
        checks["interest_rates_error"] = str(exc)
    return checks


def _connections(loaded: Settings, org: str | None) -> tuple[dict[str, Any], bool]:
    """The database (reachable, migrations current), every key against the stored secrets, the organisations and
    their connections; (checks, healthy). Opens the database only to read (docs/operations.md#rotate-keys)."""
    from connector import queries
    from connector.cli.shared import CliError, explain
    from connector.storage.db import SQLAlchemyError, migration_status, ping

    checks: dict[str, Any] = {}
    try:
        rt = runtime(loaded, reads_only=True)
    except CliError as exc:
        checks["database_error"] = f"{exc.message}: {exc.hint}" if exc.hint else exc.message
        return checks, False
    try:
        try:
            ping(rt.engine)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
            checks["database_error"] = f"database unreachable ({reason}): start it or fix DUNNING_DATABASE_URL"
            return checks, False
        current, head = migration_status(rt.engine)
        if current != head:
            at = f"at {current}" if current else "without any schema"
            checks["migrations_error"] = f"the database is {at}, this version needs {head}: run `dunning db upgrade`"
            return checks, False
        checks["migrations"] = f"current ({head})"
        checks["key_checks"], keys_healthy = _key_checks(rt)
        checks["organisations"], checks["connections"] = queries.connection_health(rt, org)
    except SQLAlchemyError as exc:
        _, message, hint = explain(exc)
        checks["database_error"] = f"{message}; {hint}" if hint else message
        return checks, False
    finally:
        rt.close()
    if org is not None and org not in checks["organisations"]:
        checks["organisation_error"] = f"no organisation {org!r} here"
    healthy = (
        keys_healthy
        and "organisation_error" not in checks
        and all(c["status"] == "active" for c in checks["connections"])
    )
    return checks, healthy


def _key_checks(rt: Any) -> tuple[list[dict[str, Any]], bool]:
    """Each configured key tried alone on the stored secrets: one line per key, and one per secret no key reads."""
    from connector.storage import repos

    with rt.sessions() as s:
        stored = repos.stored_ciphertexts(s)
    counts, unreadable = rt.cipher.coverage([ciphertext for _, ciphertext in stored])
    total = len(stored)
    lines: list[dict[str, Any]] = []
    for index, count in enumerate(counts):
        if not total:
            note = "nothing stored yet to try it on"
        elif index == 0 and count == total:
            note = "reads every stored secret"
        elif index == 0:
            note = "run `dunning rotate-keys` so the newest key reads every stored secret"
        elif count == 0:
            note = "reads none: drop it once every process has the newest key"
        else:
            note = "still needed: run `dunning rotate-keys`, then drop it"
        name = f"key {index + 1} of {len(counts)}" + (" (newest)" if index == 0 else "")
        lines.append({"key": name, "decrypts": count, "stored": total, "note": note})
    for position in unreadable:
        what = stored[position][0]
        lines.append(
            {
                "key": "no key",
                "decrypts": 0,
                "stored": total,
                "note": f"{what}: no configured key decrypts it; add the key it was stored with to "
                "DUNNING_SECRET_KEYS, or connect again",
            }
        )
    return lines, not unreadable


@app.command(rich_help_panel="Setting up")
def doctor(org: Org = None, as_json: output.Json = False) -> None:
    """Check settings, keys, policies, the database, the queue and every connection; exit 1 when something needs
    fixing."""
    from connector.jobs import queue_problem

    loaded = settings()
    checks: dict[str, Any] = {"database": _safe_url(loaded.database_url), "queue": _safe_url(loaded.queue_url)}
    keys_usable = True
    try:
        checks["keys"] = _keys(loaded)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["keys"] = str(exc)
        keys_usable = False
    checks.update(_rules(loaded))
    problem = queue_problem(loaded)
    if problem:
        checks["queue_error"] = problem
    healthy = keys_usable and not any(key.endswith("_error") for key in checks)
    if keys_usable:
        found, database_healthy = _connections(loaded, org)
        checks.update(found)
        healthy = healthy and database_healthy
    output.emit(checks, as_json, lambda: _show_doctor(checks))
    if not healthy:
        raise typer.Exit(FAILURE)


def _show_doctor(checks: dict[str, Any]) -> None:
    labels = {
        "database": "database",
        "database_error": "database problem",
        "migrations": "migrations",
        "migrations_error": "migrations problem",
        "queue": "queue",
        "queue_error": "queue problem",
        "keys": "keys",
        "policies": "policies",
        "policies_error": "policy problem",
        "interest_rates": "interest rates",
        "interest_rates_error": "interest rate problem",
        "organisation_error": "organisation problem",
    }
    pairs = [(label, checks[key]) for key, label in labels.items() if key in checks]
    for line in checks.get("key_checks", []):
        pairs.append((line["key"], f"decrypts {line['decrypts']} of {line['stored']} stored secret(s): {line['note']}"))
    if "organisations" in checks:
        pairs.append(("organisations", ", ".join(checks["organisations"]) or "none yet (`dunning demo` or `connect`)"))
    output.print_fields(pairs, title="dunning doctor")
    if checks.get("connections"):
        connections = [
            {**c, "last_sync_at": output.moment(c["last_sync_at"]), "parked_until": output.moment(c["parked_until"])}
            for c in checks["connections"]
        ]
        output.print_table(
            [
                output.Column("organisation", "organisation"),
                output.Column("id", "id", right=True),
                output.Column("provider", "provider"),
                output.Column("status", "status"),
                output.Column("last_sync_at", "last sync"),
                output.Column("parked_until", "parked until"),
                output.Column("action", "to do"),
            ],
            connections,
            title="connections",
            show_all=True,
        )


@app.command("rotate-keys", rich_help_panel="Running it")
def rotate_keys() -> None:
    """Re-encrypt every stored secret with the newest key in DUNNING_SECRET_KEYS."""
    from connector.storage import repos
    from connector.storage.db import transaction

    rt = runtime()
    count = rt.tokens.rotate_keys()  # row by row, never over a token a refresh has just replaced
    with transaction(rt.sessions) as s:
        count += repos.rotate_webhook_secrets(s, rt.cipher.rotate)
    rt.close()
    output.say(f"re-encrypted {count} secret(s); you may now drop the old key from DUNNING_SECRET_KEYS")
