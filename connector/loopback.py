"""A one-shot loopback HTTP server on 127.0.0.1 that catches the OAuth redirect for ``dunning connect``.

``listen(port, path)`` binds the port at once, so the authorize URL can be shown only when the browser's return
is sure to find someone listening; ``Listener.wait()`` then serves until the redirect arrives.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlsplit


class Listener:
    def __init__(self, port: int, path: str, timeout: float) -> None:
        result: dict[str, str] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                if parts.path != path:
                    self.send_response(404)
                    self.end_headers()
                    return
                result.update(dict(parse_qsl(parts.query)))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"You can close this window and return to the terminal.\n")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence request logging
                return

        self.result = result
        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.server.timeout = timeout

    def wait(self) -> dict[str, str]:
        """Serve until the redirect arrived; its query parameters."""
        try:
            while not self.result:
                self.server.handle_request()
        finally:
            self.server.server_close()
        return self.result


def listen(port: int, path: str, timeout: float = 600.0) -> Listener:
    return Listener(port, path, timeout)


def wait_for_callback(port: int, path: str, timeout: float = 600.0) -> dict[str, str]:
    return listen(port, path, timeout).wait()
