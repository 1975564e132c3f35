"""Accounts of the web app: people, their role per organisation, passwords, signed links and login throttling.

Beside ``connector.services`` in the layers: the web app's login and sign-up pages (``dashboard.auth``) and the
operator's ``dunning user`` commands call it; it changes state through ``connector.storage`` only. Passwords are
argon2 hashes (argon2-cffi). Invitation and reset links carry a signed, expiring token that names the person and a
fingerprint of their current password hash, so a link works once: setting a password changes the fingerprint.
Failed logins are counted per account and per address in the database, so the limit holds across gunicorn
workers (docs/architecture.md#accounts-and-roles).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from connector import clock
from connector.errors import ConnectorError
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction

ROLES = ("viewer", "controller", "owner")  # each may do what the ones before it may
KINDS = ("sme", "practice")
MIN_PASSWORD_LENGTH = 10
INVITATION_DAYS = 7
RESET_HOURS = 2
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 30
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password anyone has")  # same work for an unknown address as for a known one


class AccountError(ConnectorError):
    """A request about an account that cannot be done as asked; the message says what to do instead."""


class TooManyAttempts(AccountError):
    """Too many failed logins for the account or the address; try again after ``THROTTLE_WINDOW``."""


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    has_password: bool
    language: str | None


@dataclass(frozen=True)
class Membership:
    org_id: int
    org_name: str
    kind: str
    role: str
    administrations: tuple[int, ...] | None = None  # a client's own staff: only these; None: all of them

    @property
    def scope(self) -> int:
        """The organisation id every query of this member is scoped to, carrying their administrations."""
        return self.org_id if self.administrations is None else repos.OrgScope(self.org_id, self.administrations)


def _person(user: Any) -> Person:
    """A storage row of a user as plain values (never the password hash)."""
    return Person(int(user.id), str(user.email), user.password_hash is not None, user.language)


def check_email(email: str) -> str:
    address = email.strip().lower()
    if not EMAIL.match(address) or len(address) > 254:
        raise AccountError(f"{email!r} is not an e-mail address")
    return address


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: choose {', '.join(reversed(ROLES))}")
    return role


def has_users(rt: Runtime) -> bool:
    """Whether anyone can sign in; without, the web app serves only this machine (``dashboard.access``)."""
    with rt.sessions() as s:
        return repos.count_users(s) > 0


def add_user(
    rt: Runtime,
    email: str,
    org_id: int,
    role: str,
    password: str | None = None,
    *,
    administrations: Sequence[int | str] | None = None,
) -> Person:
    """Give the person with ``email`` ``role`` in the organisation, creating them when new (with ``password``, or
    without one until they take their invitation link). With ``administrations`` (ids or names) only those of the
    organisation's administrations: a client's own staff, as controller or viewer (docs/cockpit.md#client-access).
    The audit trail records who invited whom, with which role and to which administrations."""
    address, role = check_email(email), check_role(role)
    if password is not None:
        check_password(password)
    if administrations is not None and role == "owner":
        raise AccountError("an owner has the whole organisation: invite a client's staff as controller or viewer")
    with transaction(rt.sessions) as s:
        kept = None if administrations is None else _administration_ids(s, org_id, administrations)
        user = repos.find_user(s, address)
        user_id = user.id if user else repos.create_user(s, address, None)
        if password is not None:
            repos.set_password_hash(s, user_id, _hasher.hash(password))
        repos.set_membership(s, org_id, user_id, role, kept)
        data: dict[str, Any] = {"email": address, "role": role, "administrations": list(kept or ())}
        if kept is None:
            repos.audit(s, org_id, "member_invited", f"{address} invited as {role}", data=data)
        for administration_id in kept or ():
            message = f"{address} invited as {role} to administration {administration_id} only"
            repos.audit(s, org_id, "member_invited", message, administration_id=administration_id, data=data)
        return _person(repos.get_user(s, user_id))


def _administration_ids(session: Any, org_id: int, wanted: Sequence[int | str]) -> tuple[int, ...]:
    """The organisation's administrations named by id or by name; raises ``AccountError`` for one it has not."""
    mine = repos.list_administrations(session, int(org_id))
    found: list[int] = []
    for item in wanted:
        text = str(item).strip()
        by_id = [a.id for a in mine if str(a.id) == text]
        match = by_id or [a.id for a in mine if a.name.casefold() == text.casefold()]
        if len(match) != 1:
            raise AccountError(f"no single administration {text!r} in this organisation: name one by id or name")
        found.append(match[0])
    if not found:
        raise AccountError("name at least one administration")
    return tuple(sorted(set(found)))


def remove_member(rt: Runtime, org_id: int, user_id: int) -> None:
    with transaction(rt.sessions) as s:
        owners = [u.id for u, role, _kept in repos.members(s, org_id) if role == "owner"]
        if owners == [user_id]:
            raise AccountError("the organisation's last owner cannot be removed: make someone else owner first")
        repos.remove_membership(s, org_id, user_id)


def members(rt: Runtime, org_id: int) -> list[tuple[Person, str, tuple[int, ...] | None]]:
    """The organisation's people: each with their role and the administrations they are kept to (None: all)."""
    with rt.sessions() as s:
        return [(_person(user), role, kept) for user, role, kept in repos.members(s, org_id)]


def administration_names(rt: Runtime, org_id: int) -> list[tuple[int, str]]:
    """The organisation's administrations a member can be kept to: (id, name), by name."""
    with rt.sessions() as s:
        return sorted(((a.id, a.name) for a in repos.list_administrations(s, org_id)), key=lambda a: a[1].casefold())


def person(rt: Runtime, user_id: int) -> Person | None:
    with rt.sessions() as s:
        user = repos.get_user(s, user_id)
        return None if user is None else _person(user)


def find_person(rt: Runtime, email: str) -> Person | None:
    with rt.sessions() as s:
        user = repos.find_user(s, email.strip())
        return None if user is None else _person(user)


def memberships(rt: Runtime, user_id: int) -> list[Membership]:
    with rt.sessions() as s:
        return [Membership(*row) for row in repos.memberships_of(s, user_id)]


def sign_up(rt: Runtime, org_name: str, email: str, *, kind: str = "sme", password: str | None = None) -> Person:
    """A new organisation with its first owner (a marketplace install, or an operator's ``dunning user create``
    for a new organisation)."""
    if kind not in KINDS:
        raise AccountError(f"unknown kind of organisation {kind!r}: choose {', '.join(KINDS)}")
    with transaction(rt.sessions) as s:
        org_id = repos.create_organisation(s, org_name.strip() or email, kind)
    return add_user(rt, email, org_id, "owner", password)


def authenticate(rt: Runtime, email: str, password: str, address: str) -> Person | None:
    """The person whose e-mail and password these are, or None; raises ``TooManyAttempts`` once the account or
    the address failed too often in the last ``THROTTLE_WINDOW`` (checked before the password, so guessing on
    gains nothing)."""
    keys = {"account": f"email:{email.strip().lower()[:250]}", "address": f"ip:{address[:250]}"}
    since = rt.clock() - THROTTLE_WINDOW
    with transaction(rt.sessions) as s:
        if repos.login_failures(s, [keys["account"]], since) >= MAX_FAILURES_PER_ACCOUNT or (
            repos.login_failures(s, [keys["address"]], since) >= MAX_FAILURES_PER_ADDRESS
        ):
            raise TooManyAttempts("too many failed logins: wait 15 minutes, or reset the password")
        user = repos.find_user(s, email.strip())
        stored = user.password_hash if user is not None else None
        if not _verify(stored or _DUMMY_HASH, password) or user is None or stored is None:
            repos.record_login_failure(s, list(keys.values()), since)
            return None
        repos.clear_login_failures(s, [keys["account"]])
        repos.mark_login(s, user.id)
        if _hasher.check_needs_rehash(stored):
            repos.set_password_hash(s, user.id, _hasher.hash(password))
        return _person(user)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(rt: Runtime, user_id: int, password: str) -> None:
    check_password(password)
    with transaction(rt.sessions) as s:
        repos.set_password_hash(s, user_id, _hasher.hash(password))


# signed links ---------------------------------------------------------------------------------------------------


class _ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock.utcnow().timestamp())  # the one clock, so a moved clock moves the links' age too


