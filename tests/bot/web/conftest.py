"""The reader over real HTTP, served as ``digestbot run`` serves it, on a real archive.

The archive holds the reference digest (2026-02-03), the hostile one (2026-02-05) and the
rich-markdown one (2026-02-08), stored through the real parser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.archive import Archive
from bot.config import Settings
from bot.ingest import file_sha256, parse_file
from bot.runtime import bound_port, start_http_server
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


class Client:
    """A browser-like client of one running server: relative paths, a cookie jar."""

    def __init__(self, runner: web.AppRunner) -> None:
        self.runner = runner
        self.base = f"http://127.0.0.1:{bound_port(runner)}"
        self.session = aiohttp.ClientSession(
            base_url=self.base, cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        self.get = self.session.get

    def make_url(self, path: str) -> str:
        return self.base + path

    async def close(self) -> None:
        await self.session.close()
        await self.runner.cleanup()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """``await serve(archive, settings | **web)`` → a Client of the server ``digestbot run``
    starts (``start_http_server``), on a random port."""
    clients: list[Client] = []

    async def start(archive: Archive, settings: Settings | None = None, **web: Any) -> Client:
        settings = settings or reader_settings(**web)
        runner = await start_http_server(settings, archive=archive, scheduler=None, listeners=[])
        clients.append(Client(runner))
        return clients[-1]

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def client(archive: Archive, serve: Serve) -> Client:
    return await serve(archive, base_url="https://reader.example")
