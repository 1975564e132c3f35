"""The policy tables: which policy each administration uses per segment, and the organisation's own policies.

Part of the schema in ``connector.storage.tables`` (same ``Base``; that module imports this one so the migrations
see one metadata). An organisation-owned policy is a copy of a packaged (YAML) policy that its people edit in the
browser; every save is a new row (a version), never an update, so the history of who changed what stays. An
assignment names a policy (packaged or the organisation's own, latest version) for one administration and one
segment. Only ``repos/policies.py`` reads or writes them (docs/policies.md#storage).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from connector.storage.declarative import Base, _adm, _org


class OrgPolicyVersion(Base):
    """One version of an organisation's own policy: the validated policy document as JSON, who saved it, when."""

    __tablename__ = "org_policy_versions"
    __table_args__ = (UniqueConstraint("org_id", "name", "version", name="uq_org_policy_versions_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    based_on: Mapped[str | None] = mapped_column(String(100))  # the policy it was copied from (version 1)
    document: Mapped[dict[str, Any]] = mapped_column(default=dict)  # Policy.model_dump(mode="json")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime]


class PolicyAssignment(Base):
    """The policy an administration uses for one segment (b2b|b2c); absent: the packaged default for the segment."""

    __tablename__ = "policy_assignments"
    __table_args__ = (UniqueConstraint("administration_id", "segment", name="uq_policy_assignments_segment"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    segment: Mapped[str] = mapped_column(String(8))
    policy_name: Mapped[str] = mapped_column(String(100))
    assigned_by: Mapped[str] = mapped_column(String(254))
    assigned_at: Mapped[datetime]
