"""API keys: create, list, revoke, find by prefix, and count a key's calls in the current minute.

Used by ``connector.apikeys``. Only the SHA-256 of a key is stored; ``find_api_key`` is the one unscoped lookup
(a request names its organisation by its key). ``count_api_call`` increments the key's per-minute counter in one
statement, so every gunicorn worker shares the count through the database (docs/api.md#rate-limits).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from connector.model.api import ApiKeyRecord, ApiScope
from connector.storage.repos.scope import now, scoped, where_scoped
from connector.storage.tables_api import ApiKey


def _record(row: ApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        org_id=row.org_id,
        name=row.name,
        prefix=row.prefix,
        key_hash=row.key_hash,
        scope=ApiScope(row.scope),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def add_api_key(session: Session, org_id: int, *, name: str, prefix: str, key_hash: str, scope: ApiScope) -> int:
    row = ApiKey(
        org_id=org_id,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        scope=ApiScope(scope).value,
        created_at=now(session),
        window_count=0,
    )
    session.add(row)
    session.flush()
    return row.id


def api_keys(session: Session, org_id: int) -> list[ApiKeyRecord]:
    return [_record(r) for r in session.scalars(scoped(ApiKey, org_id).order_by(ApiKey.id))]


def revoke_api_key(session: Session, org_id: int, prefix: str) -> ApiKeyRecord | None:
    """Revoke the key with ``prefix`` (already revoked stays as it was); None when the organisation has none."""
    row = session.scalar(scoped(ApiKey, org_id).where(ApiKey.prefix == prefix))
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = now(session)
        session.flush()
    return _record(row)


def find_api_key(session: Session, prefix: str) -> ApiKeyRecord | None:
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    return _record(row) if row is not None else None


def count_api_call(session: Session, org_id: int, key_id: int, window_start: datetime) -> int:
    """Count one call in the minute starting ``window_start``; returns the calls of that minute so far."""
    result = session.execute(
        update(ApiKey)
        .where(*where_scoped(ApiKey, org_id), ApiKey.id == key_id)
        .values(
            window_count=case((ApiKey.window_start == window_start, ApiKey.window_count + 1), else_=1),
            window_start=window_start,
            last_used_at=now(session),
        )
        .returning(ApiKey.window_count)
    )
    count = result.scalar_one_or_none()
    return int(count or 0)
