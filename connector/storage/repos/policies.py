"""Policy rows: an organisation's own policy versions and each administration's policy per segment.

Used by ``connector.policies`` only. Versions are append-only (``add_policy_version`` numbers the next one; the
unique key (org, name, version) makes two saves at once fail rather than both win); an assignment is one row per
administration and segment, replaced in place (docs/policies.md#storage).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.model import Segment
from connector.model.policies import PolicyAssignmentRecord, PolicyVersion
from connector.storage.repos.scope import now, scoped, where_scoped
from connector.storage.tables_policies import OrgPolicyVersion, PolicyAssignment


def _version(row: OrgPolicyVersion) -> PolicyVersion:
    return PolicyVersion(
        org_id=row.org_id,
        name=row.name,
        version=row.version,
        based_on=row.based_on,
        document=dict(row.document),
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _assignment(row: PolicyAssignment) -> PolicyAssignmentRecord:
    return PolicyAssignmentRecord(
        org_id=row.org_id,
        administration_id=row.administration_id,
        segment=Segment(row.segment),
        policy_name=row.policy_name,
        assigned_by=row.assigned_by,
        assigned_at=row.assigned_at,
    )


def latest_policy_versions(session: Session, org_id: int) -> dict[str, PolicyVersion]:
    """The newest version of each of the organisation's own policies, by name."""
    newest = (
        select(OrgPolicyVersion.name, func.max(OrgPolicyVersion.version).label("version"))
        .where(*where_scoped(OrgPolicyVersion, org_id))
        .group_by(OrgPolicyVersion.name)
        .subquery()
    )
    query = scoped(OrgPolicyVersion, org_id).join(
        newest, (newest.c.name == OrgPolicyVersion.name) & (newest.c.version == OrgPolicyVersion.version)
    )
    return {row.name: _version(row) for row in session.scalars(query)}


def policy_versions(session: Session, org_id: int, name: str) -> list[PolicyVersion]:
    """Every version of one of the organisation's policies, oldest first."""
    query = scoped(OrgPolicyVersion, org_id).where(OrgPolicyVersion.name == name).order_by(OrgPolicyVersion.version)
    return [_version(row) for row in session.scalars(query)]


def add_policy_version(
    session: Session, org_id: int, name: str, document: dict[str, Any], *, based_on: str | None, who: str
) -> int:
    """Store the next version of policy ``name`` (1 when it is new); returns its number."""
    last = session.scalar(
        select(func.max(OrgPolicyVersion.version)).where(
            *where_scoped(OrgPolicyVersion, org_id), OrgPolicyVersion.name == name
        )
    )
    version = int(last or 0) + 1
    session.add(
        OrgPolicyVersion(
            org_id=org_id,
            name=name,
            version=version,
            based_on=based_on,
            document=document,
            created_by=who,
            created_at=now(session),
        )
    )
    session.flush()
    return version


def policy_assignments(
    session: Session, org_id: int, administration_id: int | None = None
) -> list[PolicyAssignmentRecord]:
    """The organisation's assignments (of one administration when given), by administration and segment."""
    query = scoped(PolicyAssignment, org_id, administration_id).order_by(
        PolicyAssignment.administration_id, PolicyAssignment.segment
    )
    return [_assignment(row) for row in session.scalars(query)]


def set_policy_assignment(
    session: Session, org_id: int, administration_id: int, segment: Segment, policy_name: str, *, who: str
) -> str | None:
    """Make ``policy_name`` the administration's policy for ``segment``; returns the policy it replaces (None: the
    packaged default was in use)."""
    row = session.scalar(
        scoped(PolicyAssignment, org_id, administration_id)
        .where(PolicyAssignment.segment == segment.value)
        .with_for_update()
    )
    if row is None:
        session.add(
            PolicyAssignment(
                org_id=org_id,
                administration_id=administration_id,
                segment=segment.value,
                policy_name=policy_name,
                assigned_by=who,
                assigned_at=now(session),
            )
        )
        session.flush()
        return None
    previous = row.policy_name
    row.policy_name = policy_name
    row.assigned_by = who
    row.assigned_at = now(session)
    session.flush()
    return previous
