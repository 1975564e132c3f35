"""Fixtures for the Moneybird sandbox tests: a settable clock, a seeded app, its state object and a token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sandboxes.moneybird.app import create_app
from sandboxes.moneybird.state import MoneybirdSandbox

START = datetime(2026, 3, 16, 10, 0, 0, tzinfo=UTC)  # a Monday, so week periods are easy to reason about


class SettableClock:
    """The sandbox's ``clock``: tests move it explicitly, never by wall time."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def make_app(clock: SettableClock) -> Iterator[Any]:
    apps: list[Flask] = []

    def build(**options: Any) -> Flask:
        options.setdefault("clock", clock)
        options.setdefault("invoices_per_administration", 120)
        app = create_app(**options)
        apps.append(app)
        return app

    yield build
    for app in apps:
        worker = app.extensions.get("sandbox_worker")
        if worker is not None:
            worker.stop()


@pytest.fixture
def app(make_app: Any) -> Flask:
    built: Flask = make_app()
    return built


@pytest.fixture
def state(app: Flask) -> MoneybirdSandbox:
    sandbox: MoneybirdSandbox = app.extensions["sandbox"]
    return sandbox


@pytest.fixture
def adm(state: MoneybirdSandbox) -> str:
    return state.tenant_ids()[0]


@pytest.fixture
def auth(state: MoneybirdSandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {state.issue_token('sales_invoices settings')['access_token']}"}


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
