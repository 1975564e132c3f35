"""The shared rate budget: every API call spends from pyrate-limiter buckets before it is sent.

Sits in front of the wire inside ``ConnectionSession``. Buckets are keyed by ``(provider, provider_tenant)``,
``(provider, connection)`` or ``(provider, "*")`` according to ``RateLimit.scope``, with every rate of one key
in one bucket (docs/architecture.md#rate-budget). The bucket store is shared by all workers: an SQLite file by default
(count-then-insert under ``BEGIN IMMEDIATE`` so two processes cannot both take the last slot), Redis when
``settings.rate_limit_url`` is ``redis://...``, memory for single-process tests. ``acquire`` waits at most
``max_wait`` seconds, then raises ``RateLimited``; ``park`` stops a key until an instant (a daily-limit 429),
and ``observe`` lets an adapter's ``rate_observation(headers, now)`` report what the provider says is left.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import structlog
from pyrate_limiter import AbstractBucket, Decision, InMemoryBucket, Rate, RateItem, RedisBucket, SQLiteBucket
from pyrate_limiter.utils import validate_rate_list

from connector.clock import utcnow
from connector.errors import ConfigurationError, RateLimited
from connector.ports import AccountingAdapter, RateLimit, RateObservation

log = structlog.get_logger(__name__)

BudgetKey = tuple[str, str]
APP_KEY = "*"
_MAX_WAIT_ROUNDS = 1000  # a guard: never spin, whatever a bucket reports
_LEAK_EVERY = 64  # puts between clean-ups of expired entries


class _Backend(Protocol):
    def bucket(self, name: str, rates: list[Rate]) -> AbstractBucket: ...

    def park(self, name: str, until: datetime, reason: str) -> None: ...

    def parked(self, name: str) -> tuple[datetime, str] | None: ...

    def close(self) -> None: ...


class _ImmediateSQLiteBucket(SQLiteBucket):
    """An ``SQLiteBucket`` whose count-then-insert runs inside ``BEGIN IMMEDIATE`` (one writer per file)."""

    def put(self, item: RateItem) -> bool:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                return bool(super().put(item))  # commits when the item is admitted
            finally:
                if self.conn.in_transaction:
                    self.conn.rollback()


class _SQLiteBackend:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(str(path), timeout=15.0, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA busy_timeout=15000")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS rate_parked (key TEXT PRIMARY KEY, until_epoch REAL, reason TEXT)"
        )

    def bucket(self, name: str, rates: list[Rate]) -> AbstractBucket:
        table = f"rl_{name}"
        with self.lock:
            self.conn.execute(f"CREATE TABLE IF NOT EXISTS '{table}' (name VARCHAR, item_timestamp INTEGER)")
            self.conn.execute(f"CREATE INDEX IF NOT EXISTS 'idx_{table}_ts' ON '{table}' (item_timestamp)")
        return _ImmediateSQLiteBucket(rates, self.conn, table=table, lock=self.lock)

    def park(self, name: str, until: datetime, reason: str) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT INTO rate_parked (key, until_epoch, reason) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET until_epoch = excluded.until_epoch, reason = excluded.reason",
                (name, until.timestamp(), reason),
            )

    def parked(self, name: str) -> tuple[datetime, str] | None:
        with self.lock:
            row = self.conn.execute("SELECT until_epoch, reason FROM rate_parked WHERE key = ?", (name,)).fetchone()
        return None if row is None else (datetime.fromtimestamp(row[0], UTC), str(row[1]))

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class _RedisBackend:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)

    def bucket(self, name: str, rates: list[Rate]) -> AbstractBucket:
        bucket = RedisBucket.init(rates, self.client, f"dunning:rate:{name}")
        if not isinstance(bucket, RedisBucket):
            raise ConfigurationError("the rate budget needs a synchronous Redis client")
        return bucket

    def park(self, name: str, until: datetime, reason: str) -> None:
        # the stored instant decides; the expiry only garbage-collects (a day past the later of until and now)
        expire_at = max(int(until.timestamp()), int(time.time())) + 86400
        self.client.set(f"dunning:parked:{name}", f"{until.timestamp()}|{reason}", exat=expire_at)

    def parked(self, name: str) -> tuple[datetime, str] | None:
        raw = self.client.get(f"dunning:parked:{name}")
        if raw is None:
            return None
        epoch, _, reason = (raw.decode() if isinstance(raw, bytes) else str(raw)).partition("|")
        return datetime.fromtimestamp(float(epoch), UTC), reason

    def close(self) -> None:
        self.client.close()


class _ClockOf:
    """The budget's clock in the milliseconds a pyrate bucket counts in (a simulated clock's time, not the host's)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock

    def now(self) -> int:
        return int(self.clock().timestamp() * 1000)


