"""Runs the provider sandboxes (emulators) in-process for ``dunning demo``, ``dunning sandbox`` and the tests.

Each sandbox package exposes ``app.create_app(**options) -> flask.Flask`` and keeps its emulator state object in
``app.extensions["sandbox"]``; that object offers the same methods in every sandbox (``SandboxState``), so the
demo, the tests and the benchmarks drive any provider's books the same way. ``serve_in_thread`` serves any WSGI
app (a sandbox, our web app) on 127.0.0.1 in a daemon thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from sandboxes.exact.app import create_app as create_exact
from sandboxes.moneybird.app import create_app as create_moneybird
from sandboxes.xero.app import create_app as create_xero

SANDBOXES: dict[str, Callable[..., Flask]] = {
    "moneybird": create_moneybird,
    "xero": create_xero,
    "exact": create_exact,
}


class SandboxState(Protocol):
    """What every sandbox's state object offers the demo, the tests and the benchmarks."""

    request_log: list[tuple[str, str, int]]

    def tenant_ids(self) -> list[str]: ...

    def open_invoice_ids(self, tenant: str) -> list[str]: ...

    def create_invoice(
        self,
        tenant: str,
        debtor_id: str | None = None,
        total: Decimal = ...,
        due_date: date | None = None,
        consumer: bool = False,
    ) -> str: ...

    def register_payment(self, tenant: str, invoice_id: str, amount: Decimal, on: date | None = None) -> Any: ...

    def writes(self, tenant: str) -> list[dict[str, Any]]: ...

    def set_webhook_target(self, url: str, key: str) -> None: ...

    def deliver_webhooks(self) -> int: ...


@dataclass
class RunningServer:
    """A WSGI app served on 127.0.0.1 in a daemon thread."""

    url: str
    server: BaseWSGIServer
    thread: threading.Thread
    app: Any

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"wsgi-{server.server_port}", daemon=True)
    thread.start()
    return RunningServer(url=f"http://{host}:{server.server_port}", server=server, thread=thread, app=app)


def sandbox_factory(provider: str) -> Callable[..., Flask]:
    if provider not in SANDBOXES:
        raise KeyError(f"no sandbox for provider {provider!r}; choose one of {', '.join(SANDBOXES)}")
    return SANDBOXES[provider]


def state_of(app: Flask) -> SandboxState:
    """The emulator state object of a sandbox app."""
    state: SandboxState = app.extensions["sandbox"]
    return state


def start_sandbox(provider: str, port: int = 0, **options: Any) -> RunningServer:
    app = sandbox_factory(provider)(**options)
    return serve_in_thread(app, port=port)
