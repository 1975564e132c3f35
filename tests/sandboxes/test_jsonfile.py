"""A sandbox's saved state comes back with its exact types: Decimals, dates and datetimes never pass through float."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sandboxes import jsonfile

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.dates()
    | st.datetimes(timezones=st.just(UTC))
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(values)
def test_every_value_round_trips_with_its_type(value: Any) -> None:
    again = jsonfile.loads(jsonfile.dumps(value))
    assert again == value
    assert type(again) is type(value)


def test_states_saved_with_the_older_exact_tags_still_load() -> None:
    text = '{"amount":{"$dec":"10.01"},"day":{"$d":"2026-04-01"},"at":{"$dt":"2026-03-10T09:00:00+00:00"}}'
    assert jsonfile.loads(text) == {
        "amount": Decimal("10.01"),
        "day": date(2026, 4, 1),
        "at": datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
    }


def test_a_write_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "sandboxes" / "xero.json"
    jsonfile.write_atomic(path, jsonfile.dumps({"seq": 1}))
    jsonfile.write_atomic(path, jsonfile.dumps({"seq": 2}))
    assert jsonfile.loads(path.read_text()) == {"seq": 2}
    assert [p.name for p in path.parent.iterdir()] == ["xero.json"], "no temporary file is left behind"