class _MemoryBackend:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.parks: dict[str, tuple[datetime, str]] = {}
        self.clock = clock

    def bucket(self, name: str, rates: list[Rate]) -> AbstractBucket:
        bucket = InMemoryBucket(rates)
        if self.clock is not None:  # docs/operations.md#capacity: a simulated day counts calls in its own time
            bucket._clock = _ClockOf(self.clock)  # type: ignore[assignment]  # noqa: SLF001
        return bucket

    def park(self, name: str, until: datetime, reason: str) -> None:
        self.parks[name] = (until, reason)

    def parked(self, name: str) -> tuple[datetime, str] | None:
        return self.parks.get(name)

    def close(self) -> None:
        self.parks.clear()


def _backend_for(url: str, clock: Callable[[], datetime] | None = None) -> _Backend:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return _RedisBackend(url)
    if url.startswith("sqlite:///"):
        return _SQLiteBackend(Path(url.removeprefix("sqlite:///")))
    if url in ("memory://", ""):
        return _MemoryBackend(clock)
    if clock is not None:
        raise ConfigurationError("a simulated clock needs the in-memory rate budget (memory://)")
    raise ConfigurationError(f"DUNNING_RATE_LIMIT_URL must be sqlite:///<file>, redis://... or memory://; got {url!r}")


