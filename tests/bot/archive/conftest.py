"""An empty archive on each database (SQLite file, then PostgreSQL), schema created."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.archive import Archive


@pytest.fixture
def archive(db_url: str) -> Iterator[Archive]:
    archive = Archive(db_url)
    archive.create_schema()
    yield archive
    archive.close()
