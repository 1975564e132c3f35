"""The per-connection lock ``TokenManager`` holds across a token refresh (engineering.md §3.5 step 2).

Sits inside the refresh transaction: the lock lives exactly as long as the caller's database transaction, so
it works across threads, processes and machines (a ``threading.Lock`` would not). PostgreSQL takes
``pg_advisory_xact_lock`` on a stable 64-bit hash of the connection id (with a ``lock_timeout``); SQLite takes
the database write lock: the storage engine already starts transactions with ``BEGIN IMMEDIATE`` and a no-op
write on the token row makes the write lock explicit whatever the begin mode. Other dialects lock the token row
with ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from connector.storage.tables import OAuthToken

DEFAULT_LOCK_TIMEOUT_SECONDS = 15


def advisory_key(connection_id: int) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` (same in every process)."""
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
            update(OAuthToken)
            .where(OAuthToken.connection_id == connection_id)
            .values(version=OAuthToken.version)
            .execution_options(synchronize_session=False)
        )
    else:
        session.execute(
            select(OAuthToken.connection_id).where(OAuthToken.connection_id == connection_id).with_for_update()
        )
