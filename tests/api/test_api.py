"""The public API against the live demo app: keys and scopes, problem details, cursors, ETags, rate limit,
organisation scoping, amounts as strings, and an OpenAPI document that validates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests
from openapi_spec_validator import validate

from connector import apikeys, services
from connector.model.outbox import OutboxAction, OutboxChannel, OutboxStatus
from connector.storage import repos
from connector.storage.db import transaction
from tests.api.conftest import ApiWorld

PROBLEM = "application/problem+json"


def _get(world: ApiWorld, path: str, key: str | None = None, **params: Any) -> requests.Response:
    return requests.get(f"{world.url}{path}", headers=world.headers(key), params=params, timeout=30)


def _all_pages(world: ApiWorld, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        response = _get(world, path, **params, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, f"{path} page after {len(items)} items: {response.text}"
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError(f"{path} never reached its last page")


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "no Authorization header"),
        ("Bearer ", "an empty key"),
        ("Bearer dk_000000000000_wrong", "an unknown prefix"),
        ("Basic dXNlcjpwYXNz", "another scheme"),
    ],
)
def test_a_call_without_a_valid_key_is_a_401_problem(world: ApiWorld, header: str | None, why: str) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = requests.get(f"{world.url}/administrations", headers=headers, timeout=30)
    assert response.status_code == 401, why
    assert response.headers["Content-Type"] == PROBLEM, why
    assert response.json()["status"] == 401, why
    assert response.headers["WWW-Authenticate"].startswith("Bearer"), why


def test_a_tampered_key_with_a_real_prefix_is_refused(world: ApiWorld) -> None:
    tampered = world.read_key[:-2] + ("AA" if not world.read_key.endswith("AA") else "BB")
    assert _get(world, "/administrations", tampered).status_code == 401, "the secret part is checked, not the prefix"


def test_a_revoked_key_stops_working(world: ApiWorld) -> None:
    created = apikeys.create_key(world.run.runtime, world.run.org_id, "read", "to revoke")
    assert _get(world, "/administrations", created.key).status_code == 200, "a fresh key works"
    apikeys.revoke_key(world.run.runtime, world.run.org_id, created.record.prefix)
    assert _get(world, "/administrations", created.key).status_code == 401, "a revoked key is refused"
    listed = {k.prefix: k for k in apikeys.list_keys(world.run.runtime, world.run.org_id)}
    assert listed[created.record.prefix].last_used_at is not None, "the list shows when a key was last used"


def test_a_read_key_cannot_write(world: ApiWorld) -> None:
    response = requests.post(f"{world.url}/worklist/1/approve", headers=world.headers(), timeout=30)
    assert response.status_code == 403, response.text
    assert response.headers["Content-Type"] == PROBLEM


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nothing-here", 404),
        ("GET", "/api/elsewhere", 404),
        ("DELETE", "/api/v1/administrations", 405),
        ("GET", "/api/v1/invoices/999999999", 404),
        ("GET", "/api/v1/invoices?limit=0", 422),
        ("GET", "/api/v1/invoices?cursor=forged.cursor", 422),
    ],
)
def test_every_error_is_problem_json(world: ApiWorld, method: str, path: str, status: int) -> None:
    response = requests.request(method, f"{world.run.web.url}{path}", headers=world.headers(), timeout=30)
    assert response.status_code == status, f"{method} {path}: {response.text}"
    assert response.headers["Content-Type"] == PROBLEM, f"{method} {path}"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"], f"{method} {path}: {body}"
    assert "Traceback" not in response.text, f"{method} {path}"


def test_a_body_over_the_limit_is_a_413_problem(world: ApiWorld) -> None:
    huge = b"x" * (world.run.runtime.settings.webhook_max_bytes + 10)
    response = requests.post(
        f"{world.url}/worklist/1/skip",
        headers={**world.headers(world.write_key), "Content-Type": "application/json"},
        data=huge,
        timeout=30,
    )
    assert response.status_code == 413, response.text
    assert response.headers["Content-Type"] == PROBLEM


def test_cursors_walk_every_item_once_and_are_bound_to_their_filters(world: ApiWorld) -> None:
    everything = _get(world, "/invoices", limit=200).json()["items"]
    assert len(everything) > 5, "the demo has invoices"
    paged = _all_pages(world, "/invoices", limit=7)
    assert [i["id"] for i in paged] == sorted(i["id"] for i in everything), "pages cover every invoice once, in order"
    first = _get(world, "/invoices", limit=2).json()
    other_filter = _get(world, "/invoices", limit=2, overdue="true", cursor=first["next_cursor"])
    assert other_filter.status_code == 422, "a cursor made for other filters is refused"
    forged = first["next_cursor"].split(".")[0] + ".AAAA"
    assert _get(world, "/invoices", limit=2, cursor=forged).status_code == 422, "an unsigned cursor is refused"


def test_etag_answers_304_when_nothing_changed(world: ApiWorld) -> None:
    first = _get(world, "/administrations")
    tag = first.headers["ETag"]
    again = requests.get(f"{world.url}/administrations", headers={**world.headers(), "If-None-Match": tag}, timeout=30)
    assert again.status_code == 304, "the same ETag is not modified"
    assert again.content == b"", "a 304 has no body"


def test_amounts_are_strings_with_their_currency(world: ApiWorld) -> None:
    for path in ("/administrations", "/debtors", "/invoices"):
        for item in _get(world, path, limit=20).json()["items"]:
            for name in ("open_amount", "total", "overdue_amount"):
                if name in item:
                    assert isinstance(item[name], str), f"{path} {name} is {item[name]!r}"
                    Decimal(item[name])
            assert len(item["currency"]) == 3, f"{path}: {item}"


def test_an_invoice_tells_its_level_next_step_and_why(world: ApiWorld) -> None:
    reminded = [i for i in _all_pages(world, "/invoices", overdue="true")]
    assert reminded, "the demo has overdue invoices"
    details = [_get(world, f"/invoices/{i['id']}").json() for i in reminded[:10]]
    with_level = [d for d in details if d["level"] is not None]
    assert with_level, f"some overdue invoice reached a level: {details[:2]}"
    assert all(d["why"] for d in details), "every invoice says why"
    assert any(d["next_step"] for d in details), "today's decision is named"


def test_each_key_sees_only_its_organisation(world: ApiWorld) -> None:
    other = services.ensure_organisation(world.run.runtime, "Another practice")
    key = apikeys.create_key(world.run.runtime, other, "read").key
    assert _get(world, "/administrations", key).json()["items"] == [], "the other organisation has none"
    mine = _get(world, "/invoices", limit=1).json()["items"][0]["id"]
    assert _get(world, f"/invoices/{mine}", key).status_code == 404, "another organisation's invoice is not found"


def test_the_rate_limit_answers_429_with_retry_after(world: ApiWorld) -> None:
    rt = world.run.runtime
    key = apikeys.create_key(rt, world.run.org_id, "read").key
    saved = rt.settings
    rt.settings = saved.model_copy(update={"api_rate_limit_per_minute": 3})
    try:
        statuses = [_get(world, "/administrations", key).status_code for _ in range(5)]
        limited = _get(world, "/administrations", key)
    finally:
        rt.settings = saved
    assert statuses[:3] == [200, 200, 200], f"the first three pass: {statuses}"
    assert 429 in statuses[3:], f"the fourth call in a minute is limited: {statuses}"
    if limited.status_code == 429:
        assert 1 <= int(limited.headers["Retry-After"]) <= 60, "Retry-After says how long, within the minute"
        assert limited.headers["Content-Type"] == PROBLEM
    assert _get(world, "/administrations").status_code == 200, "other keys are not limited"


def _queue_item(world: ApiWorld, key: str) -> int:
    rt, org_id = world.run.runtime, world.run.org_id
    today = rt.today(org_id)
    with transaction(rt.sessions) as s:
        adm = repos.list_administrations(s, org_id)[0]
        repos.add_outbox_item(
            s,
            org_id,
            adm.id,
            idempotency_key=f"api-test-{key}",
            action=OutboxAction.HAND_OVER,
            debtor_ref="api-test",
            invoice_refs=["api-test-1"],
            level=9,
            level_name="hand-over",
            channel=OutboxChannel.TASK,
            run_date=today,
            status=OutboxStatus.AWAITING_APPROVAL,
        )
        return max(i.id for i in repos.outbox_items(s, org_id))


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([("approve", None, 204), ("approve", None, 409)], "pending"),
        (
            [
                ("skip", {"reason": "settled by phone"}, 204),
                ("skip", {"reason": "again"}, 409),
                ("snooze", {"until": "2999-01-01"}, 409),
            ],
            "skipped",
        ),
        ([("snooze", {"until": "2999-01-01"}, 204), ("snooze", {"until": "2000-01-01"}, 409)], "awaiting_approval"),
        (
            [("snooze", {"until": "soon"}, 422), ("skip", {"unknown": 1}, 422), ("skip", {}, 422)]
            + [("skip", {"reason": "  "}, 422)],
            "awaiting_approval",
        ),
    ],
)
def test_worklist_actions_follow_the_item_state(
    world: ApiWorld, steps: list[tuple[str, dict[str, Any] | None, int]], expected: str
) -> None:
    item = _queue_item(world, "-".join(s[0] for s in steps) + str(len(steps)) + expected)
    for action, body, status in steps:
        response = requests.post(
            f"{world.url}/worklist/{item}/{action}", headers=world.headers(world.write_key), json=body, timeout=30
        )
        assert response.status_code == status, f"{action} {body}: {response.text}"
        if status >= 400:
            assert response.headers["Content-Type"] == PROBLEM, action
    listed = {i["id"]: i for i in _all_pages(world, "/worklist")}
    assert listed[item]["status"] == expected, f"after {steps}: {listed[item]}"
    missing = requests.post(f"{world.url}/worklist/999999/approve", headers=world.headers(world.write_key), timeout=30)
    assert missing.status_code in (404, 409), missing.text


def test_the_openapi_document_is_valid_openapi_3_1(world: ApiWorld) -> None:
    document = requests.get(f"{world.url}/openapi.json", timeout=30).json()
    assert document["openapi"] == "3.1.0"
    validate(document)
    for path in ("/api/v1/invoices", "/api/v1/invoices/{invoice_id}", "/api/v1/worklist/{item_id}/snooze"):
        assert path in document["paths"], f"{path} is documented"


def test_webhook_subscriptions_and_the_delivery_log_through_the_api(world: ApiWorld) -> None:
    headers = world.headers(world.write_key)
    bad = requests.post(
        f"{world.url}/webhooks/subscriptions",
        headers=headers,
        json={"url": "ftp://x", "events": ["reminder.sent"]},
        timeout=30,
    )
    assert bad.status_code == 422 and bad.headers["Content-Type"] == PROBLEM, bad.text
    created = requests.post(
        f"{world.url}/webhooks/subscriptions",
        headers=headers,
        json={"url": "http://127.0.0.1:9/hook", "events": ["reminder.sent"]},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_"), "the secret is in the answer to the create call"
    listed = _get(world, "/webhooks/subscriptions").json()["items"]
    assert [s["id"] for s in listed] == [body["id"]] and "secret" not in listed[0], "lists never show the secret"
    with transaction(world.run.runtime.sessions) as s:
        repos.emit_event(s, world.run.org_id, "reminder.sent", {"invoices": ["X"]})
    [delivery] = _get(world, "/webhooks/deliveries").json()["items"]
    assert delivery["status"] == "pending", delivery
    replayed = requests.post(f"{world.url}/webhooks/deliveries/{delivery['id']}/replay", headers=headers, timeout=30)
    assert replayed.status_code == 204, replayed.text
    detail = _get(world, f"/webhooks/deliveries/{delivery['id']}").json()
    assert detail["attempt_log"] == [] and detail["message_id"].startswith("msg_"), detail
    gone = requests.delete(f"{world.url}/webhooks/subscriptions/{body['id']}", headers=headers, timeout=30)
    assert gone.status_code == 204, gone.text
    assert _get(world, "/webhooks/subscriptions").json()["items"] == []
