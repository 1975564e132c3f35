"""Policy files: the packaged defaults load, and every invalid file names its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from rules_factories import POLICY_DIR, default_policy, policy, snapshot

from connector.errors import PolicyError
from connector.model import Segment
from connector.rules import Action, Computation, load_policies, load_policy, select_policy

GOOD = """\
name: custom
segment: b2b
catch_up: skip
min_open_amount: {amount: "5.00", currency: EUR}
costs: {enabled: true, b2b_mode: eu_fixed_40}
levels:
  - level: 0
    name: First
    days: 3
    channel: email
    action: reminder
    template: first
  - level: 1
    name: Demand
    days: 14
    channel: letter
    action: demand_letter
    template: demand
    charge_costs: true
  - level: 2
    name: Month end
    days: 20
    computation: end_of_month
    channel: phone
    action: phone_task
    template: call
    terminal: true
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_packaged_defaults_load_and_follow_section_1_4() -> None:
    policies = load_policies(POLICY_DIR)
    assert set(policies) == {"b2b", "b2c"}
    b2b, b2c = policies["b2b"], policies["b2c"]
    assert b2b.segment is Segment.B2B and b2c.segment is Segment.B2C
    assert b2b.levels[0].days == -3 and b2b.levels[0].action is Action.FRIENDLY_REMINDER
    assert b2b.levels[-1].action is Action.HAND_OVER and b2b.levels[-1].requires_approval
    assert any(level.action is Action.CREDIT_STOP for level in b2b.levels)
    assert any(level.action is Action.PHONE_TASK for level in b2b.levels)
    letter = next(i for i, level in enumerate(b2c.levels) if level.action is Action.FOURTEEN_DAY_LETTER)
    first_costs = next(i for i, level in enumerate(b2c.levels) if level.charge_costs)
    assert letter < first_costs
    assert b2c.levels[first_costs].computation is Computation.PREVIOUS_DATE
    assert b2c.levels[first_costs].days >= 15


def test_a_good_custom_file_loads(tmp_path: Path) -> None:
    loaded = load_policy(_write(tmp_path, GOOD))
    assert loaded.name == "custom" and len(loaded.levels) == 3
    assert str(loaded.min_open_amount.amount) == "5.00"


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


# (yaml text, expected line, expected field, message fragment)
BAD_FILES = [
    (_replace("channel: letter", "channel: fax"), 16, "levels[1].channel", "email"),
    (_replace("    template: demand\n", ""), 13, "levels[1].template", "required"),
    (_replace("  - level: 1", "  - level: 0"), 13, "levels[1].level", "duplicate level"),
    (_replace("days: 14", "days: 3"), 15, "levels[1].days", "strictly increasing"),
    (
        _replace("costs: {enabled: true, b2b_mode: eu_fixed_40}", "costs: {enabled: false}"),
        19,
        "levels[1].charge_costs",
        "costs.enabled is false",
    ),
    (_replace('amount: "5.00"', "amount: 5.00"), 4, "min_open_amount.amount", "decimal strings"),
    (_replace("    template: first\n", "    template: first\n    colour: red\n"), 13, "levels[0].colour", "Extra"),
    (_replace("catch_up: skip", "catch_up: maybe"), 3, "catch_up", "send"),
    (
        _replace("    days: 3\n", "    days: 3\n    computation: previous_date\n"),
        10,
        "levels[0].computation",
        "first level",
    ),
    (_replace("    terminal: true\n", ""), None, None, None),  # valid: the top level is terminal anyway
    (_replace("  - level: 1\n", "  - level: 1\n    terminal: true\n"), 14, "levels[1].terminal", "last level"),
    (_replace("segment: b2b", "segment: b2c"), 19, "levels[1].charge_costs", "fourteen_day_letter"),
    (
        _replace("    action: phone_task\n", "    action: hand_over\n"),
        20,
        "levels[2].requires_approval",
        "a person approves",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "fragment"), BAD_FILES)
def test_invalid_policy_names_file_line_and_field(
    tmp_path: Path, text: str, line: int | None, field: str | None, fragment: str | None
) -> None:
    path = _write(tmp_path, text)
    if line is None:
        load_policy(path)
        return
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    error = caught.value
    assert error.file == str(path)
    assert error.line == line, str(error)
    assert error.field == field
    assert fragment is not None and fragment in str(error)
    assert str(path) in str(error) and f"line {line}" in str(error) and field in str(error)


