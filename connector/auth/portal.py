"""The debtor portal's personal links: signed tokens and short codes, issued with every reminder and checked on use.

The outbox (``connector.outbox.deliver``) issues a fresh link for each e-mail and letter it sends; the portal page
(``dashboard.portal`` through ``connector.portal``) checks it. A token is ``<org>.<random>.<mac>``: 16 random
bytes and an HMAC-SHA256 over the organisation and the random part with a key derived from the installation's
secret keys (each configured key is tried, so a key rotation keeps links working), compared in constant time. Its
row (``portal_links``, only the SHA-256 of the random part) binds it to one debtor of one administration, gives its
end and records a revocation. Letters also print a short code (typed on ``/p``), stored as an HMAC too. Checking
a bad token costs no database lookup, so guessing gets nowhere; the page also counts failures per address
(docs/portal.md#links).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.storage import repos, tables
from connector.storage.db import Session

LINK_DAYS = 60  # a link works this long; every new reminder brings a fresh one
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: easy to read off a letter and type
CODE_LENGTH = 10  # about 49 bits
PORTAL_PATH = "/p/"


class LinkState(enum.StrEnum):
    OK = "ok"
    INVALID = "invalid"  # malformed, tampered, or not ours: nothing was looked up
    UNKNOWN = "unknown"  # well signed but no such link (deleted with its debtor)
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class IssuedLink:
    url: str
    token: str
    code: str | None
    expires_at: datetime


@dataclass(frozen=True)
class CheckedLink:
    state: LinkState
    link: tables.PortalLink | None = None


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"dunning-debtor-portal", "sha256").digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mac(secret: str, org_id: int, random_part: str) -> str:
    return _b64(hmac.new(_key(secret), f"portal|{org_id}|{random_part}".encode(), "sha256").digest()[:16])


def _lookup(random_part: str) -> str:
    return hashlib.sha256(random_part.encode()).hexdigest()


def code_hash(secret: str, code: str) -> str:
    return hmac.new(_key(secret), b"code|" + normalise_code(code).encode(), "sha256").hexdigest()


def normalise_code(code: str) -> str:
    """What the debtor typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def sign_token(keys: Sequence[str], org_id: int, outbox_key: str | None = None) -> tuple[str, str]:
    """A new token for ``org_id`` signed with the newest key, and the lookup hash its row stores. For a message
    (``outbox_key``) the 16 bytes are derived from the key and the message's idempotency key instead of drawn, so a
    resend of the same message after a crash carries the same link (docs/portal.md#links)."""
    raw = secrets.token_bytes(16) if outbox_key is None else _derived(keys[0], org_id, "link", outbox_key)[:16]
    random_part = _b64(raw)
    return f"{org_id}.{random_part}.{_mac(keys[0], org_id, random_part)}", _lookup(random_part)


def _derived(secret: str, org_id: int, purpose: str, outbox_key: str) -> bytes:
    return hmac.new(_key(secret), f"{purpose}|{org_id}|{outbox_key}".encode(), "sha256").digest()


def _code(secret: str, org_id: int, outbox_key: str | None) -> str:
    if outbox_key is None:
        return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    digest = _derived(secret, org_id, "code", outbox_key)
    return "".join(CODE_ALPHABET[byte % len(CODE_ALPHABET)] for byte in digest[:CODE_LENGTH])


def parse_token(keys: Sequence[str], token: str) -> tuple[int, str] | None:
    """(organisation, lookup hash) of a well-signed token; None for anything else (constant-time compare)."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 12 or not 16 <= len(parts[1]) <= 32:
        return None
    org_id, random_part, mac = int(parts[0]), parts[1], parts[2]
    valid = False
    for secret in keys:
        valid |= hmac.compare_digest(_mac(secret, org_id, random_part), mac)
    return (org_id, _lookup(random_part)) if valid else None


def issue_link(
    session: Session,
    adm: tables.Administration,
    debtor_ref: str,
    *,
    keys: Sequence[str],
    base_url: str,
    now: datetime,
    outbox_key: str | None = None,
    with_code: bool = False,
) -> IssuedLink:
    """Store and return a fresh link for one debtor; the URL is built from ``DUNNING_BASE_URL`` only. A message's
    link (``outbox_key``) is the same on every attempt at sending it: stored once, returned again while it works."""
    token, lookup = sign_token(keys, adm.org_id, outbox_key)
    code = _code(keys[0], adm.org_id, outbox_key) if with_code else None
    earlier = repos.find_portal_link(session, adm.org_id, lookup) if outbox_key is not None else None
    if earlier is not None and _state(earlier, now).state is LinkState.OK and earlier.debtor_ref == debtor_ref:
        shown = format_code(code) if code and earlier.code_hash == code_hash(keys[0], code) else None
        url = base_url.rstrip("/") + PORTAL_PATH + token
        return IssuedLink(url=url, token=token, code=shown, expires_at=earlier.expires_at)
    if earlier is not None:  # revoked or ended since the first attempt: this attempt brings a new one
        token, lookup = sign_token(keys, adm.org_id)
        code = _code(keys[0], adm.org_id, None) if with_code else None
    url = base_url.rstrip("/") + PORTAL_PATH + token
    expires_at = now + timedelta(days=LINK_DAYS)
    repos.create_portal_link(
        session,
        adm.org_id,
        adm.id,
        debtor_ref=debtor_ref,
        lookup=lookup,
        code_hash=code_hash(keys[0], code) if code else None,
        expires_at=expires_at,
        outbox_key=outbox_key,
    )
    return IssuedLink(url=url, token=token, code=format_code(code) if code else None, expires_at=expires_at)


def _state(link: tables.PortalLink | None, now: datetime) -> CheckedLink:
    if link is None:
        return CheckedLink(LinkState.UNKNOWN)
    if link.revoked_at is not None:
        return CheckedLink(LinkState.REVOKED, link)
    if link.expires_at <= now:
        return CheckedLink(LinkState.EXPIRED, link)
    return CheckedLink(LinkState.OK, link)


def check_token(session: Session, keys: Sequence[str], token: str, now: datetime) -> CheckedLink:
    """The link a token opens, and whether it still works."""
    parsed = parse_token(keys, token)
    if parsed is None:
        return CheckedLink(LinkState.INVALID)
    org_id, lookup = parsed
    return _state(repos.find_portal_link(session, org_id, lookup), now)


def check_code(session: Session, keys: Sequence[str], code: str, now: datetime) -> CheckedLink:
    """The link a short code from a letter opens, and whether it still works."""
    if len(normalise_code(code)) != CODE_LENGTH:
        return CheckedLink(LinkState.INVALID)
    for secret in keys:
        found = repos.find_portal_code(session, code_hash(secret, code))
        if found is not None:
            return _state(found, now)
    return CheckedLink(LinkState.UNKNOWN)
