"""The ``dunning`` command line: a typer app (``connector.cli:app``) whose commands are a few lines each over
``connector.services``, ``connect``, ``queries``, ``decide``, ``debtors`` and ``reports``.

``shared`` holds the app, the organisation, today, the input parsers and the one error handler; ``output`` how
results are printed (tables for people, ``--json``/``--csv`` for machines). The commands live by theme:
``setup`` (keys, schema, connect, doctor), ``apikeys`` (API keys), ``webhooks`` (outbound webhooks),
``users`` (the web app's people), ``servers`` (demo, serve, worker, sandbox), ``operations`` (sync, run,
approvals), ``listings`` (administrations, invoices, debtors, outbox, why), ``reports``, ``debtors``, ``letters``
and ``arrangements``. Importing a theme module registers its commands.
"""

from __future__ import annotations

# imported in the order their commands appear in `dunning --help`
from connector.cli import servers, setup, users, apikeys, webhooks  # isort: skip
from connector.cli import operations, listings, reports, debtors, letters, arrangements  # isort: skip
from connector.cli.shared import app

__all__ = [
    "apikeys",
    "app",
    "arrangements",
    "debtors",
    "letters",
    "listings",
    "operations",
    "reports",
    "servers",
    "setup",
    "users",
    "webhooks",
]
