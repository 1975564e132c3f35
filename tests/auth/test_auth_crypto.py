"""TokenCipher: round trip, row binding, key rotation with MultiFernet."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from connector.auth.crypto import TokenCipher, TokenDecryptError
from connector.errors import ConfigurationError
from connector.model import TokenSet

K_OLD, K_NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
TOKENS = TokenSet(
    access_token="at-secret", refresh_token="rt-secret", expires_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC), scope="a b"
)


def test_round_trip_and_ciphertext_hides_the_tokens() -> None:
    cipher = TokenCipher([K_NEW])
    ciphertext = cipher.encrypt_tokens(7, TOKENS)
    assert "at-secret" not in ciphertext and "rt-secret" not in ciphertext
    assert cipher.decrypt_tokens(7, ciphertext) == TOKENS


@given(
    access=st.text(min_size=1, max_size=200),
    refresh=st.none() | st.text(max_size=200),
    connection_id=st.integers(min_value=1, max_value=2**62),
)
def test_round_trip_any_token(access: str, refresh: str | None, connection_id: int) -> None:
    cipher = TokenCipher([K_NEW])
    tokens = TokenSet(access_token=access, refresh_token=refresh)
    assert cipher.decrypt_tokens(connection_id, cipher.encrypt_tokens(connection_id, tokens)) == tokens


def test_ciphertext_copied_to_another_row_is_refused() -> None:
    cipher = TokenCipher([K_NEW])
    ciphertext = cipher.encrypt_tokens(1, TOKENS)
    with pytest.raises(TokenDecryptError):
        cipher.decrypt_tokens(2, ciphertext)
    with pytest.raises(TokenDecryptError):
        cipher.decrypt("1 ", ciphertext)


def test_tampered_or_foreign_ciphertext_is_refused() -> None:
    ciphertext = TokenCipher([K_NEW]).encrypt_tokens(1, TOKENS)
    with pytest.raises(TokenDecryptError):
        TokenCipher([K_OLD]).decrypt_tokens(1, ciphertext)
    with pytest.raises(TokenDecryptError):
        TokenCipher([K_NEW]).decrypt_tokens(1, ciphertext[:-4] + "AAAA")


def test_rotation_then_the_old_key_alone_fails() -> None:
    old_ciphertext = TokenCipher([K_OLD]).encrypt_tokens(3, TOKENS)
    both = TokenCipher([K_NEW, K_OLD])
    assert both.decrypt_tokens(3, old_ciphertext) == TOKENS  # the rotated key list still reads old rows
    rotated = both.rotate(old_ciphertext)
    assert TokenCipher([K_NEW]).decrypt_tokens(3, rotated) == TOKENS
    with pytest.raises(TokenDecryptError):
        TokenCipher([K_OLD]).decrypt_tokens(3, rotated)
    with pytest.raises(TokenDecryptError):
        TokenCipher([K_NEW]).decrypt_tokens(3, old_ciphertext)
    with pytest.raises(TokenDecryptError):
        TokenCipher([K_NEW]).rotate(old_ciphertext)


@pytest.mark.parametrize("keys", [[], ["not-a-fernet-key"]])
def test_bad_key_configuration_is_a_configuration_error(keys: list[str]) -> None:
    with pytest.raises(ConfigurationError):
        TokenCipher(keys)


def test_repr_shows_no_key() -> None:
    assert K_NEW not in repr(TokenCipher([K_NEW])) and "rt-secret" not in repr(TOKENS)
