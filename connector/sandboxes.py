"""Runs the provider sandboxes (emulators) in-process for ``dunning demo``, ``dunning sandbox`` and the tests.

This is the only production module allowed to import ``adapters.<id>.sandbox``. Each sandbox module exposes
``create_app(**options) -> flask.Flask`` and keeps its emulator state object in
``app.extensions["sandbox"]``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

SANDBOXES: dict[str, str] = {
    "moneybird": "adapters.moneybird.sandbox",
    "xero": "adapters.xero.sandbox",
    "exact": "adapters.exact.sandbox",
}


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


def sandbox_factory(provider: str) -> Callable[..., Any]:
    if provider not in SANDBOXES:
        raise KeyError(f"no sandbox for provider {provider!r}; choose one of {', '.join(SANDBOXES)}")
    module = importlib.import_module(SANDBOXES[provider])
    factory: Callable[..., Any] = module.create_app
    return factory


def start_sandbox(provider: str, port: int = 0, **options: Any) -> RunningServer:
    app = sandbox_factory(provider)(**options)
    return serve_in_thread(app, port=port)