def test_b2c_costs_too_soon_after_the_letter(tmp_path: Path) -> None:
    text = """\
name: bad-b2c
segment: b2c
default_needs_notice: false
costs: {enabled: true}
levels:
  - {level: 0, name: Letter, days: 21, channel: letter, action: fourteen_day_letter, template: l}
  - {level: 1, name: Costs, days: 30, channel: email, action: final_notice, template: c, charge_costs: true}
"""
    with pytest.raises(PolicyError) as caught:
        load_policy(_write(tmp_path, text))
    assert caught.value.line == 7 and caught.value.field == "levels[1].days"
    assert "day 15" in str(caught.value)


LAW_RULES = [
    # (policy YAML, line, field, what the error says)
    (
        """name: x\nsegment: b2c\ncosts: {enabled: true, vat_reclaimable: false}\nlevels:\n"""
        """  - {level: 0, name: R, days: 3, channel: email, action: reminder, template: r}\n""",
        3,
        "costs",
        "creditor_can_deduct_vat and collector_charges_vat",
    ),
    (
        """name: x\nsegment: b2c\nlevels:\n"""
        """  - {level: 0, name: R, days: 3, channel: email, action: reminder, template: r}\n"""
        """  - {level: 1, name: L, days: 30, channel: letter, action: fourteen_day_letter, template: l}\n""",
        5,
        "levels[1].action",
        "notice of default",
    ),
    (
        """name: x\nsegment: b2c\nlevels:\n"""
        """  - {level: 0, name: N, days: 3, channel: letter, action: reminder, template: r,"""
        """ notice_of_default: true}\n""",
        4,
        "levels[0].channel",
        "goes by email",
    ),
    (
        """name: x\nsegment: b2b\nlevels:\n"""
        """  - {level: 0, name: R, days: 3, channel: email, action: reminder, template: r,"""
        """ email_may_replace_letter: true}\n""",
        4,
        "levels[0].email_may_replace_letter",
        "only for a level on the letter channel",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "says"), LAW_RULES)
def test_the_law_s_policy_rules(tmp_path: Path, text: str, line: int, field: str, says: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(_write(tmp_path, text))
    assert (caught.value.line, caught.value.field) == (line, field), str(caught.value)
    assert says in str(caught.value)


def test_the_default_policies_state_both_vat_conditions_and_the_notice() -> None:
    b2c = default_policy("b2c")
    assert b2c.default_needs_notice and b2c.notice_term_days == 14
    assert [lv.level for lv in b2c.levels if lv.notice_of_default] == [2]
    for name in ("b2b", "b2c"):
        costs = default_policy(name).costs
        assert (costs.creditor_can_deduct_vat, costs.collector_charges_vat, costs.charge_vat) == (True, False, False)
        letters = [lv for lv in default_policy(name).levels if lv.channel.value == "letter"]
        assert letters and all(lv.email_may_replace_letter for lv in letters), f"{name}: e-mail must be explicit"


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(_write(tmp_path, "name: x\nsegment: b2b\nlevels: [\n  {level: 0\n"))
    assert caught.value.line is not None and caught.value.line >= 4


def test_duplicate_yaml_key_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(_write(tmp_path, GOOD.replace("catch_up: skip\n", "catch_up: skip\ncatch_up: send\n")))
    assert (caught.value.line, caught.value.field) == (4, "catch_up")


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="mapping"):
        load_policy(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")


def test_select_policy_precedence() -> None:
    b2b = policy(name="b2b")
    b2c = policy(name="b2c", segment="b2c")
    vip = policy(name="vip")
    slow = policy(name="slow")
    policies = {p.name: p for p in (b2b, b2c, vip, slow)}
    assert select_policy(snapshot(), policies) is b2b
    assert select_policy(snapshot(segment=Segment.B2C), policies) is b2c
    # unknown debtor type -> consumer (docs/law.md#engine-rules-for-costs-and-interest)
    assert select_policy(snapshot(segment=None), policies) is b2c
    assert select_policy(snapshot(debtor_policy="vip"), policies) is vip
    assert select_policy(snapshot(debtor_policy="vip", invoice_policy="slow"), policies) is slow
    assert select_policy(snapshot(), policies, defaults={Segment.B2B: "slow"}) is slow
    with pytest.raises(PolicyError, match="unknown policy override 'gone'"):
        select_policy(snapshot(invoice_policy="gone"), policies)
    with pytest.raises(PolicyError, match="no default policy"):
        select_policy(snapshot(), {"vip": vip, "slow": slow})
