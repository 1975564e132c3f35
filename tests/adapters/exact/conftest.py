"""Fixtures for the Exact adapter tests: a settable clock, the sandbox on 127.0.0.1, tokens and an adapter.

Every HTTP exchange of the adapter's session is validated against our hand-made ``tests/specs/exact_handmade.yaml``
by a response hook (openapi-core 0.23.1); violations are collected and fail the test at teardown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from adapters.exact.client import ErrorCapBreaker
from adapters.exact.provider import ExactAdapter
from connector.http.session import ConnectionSession
from connector.settings import ExactConfig
from sandboxes.exact.app import create_app
from sandboxes.exact.state import ExactState
from sandboxes.runner import RunningServer, serve_in_thread
from tests.specs import load_spec

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLIENT_ID, CLIENT_SECRET = "exact-client-id", "exact-client-secret"
REDIRECT = "https://dunning.example/oauth/exact/callback"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(load_spec("exact_handmade.yaml"))


def validating_session(openapi: OpenAPI, violations: list[str]) -> requests.Session:
    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        request = RequestsOpenAPIRequest(response.request)
        try:
            openapi.validate_request(request)
            openapi.validate_response(request, RequestsOpenAPIResponse(response))
        except Exception as exc:  # openapi-core raises a family of errors; keep the first line
            violations.append(f"{response.request.method} {urlsplit(response.url).path}: {exc!r}"[:500])
        return response

    session = requests.Session()
    session.hooks["response"].append(hook)
    return session


@dataclass
class Exact:
    running: RunningServer
    state: ExactState
    clock: Clock
    openapi: OpenAPI
    violations: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.running.url

    def authorize(self) -> str:
        response = requests.get(
            f"{self.url}/api/oauth2/auth",
            allow_redirects=False,
            timeout=10,
            params={"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code", "state": "xyz"},
        )
        assert response.status_code == 302
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        assert query["state"] == ["xyz"]
        return query["code"][0]

    def token_call(self, **form: str) -> requests.Response:
        return requests.post(
            f"{self.url}/api/oauth2/token",
            timeout=10,
            data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form},
        )

    def connect(self) -> dict[str, str]:
        response = self.token_call(grant_type="authorization_code", code=self.authorize(), redirect_uri=REDIRECT)
        assert response.status_code == 200, response.text
        self.tokens = response.json()
        return self.tokens

    def session(self, **kwargs: Any) -> ConnectionSession:
        if not self.tokens:
            self.connect()
        return ConnectionSession(
            ExactAdapter,
            access_token=lambda: self.tokens["access_token"],
            session=validating_session(self.openapi, self.violations),
            sleep=lambda _s: None,
            clock=self.clock,
            **kwargs,
        )

    def adapter(self, breaker: ErrorCapBreaker | None = None, **config: Any) -> ExactAdapter:
        return ExactAdapter(
            self.session(),
            ExactConfig(base_url=self.url, **config),
            breaker=breaker or ErrorCapBreaker(clock=self.clock),
        )


def start(openapi: OpenAPI, clock: Clock, **options: Any) -> Exact:
    app = create_app(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock, **options)
    return Exact(serve_in_thread(app), app.extensions["sandbox"], clock, openapi)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def exact(openapi: OpenAPI, clock: Clock) -> Iterator[Exact]:
    world = start(openapi, clock, webhook_key="test-webhook-secret")
    yield world
    world.running.shutdown()
    assert world.violations == [], world.violations
