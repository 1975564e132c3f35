"""Browser tests: the demo stack (Moneybird sandbox + our web app) on 127.0.0.1, driven by Debian's chromium.

pytest-playwright's browser fixtures are pointed at ``/usr/bin/chromium`` (docs/architecture.md#testing; ``playwright
install`` cannot download browsers here). pytest-socket does not get in the way: with ``--allow-hosts`` in the
addopts it only guards ``socket.connect`` to other hosts, and Playwright talks to its driver over pipes (the
asyncio self-pipe is a ``socketpair``, which never calls ``connect``); chromium is a separate process.
Only a bare ``--disable-socket`` (without ``--allow-hosts``) would block that ``socketpair`` ("A test tried to use
socket.socket"; it would block every 127.0.0.1 server of the suite too); Playwright itself then needs no more than
``--allow-unix-socket``, never a blanket ``enable_socket`` for these tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from connector import demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A Dutch-speaking browser by default (the product's users); tests that need English say so."""
    return {**browser_context_args, "locale": "nl-NL"}


def log_in(
    context: BrowserContext, stack: demo.DemoRun, email: str = demo.DEMO_OWNER, password: str = demo.DEMO_PASSWORD
) -> None:
    """Log the browser context in: a real login through ``/login``, its session cookie handed to the browser."""
    http = demo.login(stack, email, password)
    host = stack.web.url.split("//", 1)[1].split(":")[0]
    context.add_cookies([{"name": c.name, "value": c.value or "", "domain": host, "path": "/"} for c in http.cookies])


def logged_in_page(context: BrowserContext, request: pytest.FixtureRequest) -> Page:
    """A new page of ``context``, logged in as the demo's owner when the test runs a ``stack``."""
    if "stack" in request.fixturenames:
        log_in(context, request.getfixturevalue("stack"))
    return context.new_page()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Page:
    return logged_in_page(context, request)
