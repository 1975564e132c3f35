"""Property-based hostile input for the three webhook receivers and the OAuth callback, on SQLite and PostgreSQL.

Arbitrary bodies, headers and query strings: never a 5xx, nothing stored in the inbox without a valid signature,
no connection made from a forged OAuth redirect. Deliveries validly signed over arbitrary JSON: never a 5xx, each
answered 2xx (stored, dead-lettered or acknowledged as nothing to do). Examples are bounded and derandomized
(a fixed seed: the same examples on every run and in CI), so the module runs in well under a minute per backend
(docs/operations.md#webhooks).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.runtime import Runtime
from connector.storage import repos
from dashboard import create_app
from tests.dbs import backend, database_url
from tests.hostile.conftest import (
    TENANTS,
    ReceiverWorld,
    exact_delivery,
    make_settings,
    moneybird_delivery,
    seed_tenants,
)

EXAMPLES = 50  # per target and backend
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROVIDERS = ("moneybird", "xero", "exact")
SIGNATURE_HEADERS = ("x-xero-signature", "Moneybird-Signature", "Idempotency-Key", "X-Exact-Signature")

# header values a client can put on the wire: latin-1 without line breaks
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80)
header_names = st.one_of(
    st.sampled_from(SIGNATURE_HEADERS + ("Content-Type", "Content-Encoding", "X-Forwarded-For")),
    st.from_regex(r"\AX-[A-Za-z0-9-]{1,20}\Z"),
)
moneybird_signature = st.builds(
    lambda t, v: f"t={t},v1={v}",
    st.one_of(st.integers(min_value=-(10**30), max_value=10**30).map(str), header_text),
    st.one_of(st.text("0123456789abcdef", min_size=64, max_size=64), header_text),
)
headers = st.dictionaries(header_names, header_text, max_size=6).flatmap(
    lambda h: st.one_of(st.just(h), moneybird_signature.map(lambda s: {**h, "Moneybird-Signature": s}))
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=15), inner, max_size=5),
    max_leaves=25,
)
bodies = st.one_of(
    st.binary(max_size=2000),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(
        lambda v: json.dumps({"events": v, "Content": v, "administration_id": TENANTS["moneybird"]}).encode(),
        json_values,
    ),
)
query_strings = st.dictionaries(
    st.sampled_from(["code", "state", "error", "error_description", "scope", "realmId"]) | st.text(max_size=10),
    st.text(max_size=60),
    max_size=5,
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverWorld]:
    if request.param == "sqlite" and backend() == "postgres":
        pytest.skip("SQLite case: ran in the SQLite pass of the suite")
    from connector.storage.db import upgrade

    tmp_path: Path = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with database_url(request.param, tmp_path) as url:
        upgrade(url)
        rt = Runtime(make_settings(tmp_path, url))
        org_id = seed_tenants(rt)
        app = create_app(rt.settings, runtime=rt, queue=mock.Mock(), org_id=org_id)
        yield ReceiverWorld(app, app.test_client(), rt, org_id, mock.Mock())
        rt.engine.dispose()


def _stored(world: ReceiverWorld) -> int:
    return len(world.inbox())


def _post(world: ReceiverWorld, provider: str, raw: bytes, head: dict[str, str], query: dict[str, str]) -> Any:
    return world.client.post(f"/webhooks/{provider}", data=raw, headers=head, query_string=query)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unsigned_anything_is_never_a_5xx_and_never_stored(fuzz_world: ReceiverWorld, provider: str) -> None:
    before = _stored(fuzz_world)

    @FUZZ
    @given(raw=bodies, head=headers, query=query_strings)
    def check(raw: bytes, head: dict[str, str], query: dict[str, str]) -> None:
        response = _post(fuzz_world, provider, raw, head, query)
        assert response.status_code < 500, f"{provider}: {response.status_code} for {raw[:120]!r} {head}"
        assert _stored(fuzz_world) == before, f"{provider}: stored without a valid signature: {raw[:120]!r} {head}"

    check()


def _signed(provider: str, value: Any, world: ReceiverWorld) -> tuple[bytes, dict[str, str]]:
    if provider == "xero":
        raw = json.dumps(value).encode()
        from adapters.xero.webhooks import signature
        from tests.hostile.conftest import XERO_KEY

        return raw, {"x-xero-signature": signature(XERO_KEY, raw)}
    if provider == "exact":  # Exact's Content is always an object: the HashCode is found after it
        return exact_delivery(json.dumps(value if isinstance(value, dict) else {"Value": value}).encode())
    # the per-tenant secret is found through the body's administration_id: a body naming no tenant cannot verify
    body = (
        {**value, "administration_id": TENANTS["moneybird"]}
        if isinstance(value, dict)
        else {
            "administration_id": TENANTS["moneybird"],
            "entity": value,
        }
    )
    return moneybird_delivery(json.dumps(body).encode(), world.now(), key=f"k-{hash(json.dumps(body))}")


shaped = st.one_of(
    json_values,
    st.builds(lambda e: {"events": e, "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "X"}, json_values),
    st.builds(
        lambda e: {"events": [e]},
        st.fixed_dictionaries(
            {
                "tenantId": st.sampled_from([TENANTS["xero"], ""]) | st.text(max_size=300),
                "eventCategory": st.sampled_from(["INVOICE", "CONTACT", "PAYMENT"]) | st.text(max_size=20),
                "resourceId": st.text(max_size=300),
                "eventType": st.text(max_size=20),
                "eventDateUtc": st.text(max_size=40),
            }
        ),
    ),
    st.fixed_dictionaries(
        {
            "administration_id": st.sampled_from([TENANTS["moneybird"]]) | st.text(max_size=300),
            "entity_type": st.sampled_from(["SalesInvoice", "Contact", "Payment"]) | st.text(max_size=300),
            "entity_id": st.text(max_size=300) | st.integers(),
            "action": st.text(max_size=300),
            "state": json_values,
        }
    ),
    st.fixed_dictionaries(
        {
            "Topic": st.sampled_from(["SalesEntries", "Accounts", "ReceivablesList"]) | st.text(max_size=300),
            "Division": st.sampled_from([int(TENANTS["exact"])]) | st.integers() | st.text(max_size=20),
            "Action": st.text(max_size=30),
            "Key": st.text(max_size=300),
            "EventCreatedOn": st.text(max_size=40),
        }
    ),
)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_signed_arbitrary_json_is_never_a_5xx(fuzz_world: ReceiverWorld, provider: str) -> None:
    @FUZZ
    @given(value=shaped)
    def check(value: Any) -> None:
        raw, head = _signed(provider, value, fuzz_world)
        response = _post(fuzz_world, provider, raw, head, {})
        assert 200 <= response.status_code < 300, (
            f"{provider}: a validly signed delivery got {response.status_code} "
            f"{response.get_data(as_text=True)[:200]!r} for {raw[:200]!r}"
        )

    check()


def test_a_forged_oauth_redirect_is_never_a_5xx_and_connects_nothing(fuzz_world: ReceiverWorld) -> None:
    with fuzz_world.runtime.sessions() as s:
        before = len(repos.list_connections(s, fuzz_world.org_id))

    @FUZZ
    @given(provider=st.sampled_from(PROVIDERS) | st.from_regex(r"\A[a-z%.0-9]{1,12}\Z"), query=query_strings)
    def check(provider: str, query: dict[str, str]) -> None:
        response = fuzz_world.client.get(f"/oauth/{provider}/callback", query_string=query)
        assert response.status_code < 500, f"{provider} {query}: {response.status_code}"
        assert b"Traceback" not in response.data

    check()
    with fuzz_world.runtime.sessions() as s:
        assert len(repos.list_connections(s, fuzz_world.org_id)) == before, "a forged redirect made a connection"


@pytest.mark.parametrize(
    "value",
    ["\x00", "a\x00b", "\udb00"],
    ids=["nul", "nul-inside", "unpaired-surrogate"],
)
def test_a_signed_field_no_database_can_store_is_a_dead_letter(fuzz_world: ReceiverWorld, value: str) -> None:
    """Found by the fuzzer: PostgreSQL refuses NUL in text (a 500, and the provider retries for ever)."""
    raw, head = _signed("moneybird", {"entity_type": "SalesInvoice", "entity_id": value, "action": "x"}, fuzz_world)
    response = _post(fuzz_world, "moneybird", raw, head, {})
    assert response.status_code == 200, f"{value!r}: {response.status_code} {response.get_data(as_text=True)[:200]}"
    dead = [e for e in fuzz_world.inbox() if e.status == "dead" and e.raw == raw]
    assert dead, f"{value!r}: no dead letter kept"
    assert dead[0].last_error and "entity_id" in dead[0].last_error, dead[0].last_error
