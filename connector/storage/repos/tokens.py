"""The OAuth tokens of each connection, for the token manager (``connector.auth.tokens``) alone.

Under the locked refresh: ``lock_connection`` takes a per-connection lock that lives exactly as long as the
caller's transaction, so it holds across threads, processes and machines. PostgreSQL takes
``pg_advisory_xact_lock`` on a stable 64-bit hash of the connection id (with a ``lock_timeout``); SQLite takes the
database write lock (transactions begin ``IMMEDIATE`` and a no-op write on the token row makes the lock explicit);
other dialects lock the token row ``FOR UPDATE``. Every later write is a compare-and-swap on ``version``, so a
concurrent refresh is never overwritten. These act per connection, not per organisation: the HTTP session asks
for a connection's token by the id it read from an organisation-scoped row; ``store_tokens`` checks the
organisation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from connector.model.api import EventType
from connector.storage import tables as t
from connector.storage.repos.hooks import emit_event
from connector.storage.repos.scope import scoped

DEFAULT_LOCK_TIMEOUT_SECONDS = 15
USABLE = ("active", "refreshing")


def advisory_key(connection_id: int) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` (the same in every process)."""
    digest = hashlib.blake2b(f"dunning:oauth:{connection_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_connection(session: Session, connection_id: int, timeout_seconds: int = DEFAULT_LOCK_TIMEOUT_SECONDS) -> None:
    """Block until this transaction holds the connection's token lock; released at COMMIT/ROLLBACK."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{int(timeout_seconds)}s'"))
        session.execute(select(func.pg_advisory_xact_lock(advisory_key(connection_id))))
    elif dialect == "sqlite":
        session.execute(
            update(t.OAuthToken)
            .where(t.OAuthToken.connection_id == connection_id)
            .values(version=t.OAuthToken.version)
            .execution_options(synchronize_session=False)
        )
    else:
        session.execute(
            select(t.OAuthToken.connection_id).where(t.OAuthToken.connection_id == connection_id).with_for_update()
        )


def token_connection(session: Session, connection_id: int) -> t.Connection | None:
    return session.get(t.Connection, connection_id)


def load_token(session: Session, connection_id: int) -> tuple[t.OAuthToken, str] | None:
    """The stored token row, read fresh from the database, with its connection's provider."""
    row = session.execute(
        select(t.OAuthToken, t.Connection.provider)
        .join(t.Connection, t.Connection.id == t.OAuthToken.connection_id)
        .where(t.OAuthToken.connection_id == connection_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


def store_tokens(session: Session, org_id: int, connection_id: int, values: Mapping[str, Any]) -> None:
    """The tokens of a completed authorisation: a new row, or the next version of the connection's row."""
    row = session.scalar(
        scoped(t.OAuthToken, org_id)
        .where(t.OAuthToken.connection_id == connection_id)
        .execution_options(populate_existing=True)
    )
    if row is None:
        session.add(t.OAuthToken(connection_id=connection_id, org_id=org_id, version=0, **values))
        return
    for name, value in values.items():
        setattr(row, name, value)
    row.version = row.version + 1


def idle_tokens(session: Session) -> list[tuple[int, str, datetime | None, datetime]]:
    """(connection id, provider, last refresh, last update) of every usable token of an active connection."""
    rows = session.execute(
        select(t.OAuthToken.connection_id, t.Connection.provider, t.OAuthToken.last_refresh_at, t.OAuthToken.updated_at)
        .join(t.Connection, t.Connection.id == t.OAuthToken.connection_id)
        .where(t.OAuthToken.status.in_(USABLE), t.Connection.status == "active")
        .order_by(t.OAuthToken.connection_id)
    ).all()
    return [(int(cid), str(provider), last, updated) for cid, provider, last, updated in rows]


def token_batch(session: Session, after_connection_id: int, limit: int) -> list[tuple[int, int, str]]:
    """(connection id, version, ciphertext) of the next ``limit`` token rows after ``after_connection_id``."""
    rows = session.execute(
        select(t.OAuthToken.connection_id, t.OAuthToken.version, t.OAuthToken.ciphertext)
        .where(t.OAuthToken.connection_id > after_connection_id)
        .order_by(t.OAuthToken.connection_id)
        .limit(limit)
    ).all()
    return [(int(cid), int(version), str(ciphertext)) for cid, version, ciphertext in rows]


def stored_ciphertexts(session: Session, limit: int = 1000) -> list[tuple[str, str]]:
    """(what it is, ciphertext) of up to ``limit`` stored secrets of the whole installation, tokens first, then the
    administrations' webhook secrets: what ``dunning doctor`` tries each configured key on."""
    tokens = session.execute(
        select(t.OAuthToken.connection_id, t.OAuthToken.ciphertext).order_by(t.OAuthToken.connection_id).limit(limit)
    ).all()
    found = [(f"tokens of connection {cid}", str(text)) for cid, text in tokens]
    secrets = session.execute(
        select(t.Administration.id, t.Administration.webhook_secret_ciphertext)
        .where(t.Administration.webhook_secret_ciphertext.is_not(None))
        .order_by(t.Administration.id)
        .limit(max(0, limit - len(found)))
    ).all()
    return found + [(f"webhook secret of administration {aid}", str(text)) for aid, text in secrets if text]


def swap_token(session: Session, connection_id: int, expected_version: int, **values: Any) -> bool:
    """Write ``values`` only if the row is still at ``expected_version`` (compare-and-swap); True when it was."""
    result = session.execute(
        update(t.OAuthToken)
        .where(t.OAuthToken.connection_id == connection_id, t.OAuthToken.version == expected_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def mark_token_needs_reauth(session: Session, connection_id: int, now: datetime) -> None:
    """The refresh token is dead: only the user can connect again; the connection's jobs stop."""
    before = session.execute(
        select(t.Connection.org_id, t.Connection.status).where(t.Connection.id == connection_id)
    ).first()
    session.execute(
        update(t.OAuthToken)
        .where(t.OAuthToken.connection_id == connection_id)
        .values(status="needs_reauth", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(t.Connection)
        .where(t.Connection.id == connection_id)
        .values(status="needs_reauth", parked_reason="re-authorisation required")
        .execution_options(synchronize_session=False)
    )
    if before is not None and before.status != "needs_reauth":  # once, when it happens
        emit_event(session, before.org_id, EventType.CONNECTION_NEEDS_REAUTH, {"connection_id": connection_id})
