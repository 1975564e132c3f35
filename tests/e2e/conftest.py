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
