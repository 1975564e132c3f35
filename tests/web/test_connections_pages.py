"""The connections page through the app (test client): what it shows per connection, who may change what,
disconnect with its confirmation (tokens and administrations of that connection only, an audit row), another
organisation's connection as 404, and a reconnect that keeps the connection (docs/onboarding.md#connections)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector import model
from connector.storage import repos, tables
from connector.storage.db import transaction
from connector.storage.repos.scope import scoped
from tests.web import test_access
from tests.web.test_access import World, _client


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    """test_access's world: organisation A with an administration and a member per role, organisation B."""
    yield from test_access.world.__wrapped__(db_url, tmp_path)  # type: ignore[attr-defined]


def _second_connection(world: World, status: str = "active") -> int:
    """A second Moneybird connection of organisation A with a token, one administration and a dead letter."""
    rt = world.app.extensions["dunning"].runtime
    with transaction(rt.sessions) as s:
        connection = repos.create_connection(s, world.org_a, "moneybird", display_name="Moneybird")
        repos.upsert_administration(
            s, world.org_a, connection.id, "moneybird", model.Tenant(provider_tenant_id="t-2", name="Tweede BV")
        )
        s.add(
            tables.OAuthToken(
                connection_id=connection.id, org_id=world.org_a, ciphertext="x", updated_at=rt.clock(), status=status
            )
        )
        repos.record_inbox_event(
            s,
            world.org_a,
            connection_id=connection.id,
            provider="moneybird",
            dedupe_id="d-1",
            raw=b"{}",
            status="dead",
        )
        if status != "active":
            repos.set_connection_status(s, world.org_a, connection.id, status)
        return connection.id


def _counts(world: World) -> dict[str, int]:
    rt = world.app.extensions["dunning"].runtime
    with rt.sessions() as s:
        return {
            "connections": len(repos.list_connections(s, world.org_a)),
            "administrations": len(repos.list_administrations(s, world.org_a)),
            "tokens": len(list(s.scalars(scoped(tables.OAuthToken, world.org_a)))),
        }


@pytest.mark.parametrize(
    ("who", "sees_buttons"),
    [("viewer@a.example", False), ("controller@a.example", False), ("owner@a.example", True)],
)
def test_the_page_shows_every_connection_and_only_owners_change_them(
    world: World, who: str, sees_buttons: bool
) -> None:
    second = _second_connection(world, status="needs_reauth")
    body = _client(world, who).get("/connections?lang=en").get_data(as_text=True)
    assert "Tweede BV" in body and test_access.SECRET_NAME in body, f"{who}: an administration is missing"
    assert "needs re-authorisation" in body, f"{who}: the connection's status is not shown"
    assert "1 failed" in body and 'href="/dead-letters"' in body, f"{who}: the dead letter does not link to replay"
    assert (f'id="disconnect-{second}"' in body) is sees_buttons, f"{who}: disconnect button shown wrongly"
    assert (f'id="reconnect-{second}"' in body) is sees_buttons, f"{who}: reconnect button shown wrongly"


def test_disconnect_asks_first_then_removes_that_connection_only(world: World) -> None:
    second = _second_connection(world)
    before = _counts(world)
    owner = _client(world, "owner@a.example")
    confirm = owner.get(f"/connections/{second}/disconnect?lang=en").get_data(as_text=True)
    assert "Tweede BV" in confirm and "Yes, disconnect" in confirm, "no confirmation naming what goes"
    assert _counts(world) == before, "showing the confirmation changed something"
    answer = owner.post(f"/connections/{second}/disconnect")
    assert answer.status_code == 302 and "disconnected=1" in answer.headers["Location"], answer.status_code
    after = _counts(world)
    assert after == {k: v - 1 for k, v in before.items()}, f"before {before}, after {after}: not exactly one went"
    rt = world.app.extensions["dunning"].runtime
    with rt.sessions() as s:
        names = [a.name for a in repos.list_administrations(s, world.org_a)]
        trail = [e.kind for e in repos.audit_trail(s, world.org_a)]
    assert names == [test_access.SECRET_NAME], f"the other connection's administration went too: {names}"
    assert "disconnect" in trail, f"no audit row: {trail}"


def test_another_organisations_connection_is_not_found(world: World) -> None:
    second = _second_connection(world)
    other = _client(world, "owner@b.example")
    for method, url in [
        ("GET", f"/connections/{second}/disconnect"),
        ("POST", f"/connections/{second}/disconnect"),
        ("POST", f"/connections/{second}/reconnect"),
    ]:
        status = other.open(url, method=method).status_code
        assert status == 404, f"organisation B: {method} {url} answered {status}"
    assert "Tweede BV" not in other.get("/connections").get_data(as_text=True), "B sees A's connection"
    assert _counts(world)["connections"] == 2, "organisation B removed A's connection"
