"""``dunning serve`` as it runs in production: gunicorn started by the command, on a free 127.0.0.1 port, over a
migrated SQLite database (docs/operations.md#start). SIGTERM stops it with every worker; a body over
DUNNING_WEBHOOK_MAX_BYTES gets 413 whether its length is announced or chunked; two clients stalled half-way
through their bodies do not keep a third from being answered; gunicorn's and the app's log lines follow
DUNNING_LOG_LEVEL and DUNNING_LOG_JSON; binding beyond loopback without any account is refused in one line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from connector.auth.crypto import TokenCipher
from connector.storage.db import upgrade

DUNNING = str(Path(sys.executable).parent / "dunning")
MAX_BYTES = 4096


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (read from /proc: the workers of a gunicorn master)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_") or k == "DUNNING_TEST_NOW"}
    env.update(
        DUNNING_VAR_DIR=str(tmp_path / "var"),
        DUNNING_DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'dunning.db'}",
        DUNNING_SECRET_KEYS=json.dumps([TokenCipher.generate_key()]),
        DUNNING_WEBHOOK_MAX_BYTES=str(MAX_BYTES),
        **extra,
    )
    return env


def _serve(tmp_path: Path, *args: str, **extra: str) -> Served:
    port = _free_port()
    env = _env(tmp_path, DUNNING_BASE_URL=f"http://127.0.0.1:{port}", **extra)
    (tmp_path / "var").mkdir(exist_ok=True)
    upgrade(env["DUNNING_DATABASE_URL"])
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [DUNNING, "serve", "--port", str(port), "--workers", "2", "--threads", "4", *args],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"dunning serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            requests.get(f"{url}/login", timeout=2)
            return Served(process, url, log)
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"dunning serve did not answer within 60 s:\n{log.read_text()}")


def _stop(served: Served) -> None:
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    running = _serve(tmp_path)
    yield running
    _stop(running)


def test_sigterm_stops_gunicorn_and_every_worker(served: Served) -> None:
    workers, deadline = _children(served.process.pid), time.monotonic() + 20
    while len(workers) < 2 and time.monotonic() < deadline:  # the second worker may still be forking
        time.sleep(0.2)
        workers = _children(served.process.pid)
    assert len(workers) >= 2, f"expected 2 workers under the served process, found {sorted(workers)}"
    served.process.send_signal(signal.SIGTERM)
    code = served.process.wait(timeout=40)
    assert code == 0, f"dunning serve exited with {code} on SIGTERM"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    survivors = [pid for pid in workers if _alive(pid)]
    assert not survivors, f"gunicorn workers survived SIGTERM: {survivors}"


def _raw_post(url: str, head: bytes, body_parts: list[bytes], pause: float = 0.0) -> int:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as conn:
        conn.sendall(head)
        for part in body_parts:
            try:
                conn.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered early and closed
            time.sleep(pause)
        answer = conn.recv(4096).decode("latin-1")
    return int(answer.split(" ", 2)[1])


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_gets_413(served: Served, chunked: bool) -> None:
    body = b"{" + b" " * (MAX_BYTES * 3) + b"}"
    target = f"POST /webhooks/xero HTTP/1.1\r\nHost: {served.url.removeprefix('http://')}\r\n"
    if chunked:
        head = (target + "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n").encode()
        parts = [
            f"{len(body[i : i + 1024]):x}\r\n".encode() + body[i : i + 1024] + b"\r\n"
            for i in range(0, len(body), 1024)
        ]
        parts.append(b"0\r\n\r\n")
    else:
        head = (target + f"Content-Length: {len(body)}\r\nContent-Type: application/json\r\n\r\n").encode()
        parts = [body]
    status = _raw_post(served.url, head, parts)
    assert status == 413, f"{'chunked' if chunked else 'announced'} body of {len(body)} bytes answered {status}"
    within = requests.post(f"{served.url}/webhooks/xero", data=b"{}", timeout=10)
    assert within.status_code != 413, "a body within the limit was refused as too large"


def test_two_stalled_clients_do_not_stall_the_server(served: Served) -> None:
    host = served.url.removeprefix("http://")
    stalled = []
    for _ in range(2):  # headers announce a body that never comes: each holds a thread, not the server
        conn = socket.create_connection(("127.0.0.1", int(host.split(":")[1])), timeout=30)
        conn.sendall(f"POST /webhooks/xero HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2000\r\n\r\n{{".encode())
        stalled.append(conn)
    try:
        time.sleep(0.5)
        began = time.monotonic()
        answers = [requests.post(f"{served.url}/webhooks/xero", data=b"{}", timeout=10).status_code for _ in range(4)]
        took = time.monotonic() - began
        assert all(a < 500 for a in answers), f"answers beside two stalled clients: {answers}"
        assert took < 5, f"four requests beside two stalled clients took {took:.1f} s"
    finally:
        for conn in stalled:
            conn.close()


def test_logging_follows_the_settings_in_master_and_workers(tmp_path: Path) -> None:
    served = _serve(tmp_path, DUNNING_LOG_LEVEL="DEBUG", DUNNING_LOG_JSON="true")
    try:
        requests.post(f"{served.url}/webhooks/xero", data=b"{}", headers={"x-xero-signature": "wrong"}, timeout=10)
    finally:
        _stop(served)
    records = []
    for line in served.lines():
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a line that is not JSON with DUNNING_LOG_JSON=true: {line!r}")
    loggers = {r.get("logger") for r in records}
    assert "gunicorn.error" in loggers, (
        f"gunicorn's master lines do not go through the handler: {sorted(map(str, loggers))}"
    )
    assert any(r.get("event") == "webhook.rejected" for r in records), "a worker's line is missing"
    assert any(r.get("level") == "debug" for r in records), "DUNNING_LOG_LEVEL=DEBUG left out debug lines"

    quiet = _serve(tmp_path, DUNNING_LOG_LEVEL="WARNING", DUNNING_LOG_JSON="false")
    _stop(quiet)
    text = quiet.lines()
    assert not any(line.startswith("{") for line in text), f"JSON lines with DUNNING_LOG_JSON=false: {text[:3]}"
    assert not any("Booting worker" in line for line in text), f"info lines at WARNING: {text[:5]}"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])  # noqa: S104 - the refusal under test
def test_serving_beyond_loopback_without_accounts_is_refused(tmp_path: Path, host: str) -> None:
    env = _env(tmp_path)
    (tmp_path / "var").mkdir(exist_ok=True)
    upgrade(env["DUNNING_DATABASE_URL"])
    done = subprocess.run(
        [DUNNING, "serve", "--host", host, "--port", str(_free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0, f"serve on {host} without accounts started"
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "dunning user create" in done.stderr, f"the refusal does not say what to do: {done.stderr}"
    assert len(lines) <= 2 and "Traceback" not in done.stderr, f"not a short refusal: {done.stderr}"
