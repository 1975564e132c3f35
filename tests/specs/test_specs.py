"""Every OpenAPI document the spec tests use is in the repo and parses as OpenAPI 3."""

from __future__ import annotations

import pytest

from tests.specs import HANDMADE, OFFICIAL, SPECS, load_spec, spec_path


@pytest.mark.parametrize("name", OFFICIAL + HANDMADE)
def test_spec_is_in_the_repo_and_is_openapi_3(name: str) -> None:
    document = load_spec(name)
    assert str(document.get("openapi", "")).startswith("3."), f"{name}: not an OpenAPI 3 document"
    assert document.get("paths") or document.get("webhooks"), f"{name}: neither paths nor webhooks"


def test_the_handmade_spec_says_so() -> None:
    description = load_spec("exact_handmade.yaml")["info"]["description"]
    assert "HAND-MADE" in description


def test_no_other_documents_lie_unlisted() -> None:
    on_disk = {p.name for p in SPECS.iterdir() if p.suffix in (".yaml", ".yml")}
    assert on_disk == set(OFFICIAL + HANDMADE)


def test_a_missing_spec_fails_instead_of_skipping() -> None:
    with pytest.raises(pytest.fail.Exception, match="missing from tests/specs"):
        spec_path("no_such_spec.yaml")
