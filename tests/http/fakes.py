"""A provider-agnostic test adapter and a scripted Flask API that answers whatever each test queues."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from flask import Flask, Response, request

from connector.http.retry import parse_retry_after
from connector.model import TokenSet
from connector.ports import AccountingAdapter, OAuthSpec, RateLimit


class FakeAdapter(AccountingAdapter):
    """Classifies like the real adapters: 401 reauth, 404 not found, 429 limited, 5xx retry, other 4xx final."""

    id: ClassVar[str] = "fake"
    name: ClassVar[str] = "Fake"
    oauth: ClassVar[OAuthSpec] = OAuthSpec(authorize_path="/authorize", token_path="/token", scopes=("read",))
    limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(60, 60), RateLimit(5000, 86400, name="day"))

    @staticmethod
    def retry_at(status: int, headers: Mapping[str, str], now: datetime) -> tuple[datetime | None, str]:
        scope = headers.get("X-Rate-Limit-Problem", "minute")
        return parse_retry_after(headers.get("Retry-After"), now), scope

    @staticmethod
    def parse_token_response(body: Mapping[str, Any], now: datetime) -> TokenSet:
        raise NotImplementedError


class ScriptedApi:
    """Flask app on ``/api/<anything>``: pops the next queued (status, headers, body); 200 ``{}`` when empty."""

    def __init__(self) -> None:
        self.queue: deque[tuple[int, dict[str, str], str]] = deque()
        self.seen: list[dict[str, str]] = []
        self.app = Flask("scripted")
        self.app.add_url_rule("/api/<path:rest>", "api", self._answer, methods=["GET", "POST", "PUT"])

    def push(self, status: int, body: str = "{}", **headers: str) -> None:
        self.queue.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, body))

    def _answer(self, rest: str) -> Response:
        self.seen.append({"path": rest, "authorization": request.headers.get("Authorization", "")})
        status, headers, body = self.queue.popleft() if self.queue else (200, {}, "{}")
        return Response(body, status=status, headers=headers, content_type="application/json")
