"""Fixtures for formatter tests: templates and the sample digests under ``tests/data``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.ingest import parse_file
from bot.models import Digest
from formatters.templates import Templates

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="session")
def templates() -> Templates:
    return Templates("zh")


@pytest.fixture(scope="session")
def templates_en() -> Templates:
    return Templates("en")


@pytest.fixture(scope="session")
def reference() -> Digest:
    """The reference digest as frozen JSON (golden tests must not move with the parser)."""
    return Digest.model_validate(
        json.loads((DATA / "formatters_reference_digest.json").read_text())
    )


@pytest.fixture(scope="session")
def parsed_reference(reference_digest_path: Path) -> Digest:
    """The reference digest through the real parser (end-to-end coverage checks)."""
    return parse_file(reference_digest_path).digest


@pytest.fixture(scope="session")
def hostile() -> Digest:
    return parse_file(DATA / "formatters_hostile.md").digest


@pytest.fixture(scope="session")
def long_section() -> Digest:
    return parse_file(DATA / "formatters_long_section.md").digest
