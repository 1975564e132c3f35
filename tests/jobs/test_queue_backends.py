"""``make_huey``: SQLite by default, immediate in memory for tests and the demo, Redis at scale."""

from __future__ import annotations

import pickle
import uuid
from pathlib import Path

import pytest
from huey import MemoryHuey, RedisHuey, SqliteHuey

from connector import demo
from connector.jobs import build_queue, make_huey
from connector.settings import Settings
from connector.storage import repos
from tests.jobs.conftest import REDIS_URL, redis_reachable


@pytest.mark.sqlite_only
def test_sqlite_huey_by_default_in_the_var_dir(tmp_path: Path) -> None:
    huey = make_huey(Settings(var_dir=tmp_path / "var"))
    assert isinstance(huey, SqliteHuey) and not huey.immediate
    assert Path(huey.storage.filename) == tmp_path / "var" / "queue.db"

    @huey.task()  # type: ignore[untyped-decorator]
    def double(n: int) -> int:
        return n * 2

    double(21)
    assert (tmp_path / "var" / "queue.db").exists() and huey.pending_count() == 1
    assert huey.execute(huey.dequeue()) == 42
    assert huey.pending_count() == 0


def test_sqlite_huey_at_an_explicit_url(tmp_path: Path) -> None:
    huey = make_huey(Settings(var_dir=tmp_path / "var", queue_url=f"sqlite:///{tmp_path / 'elsewhere' / 'q.db'}"))
    assert isinstance(huey, SqliteHuey)
    assert Path(huey.storage.filename) == tmp_path / "elsewhere" / "q.db"
    assert (tmp_path / "elsewhere").is_dir()


def test_memory_huey_runs_immediately_with_queue_immediate(tmp_path: Path) -> None:
    huey = make_huey(Settings(var_dir=tmp_path / "var", queue_immediate=True, queue_url=REDIS_URL))
    assert isinstance(huey, MemoryHuey) and huey.immediate
    ran: list[int] = []

    @huey.task()  # type: ignore[untyped-decorator]
    def record(n: int) -> int:
        ran.append(n)
        return n

    assert record(7)() == 7 and ran == [7]  # executed inline; its result is ready at once
    assert not (tmp_path / "var" / "queue.db").exists()


@pytest.mark.redis
def test_redis_huey_stores_the_task_in_redis_and_a_worker_executes_it(stack: demo.DemoRun) -> None:
    if not redis_reachable():
        pytest.skip("Redis not reachable on 127.0.0.1:6379: skipped")
    # a queue of its own: another test run on the same Redis (the PostgreSQL + Redis pass, a colleague) never
    # takes this task or flushes it away
    settings = stack.runtime.settings.model_copy(
        update={"queue_immediate": False, "queue_url": REDIS_URL, "queue_name": f"test-{uuid.uuid4().hex[:12]}"}
    )
    queue = build_queue(settings, lambda: stack.runtime)
    huey = queue.huey
    assert isinstance(huey, RedisHuey)
    huey.flush()
    rt = stack.runtime
    with rt.sessions() as s:
        connection = repos.list_connections(s, stack.org_id, "moneybird")[0]
    before = connection.last_sync_at
    try:
        queue.enqueue(
            "sync_connection", f"sync:{connection.id}", {"org_id": stack.org_id, "connection_id": connection.id}
        )
        conn = huey.storage.conn
        raw = conn.lrange(huey.storage.queue_key, 0, -1)
        assert len(raw) == 1 and huey.pending_count() == 1
        message = pickle.loads(raw[0])  # noqa: S301 - our own queue entry
        assert message.kwargs == {"org_id": stack.org_id, "connection_id": connection.id}
        assert rt.tokens.access_token(connection.id).encode() not in raw[0], "tasks carry ids, never tokens"
        with rt.sessions() as s:
            assert repos.get_connection(s, stack.org_id, connection.id).last_sync_at == before  # not run yet

        task = huey.dequeue()
        assert task is not None and task.id == message.id
        result = huey.execute(task)
        assert result["api_calls"] > 0
        assert huey.pending_count() == 0
        with rt.sessions() as s:
            after = repos.get_connection(s, stack.org_id, connection.id).last_sync_at
        assert before is not None and after is not None and after > before
    finally:
        huey.flush()
