"""One error taxonomy for the whole connector; adapters raise only these.

Tree::

    ConnectorError
    ├── ProviderError                 anything a provider API answered or failed to answer
    │   ├── TransientError            retry with backoff (5xx, timeouts, connection resets)
    │   │   ├── RateLimited           retry after ``until``; over the cap the job is rescheduled
    │   │   └── MalformedResponse     a 2xx whose body is not JSON (an HTML page, a cut-off body): retried
    │   ├── ReauthRequired            the grant is gone (revoked, invalid_grant): the user must reconnect
    │   ├── PermanentError            retrying will not help (4xx, validation); the job fails with the reason
    │   ├── NotFound                  the entity is gone at the provider
    │   ├── GarbageResponse           the provider answered something that is not what the contract says
    │   └── ValueTooLong              a provider's value does not fit the column that stores it
    ├── NotSupported                  the adapter lacks the capability
    ├── WebhookRejected               signature, timestamp or shape wrong (the receiver answers 401)
    ├── PolicyError                   an invalid policy file; names file, line and field
    └── ConfigurationError            settings missing or inconsistent; says which setting to set
"""

from __future__ import annotations

from datetime import datetime


class ConnectorError(Exception):
    """Base of every error the connector raises on purpose."""


class ProviderError(ConnectorError):
    def __init__(self, message: str, *, status: int | None = None, provider: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.provider = provider


class TransientError(ProviderError):
    """A failure that may succeed when tried again later."""


class RateLimited(TransientError):
    """The provider throttled us; ``until`` is when the budget resets (UTC), ``scope`` e.g. 'minute' or 'day'."""

    def __init__(
        self,
        message: str,
        *,
        until: datetime | None,
        scope: str = "minute",
        status: int | None = 429,
        provider: str | None = None,
    ) -> None:
        super().__init__(message, status=status, provider=provider)
        self.until = until
        self.scope = scope


class MalformedResponse(TransientError):
    """A provider answered 2xx with a body that is not JSON (a proxy's HTML page, a cut-off or garbled body).

    Retried like any transient failure (docs/architecture.md#retries-and-retry-after); the message names the provider
    and the endpoint, never the body's content beyond a short scrubbed excerpt."""


class ReauthRequired(ProviderError):
    """The connection's grant is no longer valid; the user must connect again."""


class PermanentError(ProviderError):
    """Retrying will not help."""


class NotFound(PermanentError):
    """The requested entity does not exist (any more) at the provider."""


class GarbageResponse(PermanentError):
    """The provider answered with something that does not match its contract; nothing is stored from it."""


class ValueTooLong(PermanentError):
    """A value a provider sent is longer than the column that stores it; names the field (nothing is stored)."""


class NotSupported(ConnectorError):
    """The adapter does not offer this capability."""


class WebhookRejected(ConnectorError):
    """A webhook failed verification (signature, timestamp, header shape)."""


class PolicyError(ConnectorError):
    """A policy file is invalid."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None):
        where = ", ".join(
            p for p in (file, f"line {line}" if line else None, f"field '{field}'" if field else None) if p
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.line = line
        self.field = field


class ConfigurationError(ConnectorError):
    """Settings are missing or inconsistent."""