def _stable_name(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def _rate_groups(limits: Iterable[RateLimit]) -> list[list[RateLimit]]:
    """All limits of one key in one bucket when pyrate accepts the list; otherwise one bucket per limit."""
    ordered = sorted(limits, key=lambda limit: limit.seconds)
    rates = [Rate(limit.calls, limit.seconds * 1000) for limit in ordered]
    return [ordered] if rates and validate_rate_list(rates) else [[limit] for limit in ordered]


@dataclass
class _Bucket:
    bucket: AbstractBucket
    limits: list[RateLimit]
    lock: threading.Lock
    puts: int = 0

    def scope_of(self, rate: Rate | None) -> str:
        for limit in self.limits:
            if rate is not None and limit.seconds * 1000 == rate.interval:
                return limit.name
        return self.limits[0].name


class RateBudget:
    """Per-(provider, tenant) call budget shared by every worker using the same ``url``."""

    def __init__(
        self,
        url: str = "memory://",
        *,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
        bucket_clock: bool = False,
    ) -> None:
        """``bucket_clock``: the buckets count in ``clock``'s time (a ``SimulatedClock``), not the host's."""
        self.url = url
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._backend = _backend_for(url, clock if bucket_clock else None)
        self._buckets: dict[tuple[str, ...], _Bucket] = {}
        self._registry_lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def without_waiting(self) -> Iterator[None]:
        """In this thread, refuse at once (``RateLimited`` with the instant) instead of waiting for a slot: the day's
        cycle serves other tenants meanwhile (docs/operations.md#capacity)."""
        before = getattr(self._local, "max_wait", None)
        self._local.max_wait = 0.0
        try:
            yield
        finally:
            self._local.max_wait = before

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> RateBudget:
        return cls(settings.rate_limit_url, **kwargs)

    def close(self) -> None:
        self._backend.close()

    # --- keys -----------------------------------------------------------------------------------------------
    @staticmethod
    def key_for(adapter_cls: type[AccountingAdapter], scope: str, tenant: str | None, connection_key: str) -> BudgetKey:
        if scope == "app":
            return (adapter_cls.id, APP_KEY)
        if scope == "connection":
            return (adapter_cls.id, connection_key or tenant or "")
        return (adapter_cls.id, tenant or connection_key or "")

    @classmethod
    def park_key(cls, adapter_cls: type[AccountingAdapter], tenant: str | None, connection_key: str = "") -> BudgetKey:
        """The key a provider's 'come back later' parks: the tenant when known, else the connection."""
        return cls.key_for(adapter_cls, "tenant", tenant, connection_key)

    def _buckets_for(
        self, adapter_cls: type[AccountingAdapter], tenant: str | None, connection_key: str
    ) -> list[tuple[BudgetKey, _Bucket]]:
        by_key: dict[BudgetKey, list[RateLimit]] = {}
        for limit in getattr(adapter_cls, "limits", ()):
            if limit.scope == "tenant" and not tenant:
                continue  # calls outside any tenant (list tenants, /Me) are not counted per tenant
            if limit.scope == "connection" and not (connection_key or tenant):
                continue
            by_key.setdefault(self.key_for(adapter_cls, limit.scope, tenant, connection_key), []).append(limit)
        found: list[tuple[BudgetKey, _Bucket]] = []
        for key, limits in by_key.items():
            for group in _rate_groups(limits):
                ident = (*key, *(f"{limit.calls}/{limit.seconds}" for limit in group))
                with self._registry_lock:
                    entry = self._buckets.get(ident)
                    if entry is None:
                        rates = [Rate(limit.calls, limit.seconds * 1000) for limit in group]
                        entry = _Bucket(self._backend.bucket(_stable_name(*ident), rates), group, threading.Lock())
                        self._buckets[ident] = entry
                found.append((key, entry))
        return found

    # --- spending -------------------------------------------------------------------------------------------
    def acquire(self, adapter_cls: type[AccountingAdapter], tenant: str | None, connection_key: str = "") -> None:
        """Spend one call for every limit that applies; wait up to ``max_wait`` seconds, else ``RateLimited``."""
        now = self._clock()
        keys = {self.key_for(adapter_cls, scope, tenant, connection_key) for scope in ("tenant", "connection", "app")}
        for key in sorted(keys):
            parked = self._backend.parked(_stable_name("park", *key))
            if parked is not None and parked[0] > now:
                until, scope = parked
                raise RateLimited(
                    f"{key[0]} budget parked until {until.isoformat()}",
                    until=until,
                    scope=scope,
                    status=None,
                    provider=key[0],
                )
        waited = 0.0
        local_wait = getattr(self._local, "max_wait", None)
        max_wait = self.max_wait if local_wait is None else local_wait
        for key, entry in self._buckets_for(adapter_cls, tenant, connection_key):
            for _ in range(_MAX_WAIT_ROUNDS):
                wait, scope = self._try_put(entry)
                if wait is None:
                    break
                if wait < 0 or waited + wait > max_wait:
                    until = self._clock() + timedelta(seconds=max(wait, 0.0))
                    log.info("rate_budget.refused", provider=key[0], scope=scope, wait_seconds=round(wait, 3))
                    raise RateLimited(
                        f"{key[0]} {scope} budget spent; next slot in {wait:.1f}s",
                        until=until,
                        scope=scope,
                        status=None,
                        provider=key[0],
                    )
                log.debug("rate_budget.wait", provider=key[0], scope=scope, wait_seconds=round(wait, 3))
                self._sleep(wait)
                waited += wait
            else:  # pragma: no cover - only reachable if a bucket keeps answering "wait 0"
                raise RateLimited(f"{key[0]} budget did not admit the call", until=None, status=None, provider=key[0])

    def _try_put(self, entry: _Bucket) -> tuple[float | None, str]:
        """``(None, scope)`` when admitted, else ``(seconds to wait, scope)``; negative: never admissible."""
        with entry.lock:
            bucket = entry.bucket
            item = RateItem("call", int(bucket.now()))  # type: ignore[no-untyped-call]
            decision = bucket.put_decision(item)
            if not isinstance(decision, Decision):
                raise ConfigurationError("the rate budget needs a synchronous bucket")
            entry.puts += 1
            if entry.puts % _LEAK_EVERY == 0 or not decision.allowed:
                bucket.leak(item.timestamp)
            if decision.allowed:
                return None, entry.scope_of(None)
            wait_ms = decision.retry_after_ms
            if wait_ms is None:
                waiting = bucket.waiting(item)
                wait_ms = waiting if isinstance(waiting, int) else -1
            return (wait_ms / 1000.0 if wait_ms >= 0 else -1.0), entry.scope_of(decision.failing_rate)

    # --- parking and observations ---------------------------------------------------------------------------
    def park(self, key: BudgetKey, until: datetime, reason: str = "day") -> None:
        """Refuse every call for ``key`` until ``until`` (a daily cap hit, or a Retry-After beyond the cap)."""
        log.warning("rate_budget.parked", provider=key[0], until=until.isoformat(), reason=reason)
        self._backend.park(_stable_name("park", *key), until, reason)

    def parked_until(self, key: BudgetKey) -> datetime | None:
        parked = self._backend.parked(_stable_name("park", *key))
        if parked is None or parked[0] <= self._clock():
            return None
        return parked[0]

    def observe(
        self,
        adapter_cls: type[AccountingAdapter],
        tenant: str | None,
        headers: Mapping[str, str],
        connection_key: str = "",
    ) -> list[RateObservation]:
        """Learn from response headers through the adapter's ``rate_observation(headers, now)``.

        A limit the provider reports as exhausted (``remaining == 0`` with a reset instant) parks the tenant
        until that reset, so no worker spends calls that would only come back as 429.
        """
        observations = list(adapter_cls.rate_observation(headers, self._clock()))
        for seen in observations:
            log.debug("rate_budget.observed", provider=adapter_cls.id, scope=seen.scope, remaining=seen.remaining)
            if seen.remaining is not None and seen.remaining <= 0 and seen.reset_at is not None:
                if seen.reset_at > self._clock():
                    self.park(self.park_key(adapter_cls, tenant, connection_key), seen.reset_at, seen.scope)
        return observations
