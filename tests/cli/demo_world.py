"""Helpers for the tests that look at what ``dunning demo`` left behind (``tests/cli/conftest.py``)."""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connector.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_ORG, DEMO_SIZES
from connector.model.outbox import OutboxStatus
from connector.runtime import Runtime
from connector.storage import repos
from sandboxes.runner import start_sandbox
from tests.clirunner import Cli
from tests.dbs import clone_postgres

DICT_REPR = re.compile(r"\{'\w+': ")  # how a Python dict prints: never for people


def runtime_for(cli: Cli) -> Runtime:
    return Runtime(cli.settings())


@contextmanager
def copy_of(cli: Cli, folder: Path) -> Iterator[Cli]:
    """The demo's installation copied into ``folder`` (its ``var/``, and its PostgreSQL database in that pass of the
    suite) for a test that changes it: the other tests share the original."""
    shutil.copytree(cli.var_dir, folder / "var")
    url = cli.env.get("DUNNING_DATABASE_URL")
    if url is None:
        yield Cli(cwd=folder)
        return
    with clone_postgres(url) as copy:
        yield Cli(cwd=folder, env={**cli.env, "DUNNING_VAR_DIR": str(folder / "var"), "DUNNING_DATABASE_URL": copy})


def demo_org_id(rt: Runtime) -> int:
    with rt.sessions() as s:
        org_id = repos.find_organisation(s, DEMO_ORG)
    assert org_id is not None
    return org_id


def reminded_invoice(cli: Cli) -> tuple[str, str]:
    """(number, provider reference) of an invoice the demo reminded."""
    rt = runtime_for(cli)
    org_id = demo_org_id(rt)
    with rt.sessions() as s:
        item = repos.outbox_items(s, org_id, status=OutboxStatus.DONE)[0]
        [row] = repos.get_invoices(s, org_id, item.administration_id, [item.invoice_refs[0]])
    rt.close()
    assert row.number
    return row.number, row.provider_ref


def against(cli: Cli, moneybird_url: str) -> Cli:
    """The same folder, talking to a Moneybird sandbox started again from the demo's saved state."""
    return cli.with_env(
        DUNNING_MONEYBIRD__BASE_URL=moneybird_url,
        DUNNING_MONEYBIRD__CLIENT_ID=DEMO_CLIENT_ID,
        DUNNING_MONEYBIRD__CLIENT_SECRET=DEMO_CLIENT_SECRET,
    )


def restart_moneybird(cli: Cli) -> Any:
    return start_sandbox(
        "moneybird",
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        state_path=cli.var_dir / "sandboxes" / "moneybird.json",
        rate_limits=False,
        **DEMO_SIZES["moneybird"],
    )


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: connecting to it is refused
