"""Our side of a webhook in tests: a tiny app on 127.0.0.1 that keeps each POST's exact bytes and headers."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, Response, request

from sandboxes.runner import RunningServer, serve_in_thread


@dataclass
class Receiver:
    """Records every POST to ``url`` and answers 200; ``shutdown()`` when done."""

    server: RunningServer
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.server.url}/hook"

    def shutdown(self) -> None:
        self.server.shutdown()


def start_receiver() -> Receiver:
    app = Flask("test-receiver")
    received: list[tuple[bytes, dict[str, str]]] = []

    @app.post("/hook")
    def hook() -> Response:
        received.append((request.get_data(), dict(request.headers)))
        return Response(status=200)

    return Receiver(serve_in_thread(app), received)
