"""What storage hands back for policy rows: an organisation's policy versions and the administrations' assignments.

Plain frozen records read by ``connector.policies`` (the service over them) and, through it, by decide, the
onboarding and the policy editor. The document is the policy as ``Policy.model_dump(mode="json")``; validating it
is the rules' job, not storage's (docs/policies.md#storage).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.model import Segment


@dataclass(frozen=True)
class PolicyVersion:
    org_id: int
    name: str
    version: int
    based_on: str | None
    document: dict[str, Any]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class PolicyAssignmentRecord:
    org_id: int
    administration_id: int
    segment: Segment
    policy_name: str
    assigned_by: str
    assigned_at: datetime
