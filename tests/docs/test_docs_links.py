"""The repository explains itself: every ``docs/<page>.md#<anchor>`` that code, tests or docs cite exists, nothing
cites a document outside the repository, and no product-internal code (P12, L9, U15) reaches what users read.

Comments cite ``docs/<page>.md#<anchor>`` (docs/README.md); anchors are GitHub's heading slugs, so renaming a
heading breaks the citations of it, and this test names each one by file and line. The files are the ones git
tracks, so the test sees exactly what lands; the official OpenAPI specs under ``tests/specs`` are provider text,
not ours, and are left out.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_SPECS = {
    "tests/specs/moneybird_openapi.yml",
    "tests/specs/xero_accounting.yaml",
    "tests/specs/xero-identity.yaml",
    "tests/specs/xero-webhooks.yaml",
}
BINARY = (".png", ".pdf", ".ico", ".woff", ".woff2", ".sqlite", ".db")

CITATION = re.compile(r"(?<![\w/.-])(docs/[\w./-]+?\.md)(?:#([\w-]+))?")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+?\.md)(?:#([\w-]+))?\)")
MD_NAME = re.compile(r"(?<![\w/.*-])((?:\.\./)*[\w][\w./-]*\.md)\b")
SECTION_SIGN = re.compile(r"§\s?\d")
INTERNAL_CODE = re.compile(r"\b[PLU]\d{1,2}\b")


def tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [p for p in out.splitlines() if p not in PROVIDER_SPECS and not p.endswith(BINARY) and (ROOT / p).is_file()]


@cache
def text_files() -> dict[str, list[str]]:
    files = {}
    for path in tracked():
        try:
            files[path] = (ROOT / path).read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
    return files


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (hyphens and underscores kept), spaces → '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())  # a link's text, not its target
    text = re.sub(r"[`*]", "", text).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    found = set()
    in_fence = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        match = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if in_fence or not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def citations() -> Iterator[tuple[str, int, Path, str | None]]:
    """(file, line, target page, anchor) for every docs/ citation in a tracked file and every .md link in docs."""
    for path, lines in text_files().items():
        for number, line in enumerate(lines, 1):
            for match in CITATION.finditer(line):
                yield path, number, ROOT / match.group(1), match.group(2)
            if path.endswith(".md"):
                for match in MARKDOWN_LINK.finditer(line):
                    if "://" not in match.group(1):
                        yield path, number, (ROOT / path).parent / match.group(1), match.group(2)


def test_slugs_follow_github() -> None:
    cases = [
        ("The 14-day letter", "the-14-day-letter"),
        ("HTTP, retries and the rate budget", "http-retries-and-the-rate-budget"),
        ("Retries and Retry-After", "retries-and-retry-after"),
        ("Partial payments, credit notes and grouping", "partial-payments-credit-notes-and-grouping"),
        ("`GET /Invoices`", "get-invoices"),
        ("VAT on collection costs (BTW)", "vat-on-collection-costs-btw"),
    ]
    for heading, expected in cases:
        assert slug(heading) == expected, f"slug of {heading!r}: {slug(heading)!r}, GitHub makes {expected!r}"


def test_the_repo_cites_docs() -> None:
    found = list(citations())
    assert len(found) > 300, f"only {len(found)} docs/ citations found: is the pattern still matching?"


def test_every_cited_page_and_anchor_exists() -> None:
    broken = []
    for path, number, page, anchor in citations():
        if not page.resolve().is_file():
            broken.append(f"{path}:{number}: {page.relative_to(ROOT)} does not exist")
        elif anchor is not None and anchor not in anchors(page.resolve()):
            target = page.resolve().relative_to(ROOT)
            broken.append(f"{path}:{number}: {target} has no heading with anchor #{anchor}")
    assert not broken, "citations that lead nowhere:\n" + "\n".join(broken)


def test_nothing_cites_documents_outside_the_repo() -> None:
    outside = []
    for path, lines in text_files().items():
        if path.startswith("docs/"):
            continue
        here = (ROOT / path).parent
        for number, line in enumerate(lines, 1):
            for match in MD_NAME.finditer(line):
                name = match.group(1)
                if not ((ROOT / name).is_file() or (here / name).is_file()):
                    outside.append(f"{path}:{number}: {name} is not a file in the repo (cite docs/<page>.md#<anchor>)")
            if SECTION_SIGN.search(line) and not re.search(r"RFC \d+ §", line):
                outside.append(f"{path}:{number}: a § section of some document: cite docs/<page>.md#<anchor>")
    assert not outside, "citations of documents outside the repo:\n" + "\n".join(outside)


def _help_texts() -> Iterator[tuple[str, str]]:
    from connector.cli import app

    def walk(command: Any, name: str) -> Iterator[tuple[str, str]]:  # typer vendors its own click: duck typing
        for text in (command.help, command.short_help, command.epilog):
            if text:
                yield name, text
        for param in command.params:
            if getattr(param, "help", None):
                yield f"{name} {param.opts[0]}", param.help
        for sub_name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{name} {sub_name}")

    yield from walk(typer.main.get_command(app), "dunning")


USER_FILES = ("connector/channels/templates/", "dashboard/templates/", "dashboard/translations/", "connector/defaults/")


def _user_files() -> Iterator[tuple[str, str]]:
    """Templates, translation catalogues, default policies, the docs and the README, line by line."""
    for path, lines in text_files().items():
        if path.startswith((*USER_FILES, "docs/")) or path == "README.md":
            for number, line in enumerate(lines, 1):
                yield f"{path}:{number}", line


USER_TEXT: list[tuple[str, Callable[[], Iterator[tuple[str, str]]]]] = [
    ("files", _user_files),
    ("cli-help", _help_texts),
]


@pytest.mark.parametrize(("kind", "texts"), USER_TEXT, ids=[kind for kind, _ in USER_TEXT])
def test_no_internal_codes_in_what_users_read(kind: str, texts: Callable[[], Iterator[tuple[str, str]]]) -> None:
    seen = 0
    leaks = []
    for where, text in texts():
        seen += 1
        if INTERNAL_CODE.search(text):
            leaks.append(f"{where}: {', '.join(INTERNAL_CODE.findall(text))} in {text.strip()[:100]!r}")
    assert seen > 20, f"{kind}: only {seen} texts read: is the walk still finding them?"
    assert not leaks, f"{kind}: internal codes instead of plain words or a docs/ link:\n" + "\n".join(leaks)
