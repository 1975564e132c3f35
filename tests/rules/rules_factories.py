"""Builders shared by the rules tests: snapshots, a small OCA-style policy, the packaged policies and rates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connector import defaults
from connector.model import InvoiceStatus, Segment
from connector.rules import InvoiceSnapshot, Policy, load_policy, load_rate_table

POLICY_DIR = defaults.policies_dir()
RATES_PATH = defaults.interest_rates_file()
SYNCED_AT = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
DUE = date(2026, 3, 10)


def snapshot(**overrides: Any) -> InvoiceSnapshot:
    values: dict[str, Any] = {
        "invoice_ref": "INV-1",
        "debtor_ref": "D-1",
        "administration_ref": "ADM-1",
        "segment": Segment.B2B,
        "currency": "EUR",
        "due_date": DUE,
        "invoice_date": date(2026, 2, 8),
        "open_amount": Decimal("1000.00"),
        "total": Decimal("1000.00"),
        "status": InvoiceStatus.OPEN,
        "synced_at": SYNCED_AT,
    }
    values.update(overrides)
    return InvoiceSnapshot(**values)


def level(level: int, days: int, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "level": level,
        "name": f"Level {level}",
        "days": days,
        "channel": "email",
        "action": "reminder",
        "template": f"t{level}",
    }
    values.update(overrides)
    return values


def policy(levels: list[dict[str, Any]] | None = None, **overrides: Any) -> Policy:
    """A small ladder: -3, +3, +14, +28 (net_days), the last one terminal."""
    values: dict[str, Any] = {
        "name": "test",
        "segment": "b2b",
        "levels": levels
        or [
            level(0, -3, action="friendly_reminder"),
            level(1, 3),
            level(2, 14),
            level(3, 28, action="final_notice", terminal=True),
        ],
    }
    values.update(overrides)
    return Policy.model_validate(values)


def default_policy(name: str) -> Policy:
    return load_policy(POLICY_DIR / f"{name}.yaml")


def rates() -> Any:
    return load_rate_table(RATES_PATH)
