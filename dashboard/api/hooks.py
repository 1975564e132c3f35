"""Outbound webhook endpoints of the API: subscriptions (create, list, delete) and the delivery log with replay.

Over ``connector.notify``; the signing secret is in the answer to the create call only. A URL that is not
http(s) or an unknown event type is a 422 problem (docs/api.md#outbound-webhooks).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from flask import g
from pydantic import BaseModel, ConfigDict, Field

from connector import notify
from connector.model.api import EventType
from dashboard.api.models import Out
from dashboard.api.paging import ListQuery, Page, keyset, paginate, read_cursor
from dashboard.api.spec import endpoint
from dashboard.common import services

EventName = Literal[
    "decision.made", "reminder.sent", "letter.posted", "payment.detected", "invoice.disputed", "promise.broken",
    "connection.needs_reauthorisation",
]  # fmt: skip
assert set(get_args(EventName)) == {e.value for e in EventType}  # noqa: S101 - one list of events, checked at import


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, description="http(s) URL that receives the events")
    events: list[EventName] = Field(min_length=1)
    description: str = Field("", max_length=200)


class Subscription(Out):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime


class SubscriptionCreated(Subscription):
    secret: str = Field(description="whsec_...: verify signatures with it; shown only now")


class SubscriptionList(Page):
    items: list[Subscription]


class Delivery(Out):
    id: int
    subscription_id: int
    message_id: str
    event_type: str
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class Attempt(Out):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryDetail(Delivery):
    attempt_log: list[Attempt]


class DeliveryList(Page):
    items: list[Delivery]


class DeliveryQuery(ListQuery):
    status: Literal["pending", "delivered", "dead"] | None = None


def _org() -> int:
    return int(g.api_caller.org_id)


@endpoint("GET", "/webhooks/subscriptions", summary="Webhook subscriptions", tag="webhooks",
          response=SubscriptionList, query=ListQuery)  # fmt: skip
def subscriptions(query: ListQuery) -> SubscriptionList:
    rows = [Subscription.model_validate(s) for s in notify.subscriptions(services().runtime, _org())]
    page, cursor = paginate(rows, lambda r: r.id, query)
    return SubscriptionList(items=page, next_cursor=cursor)


@endpoint("POST", "/webhooks/subscriptions", summary="Subscribe a URL to events", tag="webhooks",
          response=SubscriptionCreated, body=SubscriptionIn, status=201)  # fmt: skip
def subscribe(body: SubscriptionIn) -> SubscriptionCreated:
    created = notify.subscribe(services().runtime, _org(), body.url, list(body.events), body.description)
    return SubscriptionCreated.model_validate({**vars(created.record), "secret": created.secret})


@endpoint("DELETE", "/webhooks/subscriptions/{subscription_id}", summary="Delete a subscription", tag="webhooks",
          response=None, status=204)  # fmt: skip
def unsubscribe(subscription_id: int) -> None:
    notify.unsubscribe(services().runtime, _org(), subscription_id)


@endpoint("GET", "/webhooks/deliveries", summary="The delivery log, newest first", tag="webhooks",
          response=DeliveryList,
          query=DeliveryQuery)  # fmt: skip
def deliveries(query: DeliveryQuery) -> DeliveryList:
    rows = notify.deliveries(
        services().runtime, _org(), status=query.status, before_id=read_cursor(query), limit=query.limit + 1
    )
    page, cursor = keyset([Delivery.model_validate(r) for r in rows], lambda r: r.id, query)
    return DeliveryList(items=page, next_cursor=cursor)


@endpoint("GET", "/webhooks/deliveries/{delivery_id}", summary="One delivery with every attempt", tag="webhooks",
          response=DeliveryDetail)  # fmt: skip
def delivery(delivery_id: int) -> DeliveryDetail:
    found, attempts = notify.delivery(services().runtime, _org(), delivery_id)
    return DeliveryDetail.model_validate({**vars(found), "attempt_log": [Attempt.model_validate(a) for a in attempts]})


@endpoint("POST", "/webhooks/deliveries/{delivery_id}/replay", summary="Send a delivery again", tag="webhooks",
          response=None, status=204)  # fmt: skip
def replay(delivery_id: int) -> None:
    notify.replay(services().runtime, _org(), delivery_id)
