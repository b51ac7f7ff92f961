"""The reader's routes on the aiohttp app that also serves ``/healthz`` and ``/metrics``.

Pages are built on a small pool of worker threads (the archive is synchronous), so a slow
page never holds up the event loop that also acknowledges chat commands. Every response
gets a strict Content-Security-Policy: no script runs, nothing loads from elsewhere, and
forms only submit to the reader itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from bot.errors import ArchiveError, QueryError
from bot.web.feeds import FeedVersion, build_feed, feed_version
from bot.web.pages import Page, Reader

T = TypeVar("T")
log = logging.getLogger(__name__)
UNAVAILABLE = "503: the archive is not reachable right now; try again shortly"

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Worker threads building pages: the work is mostly Python, so few.
WORKERS = 2
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Ranks above this are no item (the parser bounds ranks much lower).
_MAX_RANK = 10_000
READER_KEY = web.AppKey("reader", Reader)


async def security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the same strict headers on every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def html(page: Page) -> web.Response:
    response = web.Response(text=page.html, status=page.status, content_type="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


def _day(text: str) -> dt.date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def not_modified(request: web.Request, current: FeedVersion) -> bool:
    """RFC 9110: If-None-Match decides when present, else If-Modified-Since."""
    tags = request.if_none_match
    if tags is not None:
        return any(tag.value in (current.etag, "*") for tag in tags)
    since = request.if_modified_since
    return since is not None and current.last_modified <= since


class ReaderRoutes:
    """The handlers, bound to one ``Reader`` and the public URL used in feeds."""

    def __init__(self, reader: Reader, *, base_url: str | None, workers: int = WORKERS) -> None:
        self.reader = reader
        self.base_url = base_url.rstrip("/") if base_url else None
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="digestbot-web")

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args))

    async def page(self, build: Callable[..., Page], *args: object) -> web.Response:
        """A page built on the workers; an unreachable archive is a 503 page, logged."""
        try:
            return html(await self.run(build, *args))
        except ArchiveError as exc:
            log.error("web reader: %s", exc)
            return html(await self.run(self.reader.unavailable))

    async def latest(self, _request: web.Request) -> web.Response:
        return await self.page(self.reader.latest)

    async def day(self, request: web.Request) -> web.Response:
        date = _day(request.match_info["date"])
        if date is None:
            return await self.page(self.reader.not_found)
        return await self.page(self.reader.day, date)

    async def item(self, request: web.Request) -> web.Response:
        date, rank = _day(request.match_info["date"]), int(request.match_info["rank"])
        if date is None or not 0 < rank <= _MAX_RANK:
            return await self.page(self.reader.not_found)
        return await self.page(self.reader.item, date, rank)

    async def search(self, request: web.Request) -> web.Response:
        page = request.query.get("page", "1")
        number = int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 10**6 else 1
        return await self.page(self.reader.search, request.query.get("q", ""), number)

    async def tags(self, _request: web.Request) -> web.Response:
        return await self.page(self.reader.tags)

    async def feed(self, request: web.Request) -> web.Response:
        """Atom; 304 when the reader's copy is current; a bad query is a 400 naming it."""
        text = request.query.get("q", "").strip()
        base = self.base_url or str(request.url.origin())
        try:
            query, current = await self.run(feed_version, self.reader, text, base)
            if not_modified(request, current):
                response = web.Response(status=304)
            else:
                body = await self.run(build_feed, self.reader, query, text, base, current)
                response = web.Response(body=body, content_type="application/atom+xml")
                response.charset = "utf-8"
        except QueryError as exc:
            return web.Response(text=str(exc), status=400, content_type="text/plain")
        except ArchiveError as exc:
            log.error("web reader: %s", exc)
            return web.Response(text=UNAVAILABLE, status=503, content_type="text/plain")
        response.etag = current.etag
        response.last_modified = current.last_modified
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def unauthorized(self, _request: web.Request) -> web.Response:
        response = await self.page(self.reader.unauthorized)
        response.headers["WWW-Authenticate"] = 'Bearer realm="digestbot"'
        return response

    async def close(self, _app: web.Application) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def add_reader(app: web.Application, routes: ReaderRoutes) -> None:
    """Mount the reader's pages, feeds and static files on ``app``."""
    app[READER_KEY] = routes.reader
    router = app.router
    router.add_get("/", routes.latest)
    router.add_get("/d/{date}", routes.day)
    router.add_get(r"/d/{date}/{rank:\d{1,9}}", routes.item)
    router.add_get("/search", routes.search)
    router.add_get("/tags", routes.tags)
    router.add_get("/feed.atom", routes.feed)
    router.add_static("/static", STATIC_DIR, append_version=False)
    app.on_cleanup.append(routes.close)
