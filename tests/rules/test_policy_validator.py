"""One validator for policies: a YAML file and the browser editor's document are refused for the same reason, at the
same field (docs/policies.md#one-validator)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector.defaults import policies_dir
from connector.errors import PolicyError
from connector.rules.loader import format_loc, load_policy, policy_field_problems, validate_policy

TEMPLATES = {
    "friendly_reminder",
    "reminder",
    "demand_letter",
    "final_notice",
    "phone_script",
    "credit_stop_notice",
    "hand_over_notice",
    "fourteen_day_letter",
}


def _b2b() -> dict[str, Any]:
    data = yaml.safe_load((policies_dir() / "b2b.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _broken(change: str) -> dict[str, Any]:
    data = copy.deepcopy(_b2b())
    levels = data["levels"]
    if change == "days_not_increasing":
        levels[2]["days"] = levels[1]["days"]
    elif change == "costs_switched_off":
        data["costs"]["enabled"] = False
    elif change == "unknown_channel":
        levels[1]["channel"] = "pigeon"
    elif change == "unknown_template":
        levels[1]["template"] = "poem"
    elif change == "hand_over_without_approval":
        levels[-1]["requires_approval"] = False
    elif change == "negative_tolerance":
        data["min_open_amount"]["amount"] = "-1"
    elif change == "paid_claim_check_days_zero":
        data["paid_claim_check_days"] = 0
    elif change == "paid_claim_check_days_text":
        data["paid_claim_check_days"] = "a week"
    return data


CASES = [
    ("days_not_increasing", "levels[2].days", 1),
    ("costs_switched_off", "levels[4].charge_costs", 3),  # levels 4, 5 and 7 charge costs
    ("unknown_channel", "levels[1].channel", 1),
    ("unknown_template", "levels[1].template", 1),
    ("hand_over_without_approval", "levels[7].requires_approval", 1),
    ("negative_tolerance", "min_open_amount.amount", 1),
    ("paid_claim_check_days_zero", "paid_claim_check_days", 1),
    ("paid_claim_check_days_text", "paid_claim_check_days", 1),
]


@pytest.mark.parametrize(("change", "field", "count"), CASES)
def test_yaml_and_editor_are_refused_at_the_same_field(tmp_path: Path, change: str, field: str, count: int) -> None:
    data = _broken(change)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(PolicyError) as from_file:
        load_policy(path, TEMPLATES)
    with pytest.raises(PolicyError) as from_editor:
        validate_policy(data, TEMPLATES)
    problems = policy_field_problems(data, TEMPLATES)
    assert from_file.value.field == from_editor.value.field == field, f"{change}: {from_file.value}"
    assert from_file.value.line, f"{change}: the file's error names no line"
    assert format_loc(problems[0][0]) == field, f"{change}: first problem {problems[0]}"
    assert len(problems) == count, f"{change}: every problem is listed for the editor: {problems}"


def test_the_packaged_policies_have_no_problems() -> None:
    for name in ("b2b", "b2c"):
        data = yaml.safe_load((policies_dir() / f"{name}.yaml").read_text(encoding="utf-8"))
        assert policy_field_problems(data, TEMPLATES) == [], name
