"""The Xero sandbox is checked through the client that talks to it: these tests use the Xero adapter tests'
fixtures (settable clock, the sandbox served on 127.0.0.1, OAuth tokens, a recording adapter)."""

from tests.adapters.xero.conftest import (  # noqa: F401 - fixtures, registered by being named here
    adapter,
    clock,
    config,
    make_adapter,
    recorder,
    sandbox,
    serve,
    server,
    tokens,
)
