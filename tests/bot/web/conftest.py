"""The reader over real HTTP: an aiohttp test server on a real archive.

The archive holds the reference digest (2026-02-03), the hostile one (2026-02-05) and the
rich-markdown one (2026-02-08), stored through the real parser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.archive import Archive
from bot.config import Settings
from bot.ingest import file_sha256, parse_file
from bot.runtime.health import make_health_app
from bot.web import mount
from tests.conftest import DATA, REFERENCE_DIGEST

HOSTILE_DIGEST = DATA / "formatters_hostile.md"
RICH_DIGEST = DATA / "digests" / "rich-markdown-2026-02-08.md"
READER_DIGESTS = (REFERENCE_DIGEST, HOSTILE_DIGEST, RICH_DIGEST)

Serve = Callable[..., Any]


def fill(archive: Archive, paths: tuple[Path, ...] = READER_DIGESTS) -> Archive:
    archive.create_schema()
    for path in paths:
        archive.store(parse_file(path).digest, path=str(path), sha256=file_sha256(path))
    return archive


def reader_settings(**web: Any) -> Settings:
    return Settings(web={"enabled": True, "port": 0, **web})


@pytest.fixture
def archive(sqlite_url: str) -> AsyncIterator[Archive]:
    archive = fill(Archive(sqlite_url))
    yield archive
    archive.close()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """``await serve(archive, **web_settings)`` → a TestClient on the reader's app."""
    clients: list[TestClient] = []

    async def start(archive: Archive, settings: Settings | None = None, **web: Any) -> TestClient:
        app = make_health_app(archive=archive, scheduler=None, listeners=[])
        mount(app, settings or reader_settings(**web), archive)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def client(archive: Archive, serve: Serve) -> TestClient:
    return await serve(archive, base_url="https://reader.example")
