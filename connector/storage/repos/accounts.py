"""The web app's people: users, their memberships (a role per organisation) and the login throttle.

Called by ``connector.accounts`` only. A person exists before and across organisations (signing in, an
accountant who works for several clients), so finding a user, setting a password and counting failed logins are
deliberately not scoped; everything that grants or lists access to an organisation's data is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from connector.storage import tables as t
from connector.storage.repos.scope import now, scoped, where_scoped


def create_user(session: Session, email: str, password_hash: str | None) -> int:
    user = t.User(email=email.lower(), password_hash=password_hash, created_at=now(session))
    session.add(user)
    session.flush()
    return user.id


def find_user(session: Session, email: str) -> t.User | None:
    """The user signing in with ``email`` (addresses are stored in lower case)."""
    return session.scalar(select(t.User).where(t.User.email == email.lower()))


def get_user(session: Session, user_id: int) -> t.User | None:
    """The user a session cookie or a signed link names."""
    return session.get(t.User, user_id)


def set_password_hash(session: Session, user_id: int, password_hash: str) -> None:
    user = session.get(t.User, user_id)
    if user is not None:
        user.password_hash = password_hash


def mark_login(session: Session, user_id: int) -> None:
    user = session.get(t.User, user_id)
    if user is not None:
        user.last_login_at = now(session)


def count_users(session: Session) -> int:
    """How many people can sign in to this installation (none: the web app is open to this machine only)."""
    return int(session.scalar(select(func.count()).select_from(t.User)) or 0)


Restriction = tuple[int, ...] | None  # the administrations a membership is kept to; None: the whole organisation


def memberships_of(session: Session, user_id: int) -> list[tuple[int, str, str, str, Restriction]]:
    """The organisations a person may enter: (org id, name, kind, role, restriction), oldest organisation first."""
    rows = session.execute(
        select(t.Organisation.id, t.Organisation.name, t.Organisation.kind, t.Membership.role, t.Membership.id)
        .join(t.Membership, t.Membership.org_id == t.Organisation.id)
        .where(t.Membership.user_id == user_id)
        .order_by(t.Organisation.id)
    )
    found = [(int(org_id), str(name), str(kind), str(role), int(mid)) for org_id, name, kind, role, mid in rows]
    kept = _restrictions(session, [mid for *_rest, mid in found])
    return [(org_id, name, kind, role, kept.get(mid)) for org_id, name, kind, role, mid in found]


def _restrictions(session: Session, membership_ids: list[int]) -> dict[int, tuple[int, ...]]:
    """The administrations of each restricted membership among ``membership_ids`` (unrestricted ones absent)."""
    if not membership_ids:
        return {}
    rows = session.execute(
        select(t.Membership.id, t.MembershipAdministration.administration_id)
        .outerjoin(t.MembershipAdministration, t.MembershipAdministration.membership_id == t.Membership.id)
        .where(t.Membership.id.in_(membership_ids), t.Membership.restricted.is_(True))
        .order_by(t.MembershipAdministration.administration_id)
    )
    kept: dict[int, tuple[int, ...]] = {}
    for membership_id, administration_id in rows:
        ids = kept.get(int(membership_id), ())
        kept[int(membership_id)] = ids if administration_id is None else (*ids, int(administration_id))
    return kept


def set_membership(session: Session, org_id: int, user_id: int, role: str, administrations: Restriction = None) -> None:
    """Give ``user_id`` ``role`` in the organisation (a new membership or a changed role), for the whole
    organisation (``administrations`` None) or only those of its administrations (the caller checked they are
    the organisation's)."""
    row = session.scalar(scoped(t.Membership, org_id).where(t.Membership.user_id == user_id))
    if row is None:
        row = t.Membership(org_id=org_id, user_id=user_id, role=role, created_at=now(session))
        session.add(row)
    row.role, row.restricted = role, administrations is not None
    session.flush()
    session.execute(delete(t.MembershipAdministration).where(t.MembershipAdministration.membership_id == row.id))
    for administration_id in sorted(set(administrations or ())):
        kept = t.MembershipAdministration(org_id=org_id, membership_id=row.id, administration_id=administration_id)
        session.add(kept)
    session.flush()


def remove_membership(session: Session, org_id: int, user_id: int) -> None:
    session.execute(delete(t.Membership).where(*where_scoped(t.Membership, org_id), t.Membership.user_id == user_id))


def members(session: Session, org_id: int) -> list[tuple[t.User, str, Restriction]]:
    """The organisation's people with their role and restriction, by e-mail address."""
    rows = list(
        session.execute(
            select(t.User, t.Membership.role, t.Membership.id)
            .join(t.Membership, t.Membership.user_id == t.User.id)
            .where(*where_scoped(t.Membership, org_id))
            .order_by(t.User.email)
        )
    )
    kept = _restrictions(session, [int(mid) for _user, _role, mid in rows])
    return [(user, str(role), kept.get(int(mid))) for user, role, mid in rows]


def organisation_kind(session: Session, org_id: int) -> str | None:
    org = session.get(t.Organisation, org_id)
    return None if org is None else org.kind


def set_organisation_kind(session: Session, org_id: int, kind: str) -> None:
    org = session.get(t.Organisation, org_id)
    if org is not None:
        org.kind = kind


def login_failures(session: Session, keys: list[str], since: datetime) -> int:
    """The most failed logins any of ``keys`` had in a window that started after ``since``."""
    counts = session.scalars(
        select(t.LoginThrottle.failures).where(t.LoginThrottle.key.in_(keys), t.LoginThrottle.window_started_at > since)
    )
    return max(counts, default=0)


def record_login_failure(session: Session, keys: list[str], since: datetime) -> None:
    """Count one failed login against each key; a window older than ``since`` starts again at one."""
    stamp = now(session)
    for key in keys:
        row = session.get(t.LoginThrottle, key, with_for_update=True)
        if row is None:
            session.add(t.LoginThrottle(key=key, failures=1, window_started_at=stamp))
        elif row.window_started_at <= since:
            row.failures, row.window_started_at = 1, stamp
        else:
            row.failures += 1
    session.flush()


def clear_login_failures(session: Session, keys: list[str]) -> None:
    session.execute(delete(t.LoginThrottle).where(t.LoginThrottle.key.in_(keys)))


def rename_organisation(session: Session, org_id: int, name: str) -> None:
    """A signed-up organisation takes the name of its first administration."""
    org = session.get(t.Organisation, org_id)
    if org is not None:
        org.name = name
