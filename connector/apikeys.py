"""API keys of an organisation: create (the key is shown once), list, revoke, and check a request's key.

The services the CLI (``dunning api-key``), the public API (``dashboard.api``) and the web app's key pages call;
next to ``connector.services``. A key reads ``dk_<prefix>_<secret>``: the prefix finds the row and is what lists
show, the whole key's SHA-256 is what is stored, compared in constant time. ``count_call`` is the per-key rate
limit, counted in the database so all gunicorn workers share it (docs/api.md#authentication).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.errors import ConnectorError, NotFound
from connector.model.api import ApiKeyRecord, ApiScope
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction

KEY_START = "dk_"
PREFIX_BYTES = 6  # 12 hex characters: the public part, unique per installation
SECRET_BYTES = 32  # 256 bits of entropy: a plain SHA-256 is enough, no slow hash needed


class InvalidKey(ConnectorError):
    """The request's key is missing, malformed, unknown or revoked (the API answers 401)."""


@dataclass(frozen=True)
class Caller:
    """Who an authorised request acts for."""

    org_id: int
    key_id: int
    prefix: str
    scope: ApiScope

    def may_write(self) -> bool:
        return self.scope is ApiScope.WRITE


@dataclass(frozen=True)
class CreatedKey:
    key: str  # shown once, never stored
    record: ApiKeyRecord


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(rt: Runtime, org_id: int, scope: ApiScope | str, name: str = "") -> CreatedKey:
    chosen = ApiScope(scope)
    prefix = secrets.token_hex(PREFIX_BYTES)
    key = f"{KEY_START}{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    with transaction(rt.sessions) as s:
        repos.add_api_key(s, org_id, name=name[:100], prefix=prefix, key_hash=_hash(key), scope=chosen)
        repos.audit(s, org_id, "api_key", f"API key {prefix} created ({chosen.value})")
        record = next(k for k in repos.api_keys(s, org_id) if k.prefix == prefix)
    return CreatedKey(key=key, record=record)


def list_keys(rt: Runtime, org_id: int) -> list[ApiKeyRecord]:
    with rt.sessions() as s:
        return repos.api_keys(s, org_id)


def revoke_key(rt: Runtime, org_id: int, prefix: str) -> ApiKeyRecord:
    wanted = prefix.removeprefix(KEY_START).split("_", 1)[0]
    with transaction(rt.sessions) as s:
        record = repos.revoke_api_key(s, org_id, wanted)
        if record is None:
            raise NotFound(f"no API key {prefix!r} here: `dunning api-key list` shows the prefixes")
        repos.audit(s, org_id, "api_key", f"API key {wanted} revoked")
    return record


def authenticate(rt: Runtime, key: str) -> Caller:
    """The organisation and scope of a presented key, or ``InvalidKey``."""
    prefix = key.removeprefix(KEY_START).split("_", 1)[0] if key.startswith(KEY_START) else ""
    with rt.sessions() as s:
        record = repos.find_api_key(s, prefix) if prefix else None
    expected = record.key_hash if record is not None else _hash("")
    matches = hmac.compare_digest(_hash(key).encode(), expected.encode())
    if record is None or not matches or record.revoked_at is not None:
        raise InvalidKey("missing, unknown or revoked API key")
    return Caller(org_id=record.org_id, key_id=record.id, prefix=record.prefix, scope=record.scope)


def count_call(rt: Runtime, caller: Caller, limit_per_minute: int) -> int:
    """Count this call against the key's minute; 0 when allowed, else the seconds until the next minute."""
    moment: datetime = rt.clock()
    window = moment.replace(second=0, microsecond=0)
    with transaction(rt.sessions) as s:
        calls = repos.count_api_call(s, caller.org_id, caller.key_id, window)
    if calls <= limit_per_minute:
        return 0
    return max(1, int((window + timedelta(minutes=1) - moment).total_seconds() + 0.999))
