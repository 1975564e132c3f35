"""A one-shot loopback HTTP server on 127.0.0.1 that catches the OAuth redirect for ``dunning connect``."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlsplit


def wait_for_callback(port: int, path: str, timeout: float = 600.0) -> dict[str, str]:
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

    server = HTTPServer(("127.0.0.1", port), Handler)
    server.timeout = timeout
    try:
        while not result:
            server.handle_request()
    finally:
        server.server_close()
    return result
