"""The day cycle's queue (connector.cycle, docs/operations.md#capacity): dealing is round robin over the lanes, a
refused lane waits while the others go on, and a turn keeps its place while it waits. Pure: no database, no HTTP."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.cycle import FairQueue, Turn, deal
from connector.storage import tables

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def _turns(lanes: list[int]) -> list[Turn]:
    """One turn per entry, in the lane numbered by it (provider "p", tenant "t<n>")."""
    turns = []
    for index, lane in enumerate(lanes):
        adm = tables.Administration(id=index + 1, org_id=1, connection_id=1, provider_tenant_id=f"t{lane}")
        turns.append(Turn(0, adm, "p", ("p", f"t{lane}"), date(2026, 3, 2)))
    return turns


@settings(deadline=None)  # a shared machine: the time an example takes is not what is tested
@given(st.lists(st.integers(min_value=0, max_value=6), max_size=60))
def test_dealing_is_round_robin_over_the_lanes(lanes: list[int]) -> None:
    dealt = deal(_turns(lanes))
    assert sorted(t.adm.id for t in dealt) == list(range(1, len(lanes) + 1)), "every turn dealt exactly once"
    assert [t.seq for t in dealt] == list(range(len(dealt))), "seq is the dealt position"
    for lane in set(lanes):
        mine = [t.adm.id for t in dealt if t.lane == ("p", f"t{lane}")]
        assert mine == sorted(mine), f"lane t{lane}: its own turns keep their order"
    seen: Counter[tuple[str, str]] = Counter()
    rounds = []
    for turn in dealt:
        rounds.append(seen[turn.lane])  # this turn is its lane's rounds-th (from 0)
        seen[turn.lane] += 1
    assert rounds == sorted(rounds), f"a lane's second turn comes only after every lane's first: {rounds}"


CASES = [
    # (refused lane, what goes next): a refused lane waits, the next lane's turn goes now
    ("t0", 2),
    ("t1", 1),
]


def test_a_refused_lane_waits_while_the_others_go_on() -> None:
    for refused, expected in CASES:
        queue = FairQueue(deal(_turns([0, 1, 0, 1])))
        first = next(t for t in queue.turns if t.lane == ("p", refused))
        first.ready_at = T0 + timedelta(minutes=5)
        queue.refused(first, first.ready_at, whole_provider=False)
        chosen = queue.next_ready(T0)
        assert chosen is not None and chosen.lane != ("p", refused), f"refused {refused}: another lane goes"
        assert chosen.adm.id == expected, f"refused {refused}: the earliest-dealt turn of a free lane goes"
        later = queue.next_ready(T0 + timedelta(minutes=5))
        assert later is queue.turns[0], f"refused {refused}: once free, the first-dealt turn goes first again"


def test_an_app_wide_refusal_holds_every_lane_of_the_provider() -> None:
    queue = FairQueue(deal(_turns([0, 1, 2])))
    queue.refused(queue.turns[0], T0 + timedelta(minutes=1), whole_provider=True)
    assert queue.next_ready(T0) is None, "no lane of the provider goes"
    assert queue.earliest() == T0 + timedelta(minutes=1), "the cycle sleeps until the app's window frees"