def _serializer(rt: Runtime) -> URLSafeTimedSerializer:
    key = hmac.new(rt.settings.fernet_keys()[0].encode(), b"account-links", "sha256").hexdigest()
    return URLSafeTimedSerializer(key, salt="dunning-account-link", signer=_ClockSigner)


def _fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "none").encode()).hexdigest()[:16]


def link_token(rt: Runtime, user_id: int, purpose: str) -> str:
    """A signed token for an ``invite`` or ``reset`` link of the person; good until used or expired."""
    with rt.sessions() as s:
        user = repos.get_user(s, user_id)
        if user is None:
            raise AccountError("no such person")
        return str(_serializer(rt).dumps({"u": user_id, "p": purpose, "f": _fingerprint(user.password_hash)}))


def link_url(rt: Runtime, user_id: int, purpose: str) -> str:
    """The full link (from ``DUNNING_BASE_URL``, never from a request) for an invitation or a password reset."""
    path = "invite" if purpose == "invite" else "reset"
    return f"{rt.settings.base_url.rstrip('/')}/{path}/{link_token(rt, user_id, purpose)}"


def read_link(rt: Runtime, token: str, purpose: str) -> Person:
    """The person a link is for; raises ``AccountError`` for a link that expired, was used or was altered."""
    max_age = INVITATION_DAYS * 86400 if purpose == "invite" else RESET_HOURS * 3600
    try:
        data = _serializer(rt).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise AccountError("this link has expired: ask for a new one") from exc
    except BadSignature as exc:
        raise AccountError("this link is not valid: ask for a new one") from exc
    with rt.sessions() as s:
        user = repos.get_user(s, int(data.get("u", 0))) if isinstance(data, dict) else None
        if user is None or data.get("p") != purpose or data.get("f") != _fingerprint(user.password_hash):
            raise AccountError("this link was used already or is not valid: ask for a new one")
        return _person(user)


def start_signup(rt: Runtime, provider_name: str) -> int:
    """The organisation a "Sign up with <package>" starts: named after the package until its first administration
    is connected (``finish_signup``), owned by nobody until the person chooses their login."""
    with transaction(rt.sessions) as s:
        return repos.create_organisation(s, f"{provider_name} (new)", "sme")


def finish_signup(rt: Runtime, org_id: int, name: str, email: str, password: str) -> Person:
    """The person who consented becomes the owner of the signed-up organisation, which takes ``name``. An address
    that has an account already must log in first (signing up never changes someone else's password)."""
    address = check_email(email)
    check_password(password)
    with transaction(rt.sessions) as s:
        if repos.find_user(s, address) is not None:
            raise AccountError("an account with this address exists: log in first, then add the connection")
        if repos.members(s, org_id):
            raise AccountError("this organisation has its owner already: log in")
        repos.rename_organisation(s, org_id, name)
    return add_user(rt, address, org_id, "owner", password)
