"""Shared fixtures for the platform adapter tests: an archive holding the reference digest."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.chat import CommandCore
from bot.config import Settings
from bot.ingest import ingest_paths, parse_file


@pytest.fixture
def reference_archive(sqlite_url: str, reference_digest_path: Path) -> Iterator[Archive]:
    """A real SQLite archive with the reference digest (the core is tested on PostgreSQL too)."""
    archive = Archive(sqlite_url)
    archive.create_schema()
    assert ingest_paths(archive, [str(reference_digest_path)], workers=1).created == 1
    yield archive
    archive.close()


@pytest.fixture
def reference_titles(reference_digest_path: Path) -> dict[int, str]:
    return {item.rank: item.title for item in parse_file(reference_digest_path).digest.items}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: A Monday just after ISO week 2026-W06, the week the week archive holds.
WEEK_NOW = dt.datetime(2026, 2, 9, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def week_core(sqlite_url: str, week_dir: Path) -> Iterator[CommandCore]:
    """A command core over a SQLite archive of the week's digests, its clock on 2026-02-09."""
    archive = Archive(sqlite_url)
    archive.create_schema()
    ingest_paths(archive, [str(week_dir)], workers=1)
    core = CommandCore(archive, Settings(language="en"), clock=lambda: WEEK_NOW)
    yield core
    core.close()
    archive.close()
