"""Shared fixtures: real databases (a SQLite file and the real PostgreSQL) and sample data."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
REFERENCE_DIGEST = ROOT / "examples" / "digests" / "2026-02-03.md"
PG_URL = os.environ.get(
    "DIGESTBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(_plain_pg_dsn(PG_URL), connect_timeout=3):
            return True
    except Exception:
        return False


def _plain_pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def reference_digest_path() -> Path:
    return REFERENCE_DIGEST


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def week_dir() -> Path:
    """Reference-format digests of ISO week 2026-W06 (Mon 02-02 to Sun 02-08) and a few
    earlier days, with the same story on two days (by title, and by link)."""
    return DATA / "week"


@pytest.fixture
def week_archive(db_url: str, week_dir: Path) -> Iterator[Any]:
    """The week's digests in a real archive, on SQLite and on PostgreSQL."""
    from bot.archive import Archive
    from bot.ingest import ingest_paths

    archive = Archive(db_url)
    archive.create_schema()
    summary = ingest_paths(archive, [str(week_dir)], workers=1)
    assert summary.created == len(list(week_dir.glob("*.md"))), summary.problems
    yield archive
    archive.close()


@pytest.fixture
async def services() -> AsyncIterator[list[Any]]:
    """Services a test starts (``bot.runtime.Service``), stopped at its end if still running."""
    made: list[Any] = []
    yield made
    for service in made:
        if service.scheduler.running:
            await service.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema per test, dropped afterwards, on the real server."""
    if os.environ.get("CI") and not _pg_available():
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}; .ci/run must start it")
    if not _pg_available():
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = _plain_pg_dsn(PG_URL)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema},public"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on a real SQLite file and once on the real PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


# Fixtures that start the fake Slack and Telegram servers live with the fakes.
pytest_plugins = ["tests.fakes.fixtures"]
