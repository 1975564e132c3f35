"""Outbound webhooks end to end: an event written in the pipeline's transaction is delivered to a real receiver on
127.0.0.1 that verifies the signature with the ``standardwebhooks`` library; failures retry with backoff for about
a day, then die; every attempt is logged with its status code; a replay sends the same message again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from cryptography.fernet import Fernet
from flask import Flask, Response, request
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from connector import clock, notify, services
from connector.model.api import EventType
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction, upgrade
from sandboxes.runner import RunningServer, serve_in_thread


@dataclass
class Receiver:
    server: RunningServer
    answers: list[int] = field(default_factory=list)  # status codes to give, in order; then 200
    verified: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    secret: str = ""

    @property
    def url(self) -> str:
        return f"{self.server.url}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Flask("receiver")
    box = Receiver(server=None)  # type: ignore[arg-type]

    @app.post("/hook")
    def hook() -> Response:
        try:
            payload = Webhook(box.secret).verify(request.get_data(), dict(request.headers))
        except WebhookVerificationError:
            box.refused += 1
            return Response(status=401)
        status = box.answers.pop(0) if box.answers else 200
        if status < 300:
            box.verified.append({"id": request.headers["webhook-id"], **payload})
        return Response(status=status)

    box.server = serve_in_thread(app)
    yield box
    box.server.shutdown()


@dataclass
class World:
    rt: Runtime
    org_id: int
    traveller: Any

    def advance(self, delta: timedelta) -> None:
        """Move every clock of the process, ours and the receiver's (its signature check reads the time too)."""
        self.traveller.shift(delta)


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    upgrade(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path, secret_keys=[SecretStr(Fernet.generate_key().decode())])
    with time_machine.travel(clock.utcnow(), tick=True) as traveller:
        rt = Runtime(settings, budget_url="memory://")
        org_id = services.ensure_organisation(rt, "Practice")
        yield World(rt, org_id, traveller)
        rt.close()


def _emit(world: World, event: EventType, data: dict[str, Any]) -> int:
    with transaction(world.rt.sessions) as s:
        return repos.emit_event(s, world.org_id, event, data)


def test_an_event_arrives_signed_and_verifiable(world: World, receiver: Receiver) -> None:
    created = notify.subscribe(world.rt, world.org_id, receiver.url, ["reminder.sent", "payment.detected"])
    receiver.secret = created.secret
    assert created.secret.startswith("whsec_"), "Standard Webhooks secrets start with whsec_"
    assert _emit(world, EventType.REMINDER_SENT, {"invoices": ["INV-1"], "amount": "12.50"}) == 1
    assert _emit(world, EventType.DECISION_MADE, {"invoices": ["INV-1"]}) == 0, "not subscribed: nothing owed"
    run = notify.deliver_due(world.rt, world.org_id)
    assert run.delivered == 1 and receiver.refused == 0, f"{run}, refused {receiver.refused}"
    assert receiver.verified[0]["type"] == "reminder.sent"
    assert receiver.verified[0]["data"] == {"invoices": ["INV-1"], "amount": "12.50"}, "amounts stay strings"
    assert notify.deliver_due(world.rt, world.org_id).delivered == 0, "a delivered message is not sent twice"
    stored = repos_text(world)
    assert created.secret not in stored, "the secret is stored encrypted"


def repos_text(world: World) -> str:
    with world.rt.sessions() as s:
        return " ".join(sub.secret_ciphertext for sub in repos.webhook_subscriptions(s, world.org_id))


def test_failures_retry_with_backoff_then_die_and_replay_sends_again(world: World, receiver: Receiver) -> None:
    created = notify.subscribe(world.rt, world.org_id, receiver.url, ["promise.broken"])
    receiver.secret = created.secret
    _emit(world, EventType.PROMISE_BROKEN, {"invoices": ["INV-2"]})
    receiver.answers = [500] * (len(notify.BACKOFF) + 1)
    waited = timedelta()
    for wait in notify.BACKOFF:
        assert notify.deliver_due(world.rt, world.org_id).retrying == 1, "a failure waits for its next try"
        world.advance(wait - timedelta(seconds=1))
        assert notify.deliver_due(world.rt, world.org_id) == notify.DeliveryRun(), "nothing before the wait is over"
        world.advance(timedelta(seconds=1))
        waited += wait
    assert timedelta(hours=23) <= waited <= timedelta(hours=25), f"retries span about a day, not {waited}"
    assert notify.deliver_due(world.rt, world.org_id).dead == 1, "after the last try it is dead"
    [dead] = notify.deliveries(world.rt, world.org_id, status="dead")
    found, attempts = notify.delivery(world.rt, world.org_id, dead.id)
    assert [a.status_code for a in attempts] == [500] * (len(notify.BACKOFF) + 1), "the log has every response code"
    notify.replay(world.rt, world.org_id, dead.id)
    assert notify.deliver_due(world.rt, world.org_id).delivered == 1, "a replay goes out again"
    assert receiver.verified[-1]["id"] == found.message_id, "with the same message id, so receivers can dedupe"


def test_an_unreachable_receiver_is_logged_without_a_status(world: World) -> None:
    notify.subscribe(world.rt, world.org_id, "http://127.0.0.1:9/nothing", ["letter.posted"])
    _emit(world, EventType.LETTER_POSTED, {"letter": "fourteen_day_letter"})
    assert notify.deliver_due(world.rt, world.org_id).retrying == 1
    [item] = notify.deliveries(world.rt, world.org_id)
    _, attempts = notify.delivery(world.rt, world.org_id, item.id)
    assert attempts[0].status_code is None and "could not reach" in (attempts[0].error or ""), attempts


@pytest.mark.parametrize(
    ("url", "events", "says"),
    [
        ("file:///etc/passwd", ["reminder.sent"], "https://"),
        ("gopher://127.0.0.1/", ["reminder.sent"], "https://"),
        ("https://user:pw@example.nl/hook", ["reminder.sent"], "no user name"),
        ("https:///nohost", ["reminder.sent"], "name a host"),
        ("https://example.nl/hook", ["invoice.eaten"], "unknown"),
        ("https://example.nl/hook", [], "choose events"),
    ],
)
def test_only_http_urls_and_known_events_are_accepted(world: World, url: str, events: list[str], says: str) -> None:
    with pytest.raises(notify.InvalidSubscription, match=says):
        notify.subscribe(world.rt, world.org_id, url, events)
