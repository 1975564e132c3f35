"""The wired-up connector for one process: settings, clock, database, token manager, rate budget, adapters.

Built once by the CLI, the web app and the job consumer (``Runtime(settings)``) and passed down explicitly to
every step of the pipeline; ``adapter_for(connection)`` returns an adapter whose HTTP session injects the
connection's token, spends the shared rate budget and counts API calls. ``clock`` is the one clock of the
process (``connector.clock.utcnow`` unless a test or simulation passes its own), and ``today(org_id)`` the
organisation's calendar day by it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any, cast

from connector import clock
from connector.auth.crypto import TokenCipher
from connector.auth.tokens import TokenManager
from connector.clock import Clock, utcnow
from connector.http.budget import RateBudget
from connector.http.session import ConnectionSession
from connector.ports import AccountingAdapter, ApiSession
from connector.registry import ADAPTERS, adapter_class
from connector.settings import Settings
from connector.storage import repos, tables
from connector.storage.db import Sessions, make_engine, session_factory


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        budget_url: str | None = None,
        sleep: Callable[[float], None] | None = None,
    ):
        self.settings = settings
        self.clock = clock
        # a SimulatedClock's sleep (docs/operations.md#capacity): waits for a limit move the clock instead of passing;
        # the rate budget's buckets then count in that clock's time too
        self.sleep: Callable[[float], None] = sleep or time.sleep
        self.engine = make_engine(settings.database_url)
        self.sessions: Sessions = session_factory(self.engine, clock=lambda: self.clock())
        self.cipher = TokenCipher(settings.fernet_keys())
        self.tokens = TokenManager(
            self.sessions,
            self.cipher,
            clock,
            adapters=ADAPTERS,
            provider_config=self._config_by_provider,
            # docs/providers/exact.md#endpoints: token calls go to the connection's own site
            connection_config=self.provider_config,
        )
        self.budget = RateBudget(
            budget_url or settings.rate_limit_url, clock=clock, sleep=self.sleep, bucket_clock=sleep is not None
        )
        self.api_calls: Counter[str] = Counter()
        self._sessions_by_connection: dict[int, ConnectionSession] = {}

    def _config_by_provider(self, provider: str) -> Any:
        return self.settings.provider(provider)

    def webhook_secret_binding(self, provider: str, tenant: str) -> str:
        return f"webhook:{provider}:{tenant}"

    def provider_config(self, connection: tables.Connection) -> Any:
        config = self.settings.provider(connection.provider)
        if connection.site_url and hasattr(config, "base_url"):
            config = config.model_copy(update={"base_url": connection.site_url})  # Exact: country site
        return config

    def http_for(self, connection: tables.Connection) -> ConnectionSession:
        cached = self._sessions_by_connection.get(connection.id)
        if cached is not None:
            return cached
        connection_id = connection.id
        session = ConnectionSession(
            adapter_class(connection.provider),
            access_token=lambda: self.tokens.access_token(connection_id),
            on_unauthorized=lambda rejected: self.tokens.force_refresh(connection_id, rejected),
            budget=self.budget,
            connection_key=str(connection_id),
            timeout=self.settings.http_timeout_seconds,
            max_retry_wait=self.settings.max_retry_wait_seconds,
            sleep=self.sleep,
            clock=self.clock,
        )
        self._sessions_by_connection[connection.id] = session
        return session

    def adapter_for(self, connection: tables.Connection) -> AccountingAdapter:
        cls = adapter_class(connection.provider)
        return cls(cast(ApiSession, self.http_for(connection)), self.provider_config(connection), clock=self.clock)

    def today(self, org_id: int) -> date:
        """The calendar day it is now for an organisation, in its time zone, by this runtime's clock."""
        with self.sessions() as s:
            zone = repos.organisation_timezone(s, org_id)
        return clock.today(zone, clock=self.clock)

    def calls_for(self, connection_id: int) -> int:
        session = self._sessions_by_connection.get(connection_id)
        return session.calls if session is not None else 0

    def close(self) -> None:
        self.budget.close()
        self.engine.dispose()
