"""Schemathesis against the live app (the demo-seeded installation of ``conftest``, served on 127.0.0.1) with a
write key: no server errors, and every status code, content type, header and body conforms to the OpenAPI
document. A few examples per operation keep it to about a minute."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.api.conftest import ApiWorld
from tests.dbs import backend

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def test_schemathesis_finds_nothing_against_the_live_api(world: ApiWorld, tmp_path: Path) -> None:
    st = Path(sys.executable).parent / "st"
    result = subprocess.run(
        [
            str(st),
            "run",
            f"{world.url}/openapi.json",
            "--url",
            world.run.web.url,
            "-H",
            f"Authorization: Bearer {world.write_key}",
            "--checks",
            CHECKS,
            "--max-examples",
            "6",
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            "1",
            "--request-timeout",
            "20",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the run's summary: operations, examples, time (for the notes)
    (ARTIFACTS / f"schemathesis-{backend()}.txt").write_text(result.stdout[-6000:], encoding="utf-8")
    assert result.returncode == 0, f"schemathesis found problems:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
