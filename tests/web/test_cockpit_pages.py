"""The cockpit through the app (test client), on SQLite and PostgreSQL: a page costs the same SQL statements at 10
and at 100 administrations; sort, filter, search and paging; the bulk actions with their audit rows and who may;
another organisation's ids refused with nothing changed; the navigation and the drill-down (docs/cockpit.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from bench.cockpit import seed
from connector import model
from connector.storage import repos, tables
from tests.web import test_access
from tests.web.test_access import World, _client


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    """test_access's world: organisation A with an administration and a member per role, organisation B."""
    yield from test_access.world.__wrapped__(db_url, tmp_path)  # type: ignore[attr-defined]


def _rt(world: World) -> Any:
    return world.app.extensions["dunning"].runtime


def _seed(world: World, first: int, last: int, invoices: int = 3) -> None:
    rt = _rt(world)
    seed(rt, world.org_a, first, last, invoices, rt.today(world.org_a), rt.clock())


def _row_ids(body: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="adm-(\d+)"', body)]


def _statements(world: World, client: FlaskClient, path: str) -> int:
    found: list[str] = []

    def count(*args: Any) -> None:
        found.append(str(args[2]))

    engine = _rt(world).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        answer = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert answer.status_code == 200, f"{path} answered {answer.status_code}"
    return len(found)


def test_a_page_costs_the_same_statements_at_10_and_100_administrations(world: World) -> None:
    client = _client(world, "viewer@a.example")
    _seed(world, 0, 10)
    client.get("/cockpit")  # warm-up
    at_10 = {p: _statements(world, client, p) for p in ("/cockpit", "/cockpit?sort=dso&dir=desc&health=paused")}
    _seed(world, 10, 100)
    at_100 = {p: _statements(world, client, p) for p in at_10}
    assert at_10 == at_100, f"SQL statements per page grew with the administrations: {at_10} -> {at_100}"
    assert max(at_100.values()) <= 20, f"too many statements for one page: {at_100}"


def test_sort_filter_search_and_pages(world: World) -> None:
    _seed(world, 0, 60)  # with the world's own: 61, two pages of 50
    client = _client(world, "viewer@a.example")
    first = client.get("/cockpit?lang=en").get_data(as_text=True)
    assert len(_row_ids(first)) == 50, "the first page does not hold 50 administrations"
    assert "page 1 of 2" in first, "the page does not say how many pages there are"
    second = client.get("/cockpit?lang=en&page=2").get_data(as_text=True)
    assert len(_row_ids(second)) == 11, "the second page does not hold the other 11"
    assert not set(_row_ids(first)) & set(_row_ids(second)), "the pages overlap"
    with _rt(world).sessions() as s:
        page = repos.cockpit_page(
            s,
            world.org_a,
            repos.CockpitQuery(sort="overdue", descending=True, limit=100),
            today=_rt(world).today(world.org_a),
            now=_rt(world).clock(),
        )
    overdue = [r.overdue_minor for r in page.rows]
    assert overdue == sorted(overdue, reverse=True), "sorted by overdue, the amounts do not go down"
    by_overdue = client.get("/cockpit?sort=overdue&dir=desc").get_data(as_text=True)
    assert _row_ids(by_overdue)[0] == page.rows[0].id, "the page sorted by overdue does not start with the most"
    paused = _row_ids(client.get("/cockpit?health=paused").get_data(as_text=True))
    assert paused and len(paused) == len([n for n in range(60) if n % 7 == 0]), f"health=paused gave {paused}"
    xero = client.get("/cockpit?package=xero&lang=en").get_data(as_text=True)
    assert "20 administrations" in xero, "the package filter does not keep the 20 Xero clients"
    found = client.get("/cockpit?q=client 005&lang=en").get_data(as_text=True)
    assert len(_row_ids(found)) == 10, "searching 'client 005' does not find Client 0050..0059"
    assert "Open (EUR)" in first and 'id="portfolio-aging-EUR"' in first, "no portfolio totals or aging chart"
    nothing = client.get("/cockpit?q=nobody&page=abc&sort=';drop&health=x")
    assert nothing.status_code == 200, "odd query arguments are not ignored"


def _adm(world: World, adm_id: int) -> Any:
    with _rt(world).sessions() as s:
        return repos.get_administration(s, world.org_a, adm_id)


def _audit(world: World, kind: str) -> list[Any]:
    with _rt(world).sessions() as s:
        return repos.audit_trail(s, world.org_a, kind=kind)


@pytest.mark.parametrize(
    ("action", "who", "field", "value", "kind"),
    [
        ("pause", "controller", "paused", True, "dunning_paused"),
        ("safe_mode_on", "owner", "safe_mode", True, "safe_mode"),
        ("safe_mode_off", "owner", "safe_mode", False, "safe_mode"),
    ],
)
def test_bulk_action_changes_the_selection_and_audits_who(
    world: World, action: str, who: str, field: str, value: bool, kind: str
) -> None:
    _seed(world, 1, 4)  # 1, 2, 3: live (safe mode off, not paused)
    ids = [r.id for r in _rows(world) if r.name.startswith("Client")]
    with _rt(world).sessions() as s:  # start from the opposite
        for adm in repos.administrations_by_id(s, world.org_a, ids):
            setattr(adm, field, not value)
        s.commit()
    answer = _client(world, f"{who}@a.example").post(
        "/cockpit/bulk", data={"action": action, "administration": [str(i) for i in ids]}
    )
    assert answer.status_code == 302, f"{action} answered {answer.status_code}"
    assert all(getattr(_adm(world, i), field) is value for i in ids), f"{action} did not set {field}={value}"
    rows = [e for e in _audit(world, kind) if e.administration_id in ids]
    assert len(rows) == len(ids), f"{action}: {len(rows)} audit rows for {len(ids)} administrations"
    assert all(e.data.get("by") == f"{who}@a.example" for e in rows), f"{action}: the audit does not say who"


def _rows(world: World) -> list[Any]:
    rt = _rt(world)
    with rt.sessions() as s:
        query = repos.CockpitQuery(limit=100)
        return repos.cockpit_page(s, world.org_a, query, today=rt.today(world.org_a), now=rt.clock()).rows


def test_resume_and_assign_a_policy(world: World) -> None:
    client = _client(world, "controller@a.example")
    adm = world.administration_a
    client.post("/cockpit/bulk", data={"action": "pause", "administration": str(adm)})
    client.post("/cockpit/bulk", data={"action": "resume", "administration": str(adm)})
    assert _adm(world, adm).paused is False, "resume did not undo the pause"
    assert [e.data.get("by") for e in _audit(world, "dunning_resumed")] == ["controller@a.example"], "no resume audit"
    answer = client.post("/cockpit/bulk", data={"action": "assign_policy", "policy": "b2c", "administration": str(adm)})
    assert answer.status_code == 302, f"assigning a policy answered {answer.status_code}"
    with _rt(world).sessions() as s:
        assigned = {a.segment: a.policy_name for a in repos.policy_assignments(s, world.org_a, adm)}
    assert assigned == {model.Segment.B2C: "b2c"}, f"the b2c policy was not assigned: {assigned}"
    assert _audit(world, "policy_assigned"), "assigning a policy left no audit row"
    unknown = client.post(
        "/cockpit/bulk?lang=en",
        data={"action": "assign_policy", "policy": "nope", "administration": str(adm)},
        follow_redirects=True,
    )
    assert "That policy cannot be assigned" in unknown.get_data(as_text=True), "an unknown policy is not explained"


def test_safe_mode_needs_an_owner(world: World) -> None:
    answer = _client(world, "controller@a.example").post(
        "/cockpit/bulk", data={"action": "safe_mode_off", "administration": str(world.administration_a)}
    )
    assert answer.status_code == 403, f"a controller switched safe mode off: {answer.status_code}"
    assert _adm(world, world.administration_a).safe_mode is True, "safe mode changed for a controller"


def test_another_organisations_administration_is_refused_and_nothing_changes(world: World) -> None:
    rt = _rt(world)
    with rt.sessions.begin() as s:
        connection = repos.create_connection(s, world.org_b, "moneybird")
        theirs = repos.upsert_administration(
            s, world.org_b, connection.id, "moneybird", model.Tenant(provider_tenant_id="t-b", name="Theirs")
        ).id
    client = _client(world, "owner@a.example")
    for action in ("pause", "safe_mode_off", "assign_policy"):
        answer = client.post(
            "/cockpit/bulk",
            data={"action": action, "policy": "b2b", "administration": [str(world.administration_a), str(theirs)]},
        )
        assert answer.status_code == 404, f"{action} with another organisation's id answered {answer.status_code}"
    with rt.sessions() as s:
        mine = repos.get_administration(s, world.org_a, world.administration_a)
        other = s.get(tables.Administration, theirs)
        assert not mine.paused and mine.safe_mode, "our administration changed though the selection was refused"
        assert other is not None and not other.paused and other.safe_mode, "the other organisation's changed"
        assert not repos.policy_assignments(s, world.org_a, world.administration_a), "a policy was assigned"


def test_nav_drill_down_and_back(world: World) -> None:
    client = _client(world, "viewer@a.example")
    one = client.get("/?lang=en").get_data(as_text=True)
    assert 'id="nav-cockpit"' not in one, "an organisation with one administration is offered the cockpit"
    _seed(world, 1, 2)
    two = client.get("/?lang=en").get_data(as_text=True)
    assert 'id="nav-cockpit"' in two, "an organisation with two administrations is not offered the cockpit"
    body = client.get("/cockpit?lang=en").get_data(as_text=True)
    worklist = f"/worklist?administration={world.administration_a}&amp;from=cockpit"
    debtors = f"/debtors?administration={world.administration_a}&amp;from=cockpit"
    assert worklist in body and debtors in body, "a row does not drill down to its worklist and debtors"
    drilled = client.get(worklist.replace("&amp;", "&") + "&lang=en").get_data(as_text=True)
    assert 'id="back-to-cockpit"' in drilled, "the drilled-down worklist has no way back to the cockpit"
    assert client.get("/debtors?administration=999999").status_code == 404, "an unknown administration is not 404"


def test_the_reports_drill_down_to_one_administration(world: World) -> None:
    _seed(world, 1, 3)  # Client 0001 BV and Client 0002 BV, with open invoices
    client = _client(world, "viewer@a.example")
    first = next(r.id for r in _rows(world) if r.name == "Client 0001 BV")
    for path in ("/reports", "/reports/dso", "/reports/forecast"):
        body = client.get(f"{path}?administration={first}&from=cockpit&lang=en").get_data(as_text=True)
        assert "Client 0001 BV" in body and "Client 0002 BV" not in body, f"{path} is not filtered to one client"
        assert 'id="report-scope"' in body and 'id="back-to-cockpit"' in body, f"{path} does not say it is filtered"
        assert f"administration={first}&amp;from=cockpit" in body, f"{path}'s tabs lose the filter"
    csv = client.get(f"/reports?administration={first}&format=csv").get_data(as_text=True)
    assert "Client 0001 BV" in csv and "Client 0002 BV" not in csv, "the filtered download holds other clients"
    assert client.get("/reports?administration=999999").status_code == 404, "an unknown administration is not 404"


def test_each_health_mark_finds_its_administration(world: World) -> None:
    """One client in each state; filtering by a mark lists exactly that client, and 'all well' the untouched one."""
    _seed(world, 1, 9)  # eight clients: 7 is paused by the seed (n % 7), the others live
    rt = _rt(world)
    names = {r.name: r.id for r in _rows(world)}
    ids = {n: names[f"Client {n:04} BV"] for n in range(1, 9)}
    now = rt.clock()
    with rt.sessions.begin() as s:
        adms = {a.id: a for a in repos.administrations_by_id(s, world.org_a, list(ids.values()))}
        adms[ids[5]].safe_mode = True
        adms[ids[6]].paused = True
        # clients 1-3 need their own connection for a connection-wide state
        for n, change in ((1, {"status": "needs_reauth"}), (2, {"parked_until": now + timedelta(hours=3)})):
            connection = repos.create_connection(s, world.org_a, adms[ids[n]].provider)
            for key, value in change.items():
                setattr(connection, key, value)
            adms[ids[n]].connection_id = connection.id
        for n, status, attempts in ((3, "received", 2), (4, "dead", 5)):
            s.add(
                tables.InboxEvent(
                    org_id=world.org_a,
                    connection_id=adms[ids[n]].connection_id,
                    provider=adms[ids[n]].provider,
                    provider_tenant_id=adms[ids[n]].provider_tenant_id,
                    dedupe_id=f"event-{n}",
                    status=status,
                    attempts=attempts,
                    raw=b"{}",
                    received_at=now,
                )
            )
    client = _client(world, "viewer@a.example")
    expected = {
        "reauth": {ids[1]},
        "parked": {ids[2]},
        "webhooks_failing": {ids[3]},
        "dead_letters": {ids[4]},
        "safe_mode": {ids[5], world.administration_a},  # the world's own starts in safe mode
        "paused": {ids[6], ids[7]},
        "healthy": {ids[8]},
    }
    for mark, wanted in expected.items():
        found = set(_row_ids(client.get(f"/cockpit?health={mark}").get_data(as_text=True)))
        assert found == wanted, f"health={mark}: {sorted(found)}, expected {sorted(wanted)}"
    body = client.get("/cockpit?lang=en").get_data(as_text=True)
    for mark in expected:
        assert f'data-health="{mark}"' in body, f"no {mark} badge on the page"
