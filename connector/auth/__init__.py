"""OAuth glue and token custody: the authorization-code flow, encrypted token storage, refresh under a lock.

``oauth.py`` talks to token endpoints, ``crypto.py`` encrypts token sets bound to their row and ``tokens.py`` is
the ``TokenManager`` that ``ConnectionSession`` asks for tokens; the rows and the per-connection database lock it
refreshes under are storage's (``connector.storage.repos.tokens``).
"""

from __future__ import annotations

from connector.auth.crypto import TokenCipher, TokenDecryptError
from connector.auth.oauth import (
    RefreshTooEarly,
    authorize_url,
    exchange_code,
    new_pkce_pair,
    new_state,
    refresh_tokens,
)
from connector.auth.tokens import TokenManager

__all__ = [
    "RefreshTooEarly",
    "TokenCipher",
    "TokenDecryptError",
    "TokenManager",
    "authorize_url",
    "exchange_code",
    "new_pkce_pair",
    "new_state",
    "refresh_tokens",
]
