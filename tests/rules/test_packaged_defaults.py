"""The policies and the rate table ship inside the package: found from any directory, replaced by settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector import defaults
from connector.rules import load_policies, load_rate_table
from connector.settings import Settings


def test_the_packaged_policies_and_rates_load_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing next to the working directory
    settings = Settings()
    assert sorted(load_policies(settings.policies_dir)) == ["b2b", "b2c"], "both default ladders load"
    assert load_rate_table(settings.interest_rates_file).rates, "the rate table has rows"
    assert (defaults.interest_rates_file().parent / "README.md").is_file(), "the sources of the rates ship beside it"


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("DUNNING_POLICIES_DIR", "", "policies_dir", defaults.policies_dir()),
        ("DUNNING_POLICIES_DIR", "config/policies", "policies_dir", Path("config/policies")),
        ("DUNNING_INTEREST_RATES_FILE", "", "interest_rates_file", defaults.interest_rates_file()),
        ("DUNNING_INTEREST_RATES_FILE", "my/rates.yaml", "interest_rates_file", Path("my/rates.yaml")),
    ],
)
def test_an_empty_setting_means_the_packaged_data_and_a_path_replaces_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: Path
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(Settings(), field) == expected
