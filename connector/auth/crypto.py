"""Token encryption at rest: ``MultiFernet`` over the settings' keys, each ciphertext bound to its row.

Sits between ``TokenManager`` and the ``oauth_tokens`` table. Fernet has no associated data, so the encrypted
JSON payload embeds the connection id and ``decrypt`` refuses a ciphertext whose embedded id differs from the
row it was read from: a ciphertext copied into another connection's row does not decrypt (docs/architecture.md#tokens,
docs/architecture.md#tenant-isolation). Keys come newest first; ``rotate`` re-encrypts under the newest key so the old
one can be dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from connector.errors import ConfigurationError, ConnectorError
from connector.model import TokenSet


class TokenDecryptError(ConnectorError):
    """The ciphertext is not ours (wrong key, tampered, or copied from another row)."""


class TokenCipher:
    """Encrypts token payloads bound to a connection id. Keys: url-safe base64 Fernet keys, newest first."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigurationError("DUNNING_SECRET_KEYS is empty: token encryption needs at least one Fernet key")
        try:
            self._fernets = [Fernet(key.encode() if isinstance(key, str) else key) for key in keys]
            self._fernet = MultiFernet(self._fernets)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(
                "DUNNING_SECRET_KEYS holds a value that is not a Fernet key: make keys with `dunning keygen`"
            ) from exc
        self._key_count = len(keys)

    @classmethod
    def from_settings(cls, settings: Any) -> TokenCipher:
        keys: list[str] = settings.fernet_keys()
        return cls(keys)

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def __repr__(self) -> str:
        return f"TokenCipher(keys={self._key_count})"

    # --- generic payloads -----------------------------------------------------------------------------------
    def encrypt(self, connection_id: int | str, payload: Mapping[str, Any]) -> str:
        document = {**payload, "cid": str(connection_id)}
        return self._fernet.encrypt(json.dumps(document, separators=(",", ":")).encode()).decode()

    def decrypt(self, connection_id: int | str, ciphertext: str) -> dict[str, Any]:
        try:
            document = json.loads(self._fernet.decrypt(ciphertext.encode()))
        except (InvalidToken, ValueError) as exc:
            raise TokenDecryptError(
                f"the stored secrets of connection {connection_id} cannot be read with the keys in "
                "DUNNING_SECRET_KEYS: keep the key they were stored with in the list, or connect again"
            ) from exc
        if not isinstance(document, dict) or document.get("cid") != str(connection_id):
            raise TokenDecryptError(f"token ciphertext does not belong to connection {connection_id}")
        document.pop("cid")
        return document

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the newest key (the payload, and so its bound connection id, is unchanged)."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise TokenDecryptError("token ciphertext cannot be rotated: no configured key decrypts it") from exc

    def coverage(self, ciphertexts: Sequence[str]) -> tuple[list[int], list[int]]:
        """(how many of ``ciphertexts`` each configured key, newest first, decrypts on its own; the positions of
        those no key decrypts): what ``dunning doctor`` reports per key (docs/operations.md#rotate-keys)."""
        counts = [0] * len(self._fernets)
        unreadable: list[int] = []
        for position, ciphertext in enumerate(ciphertexts):
            read = False
            for index, fernet in enumerate(self._fernets):
                try:
                    fernet.decrypt(ciphertext.encode())
                except (InvalidToken, ValueError):
                    continue
                counts[index] += 1
                read = True
            if not read:
                unreadable.append(position)
        return counts, unreadable

    # --- token sets -----------------------------------------------------------------------------------------
    def encrypt_tokens(self, connection_id: int | str, tokens: TokenSet) -> str:
        return self.encrypt(
            connection_id,
            {
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token,
                "expires_at": tokens.expires_at.isoformat() if tokens.expires_at else None,
                "scope": tokens.scope,
                "extra": dict(tokens.extra),
            },
        )

    def decrypt_tokens(self, connection_id: int | str, ciphertext: str) -> TokenSet:
        document = self.decrypt(connection_id, ciphertext)
        expires_at = document.get("expires_at")
        return TokenSet(
            access_token=document["access_token"],
            refresh_token=document.get("refresh_token"),
            expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
            scope=document.get("scope"),
            extra=document.get("extra") or {},
        )
