"""The OpenAPI documents the spec tests validate the sandboxes against, kept in the repo next to this module.

Official, copied unchanged: ``xero_accounting.yaml``, ``xero-identity.yaml`` and ``xero-webhooks.yaml`` (Xero's
published OpenAPI, github.com/XeroAPI/Xero-OpenAPI, MIT licence, version 16.1.0) and ``moneybird_openapi.yml``
(developer.moneybird.com, version v2-20260821-37a2205df2). Hand-made: ``exact_handmade.yaml`` (Exact Online
publishes no OpenAPI document; ours covers only what the adapter and the sandbox use). ``spec_path`` fails the
test that asks for a missing document: a spec test never skips.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

SPECS = Path(__file__).resolve().parent
OFFICIAL = ("xero_accounting.yaml", "xero-identity.yaml", "xero-webhooks.yaml", "moneybird_openapi.yml")
HANDMADE = ("exact_handmade.yaml",)


def spec_path(name: str) -> Path:
    """The path of a spec in ``tests/specs``; fails (never skips) the calling test when it is not there."""
    path = SPECS / name
    if not path.is_file():
        pytest.fail(f"OpenAPI document {name} is missing from tests/specs/: restore it from version control")
    return path


def load_spec(name: str) -> dict[str, Any]:
    """The parsed document (the C loader when PyYAML has it: the Moneybird spec is 2.4 MB)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with spec_path(name).open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
    return document
