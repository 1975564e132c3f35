"""Personal links (docs/portal.md#links): a token opens exactly its own debtor's link while it lives, and nothing
else: not when tampered, expired, revoked, signed for another organisation or guessed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.auth import portal
from connector.auth.crypto import TokenCipher
from connector.model import Tenant
from connector.storage import repos
from connector.storage.db import transaction
from tests.portal.conftest import World


def _issue(world: World, debtor_ref: str = "D1", *, with_code: bool = False) -> portal.IssuedLink:
    with transaction(world.rt.sessions) as s:
        adm = repos.get_administration(s, world.org_id, world.adm_id)
        return portal.issue_link(
            s,
            adm,
            debtor_ref,
            keys=world.rt.settings.fernet_keys(),
            base_url="https://pay.example.nl/",
            now=world.clock(),
            with_code=with_code,
        )


def _check(world: World, token: str, keys: list[str] | None = None) -> portal.CheckedLink:
    with world.rt.sessions() as s:
        return portal.check_token(s, keys or world.rt.settings.fernet_keys(), token, world.clock())


def test_a_link_opens_its_own_debtor_and_is_built_from_the_base_url(any_world: World) -> None:
    link = _issue(any_world)
    assert link.url == f"https://pay.example.nl/p/{link.token}", "the URL comes from DUNNING_BASE_URL only"
    checked = _check(any_world, link.token)
    assert checked.state is portal.LinkState.OK, checked.state
    assert checked.link is not None and checked.link.debtor_ref == "D1", "bound to the debtor it was issued for"
    assert checked.link.org_id == any_world.org_id and checked.link.administration_id == any_world.adm_id


def test_each_reminder_gets_a_fresh_link(world: World) -> None:
    first, second = _issue(world), _issue(world)
    assert first.token != second.token, "a new reminder brings a new link"
    assert _check(world, first.token).state is portal.LinkState.OK, "an earlier link still works until it expires"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), portal.LinkState.INVALID),  # the mac
        (lambda t: t.split(".")[0] + "." + "A" * 22 + "." + t.split(".")[2], portal.LinkState.INVALID),  # random part
        (lambda t: "9" + t, portal.LinkState.INVALID),  # another organisation's number
        (lambda t: t.replace(".", ""), portal.LinkState.INVALID),
        (lambda t: "", portal.LinkState.INVALID),
        (lambda t: t + "." + t, portal.LinkState.INVALID),
    ],
    ids=["mac", "random-part", "organisation", "no-dots", "empty", "doubled"],
)
def test_a_tampered_token_opens_nothing(world: World, change: object, expected: portal.LinkState) -> None:
    link = _issue(world)
    tampered = change(link.token)  # type: ignore[operator]
    assert _check(world, tampered).state is expected, f"tampered token {tampered!r} was accepted"


def test_expired_and_revoked_links_stop_working(world: World) -> None:
    link = _issue(world)
    world.clock.now += timedelta(days=portal.LINK_DAYS) - timedelta(seconds=1)
    assert _check(world, link.token).state is portal.LinkState.OK, "still valid on its last second"
    world.clock.now += timedelta(seconds=1)
    assert _check(world, link.token).state is portal.LinkState.EXPIRED, "expired after LINK_DAYS"
    fresh = _issue(world)
    with transaction(world.rt.sessions) as s:
        assert repos.revoke_portal_links(s, world.org_id, world.adm_id, "D1") == 2, "both links were revoked"
    assert _check(world, fresh.token).state is portal.LinkState.REVOKED


def test_another_organisations_token_opens_nothing_here(world: World) -> None:
    """A token minted with other secret keys (another installation) or for another organisation is refused."""
    link = _issue(world)
    other_keys = [TokenCipher.generate_key()]
    assert _check(world, link.token, other_keys).state is portal.LinkState.INVALID, "signed with other keys"
    with transaction(world.rt.sessions) as s:
        org2 = repos.create_organisation(s, "Other")
        conn = repos.create_connection(s, org2, "xero")
        repos.upsert_administration(s, org2, conn.id, "xero", Tenant(provider_tenant_id="x", name="Other BV"))
    token, _ = portal.sign_token(world.rt.settings.fernet_keys(), org2)
    random_part, mac = token.split(".")[1:]
    forged = f"{world.org_id}.{random_part}.{mac}"  # the other organisation's signature under our number
    assert _check(world, forged).state is portal.LinkState.INVALID, "the signature covers the organisation"
    assert _check(world, token).state is portal.LinkState.UNKNOWN, "well signed, but no link in that organisation"


def test_a_rotated_key_keeps_links_working(world: World) -> None:
    link = _issue(world)
    rotated = [TokenCipher.generate_key(), *world.rt.settings.fernet_keys()]
    assert _check(world, link.token, rotated).state is portal.LinkState.OK, "older key still verifies"


def test_a_letters_short_code_opens_the_same_link(world: World) -> None:
    link = _issue(world, with_code=True)
    assert link.code is not None and len(link.code) == portal.CODE_LENGTH + 1, link.code
    typed = link.code.lower().replace("-", " ")
    with world.rt.sessions() as s:
        found = portal.check_code(s, world.rt.settings.fernet_keys(), typed, world.clock())
        wrong = portal.check_code(s, world.rt.settings.fernet_keys(), "ABCDE-FGHJK", world.clock())
    assert found.state is portal.LinkState.OK and found.link is not None and found.link.debtor_ref == "D1"
    assert wrong.state is portal.LinkState.UNKNOWN, "a guessed code opens nothing"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=120))
def test_guessed_tokens_are_refused_without_a_lookup(guess: str) -> None:
    """Guessing gets nowhere: an arbitrary string never parses as a signed token."""
    keys = [TokenCipher.generate_key()]
    assert portal.parse_token(keys, guess) is None, f"{guess!r} parsed as a token"
