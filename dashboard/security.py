"""What makes the web app safe to expose: the Host check, trusted proxies, security headers and cookie flags.

Wired by ``create_app`` before any blueprint sees a request (docs/operations.md#exposing-the-web-app). Every
external URL the app hands out (OAuth ``redirect_uri``, webhook URLs, links in e-mails) is built from
``DUNNING_BASE_URL``, never from the request; this module makes the request agree with it: a ``Host`` other than
the base URL's host gets 400 (a loopback base URL accepts every loopback name, so DNS rebinding cannot reach a
dashboard on 127.0.0.1), ``X-Forwarded-*`` headers count only from the number of proxies
``DUNNING_TRUSTED_PROXIES`` names, and every response carries a Content-Security-Policy without inline script,
frame denial, ``nosniff`` and a referrer policy. ``refuse_open_exposure`` is the check ``dunning serve`` runs
before it binds beyond loopback without a login. The accounts that replace the shared password keep using this
module for all of it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_babel import gettext
from werkzeug.exceptions import RequestTimeout
from werkzeug.middleware.proxy_fix import ProxyFix

from connector.settings import Settings

BODY_READ_SECONDS = 10.0  # a client that pauses longer while sending its body gets 408 and frees its thread
# no form-action: signing up posts a form that redirects to the accounting package's consent page
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def is_loopback(host: str) -> bool:
    """True for a name or address that never leaves this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _split_host(host: str) -> tuple[str, int | None]:
    """``example.nl:8443`` -> (``example.nl``, 8443); ``[::1]:80`` -> (``::1``, 80); a bad port gives None."""
    parts = urlsplit(f"//{host}")
    try:
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", None


def host_allowed(host: str, base_url: str) -> bool:
    """Whether a request's ``Host`` names the public base URL (any loopback name when the base URL is loopback)."""
    public = urlsplit(base_url)
    public_host = (public.hostname or "").lower()
    name, port = _split_host(host)
    if not name:
        return False
    if is_loopback(public_host):
        return is_loopback(name)  # a loopback dashboard under any local name and port, never a rebound DNS name
    default_port = 443 if public.scheme == "https" else 80
    try:
        public_port = public.port or default_port
    except ValueError:
        return False
    return name == public_host and (port or default_port) == public_port


def _settings() -> Settings:
    settings: Settings = current_app.extensions["dunning"].runtime.settings
    return settings


def check_host() -> Response | None:
    """Before every request: refuse a ``Host`` the configured base URL does not name (400, plain text)."""
    if host_allowed(request.host, _settings().base_url):
        return None
    text = gettext(
        "This address is not served here. Open the dashboard at the address its administrator gave you "
        "(DUNNING_BASE_URL)."
    )
    return Response(text + "\n", 400, mimetype="text/plain")


def add_headers(response: Response) -> Response:
    """After every request: the security headers (``setdefault``: a view that sets its own keeps it)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if urlsplit(_settings().base_url).scheme == "https":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def cookie_flags() -> dict[str, Any]:
    """The flags every cookie the app sets gets: HttpOnly, SameSite=Lax, Secure when the base URL is https."""
    return {"httponly": True, "samesite": "Lax", "secure": urlsplit(_settings().base_url).scheme == "https"}


class _TimedInput:
    """``wsgi.input`` whose reads give up after ``BODY_READ_SECONDS`` of silence: 408, never a held thread."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _guard(self, read: Callable[..., Any], *args: Any) -> Any:
        try:
            return read(*args)
        except TimeoutError:
            raise RequestTimeout("the request body stopped arriving") from None

    def read(self, *args: Any) -> bytes:
        data: bytes = self._guard(self._stream.read, *args)
        return data

    def readline(self, *args: Any) -> bytes:
        line: bytes = self._guard(self._stream.readline, *args)
        return line

    def readlines(self, *args: Any) -> list[bytes]:
        lines: list[bytes] = self._guard(self._stream.readlines, *args)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


class BodyReadTimeout:
    """WSGI middleware: under gunicorn, a timeout on the client's socket while the app reads the body (the
    headers are in by then; a connection that sends nothing never reaches a thread, see
    ``dashboard.gunicorn_conf``). Elsewhere (the demo's threaded server, tests) it changes nothing."""

    def __init__(self, app: Callable[..., Iterable[bytes]], seconds: float = BODY_READ_SECONDS) -> None:
        self.app, self.seconds = app, seconds

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        client = environ.get("gunicorn.socket")
        if client is not None and hasattr(client, "settimeout"):
            client.settimeout(self.seconds)
            environ["wsgi.input"] = _TimedInput(environ["wsgi.input"])
        return self.app(environ, start_response)


def secure(app: Flask, settings: Settings) -> None:
    """Apply all of the above to ``app``: proxies, session cookie flags, the Host check and the headers."""
    if settings.trusted_proxies > 0:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
    app.wsgi_app = BodyReadTimeout(app.wsgi_app)  # type: ignore[method-assign]
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = urlsplit(settings.base_url).scheme == "https"
    app.before_request(check_host)
    app.after_request(add_headers)


def refuse_open_exposure(host: str, *, has_accounts: bool) -> str | None:
    """Why not to serve on ``host``: None on loopback or once someone has an account (until then the dashboard is
    open to this machine), else a one-line reason saying what to do."""
    if is_loopback(host) or has_accounts:
        return None
    return (
        f"refusing to serve on {host}: nobody can log in yet; create an account first "
        "(`dunning user create EMAIL --role owner`) or serve on 127.0.0.1"
    )
