"""The web reader: the archive as pages and Atom feeds, beside ``/healthz`` and ``/metrics``.

``pages`` builds the server-rendered pages (jinja2 + ``markup``'s inert markdown-it HTML),
``feeds`` the Atom feeds (feedgen, with ETag/Last-Modified), ``app`` mounts the routes on
the runtime's aiohttp app, ``auth`` checks ``web.token``. It reads the archive and never
writes it; ``bot.runtime`` mounts it (this package imports nothing from there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.web.app import CSP, ReaderRoutes, add_reader, security_headers
from bot.web.auth import COOKIE, token_middleware
from bot.web.feeds import FEED_SIZE, entry_id
from bot.web.pages import PAGE_SIZE, Page, Reader

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.config import Settings

__all__ = [
    "COOKIE",
    "CSP",
    "FEED_SIZE",
    "PAGE_SIZE",
    "Page",
    "Reader",
    "ReaderRoutes",
    "add_reader",
    "entry_id",
    "mount",
    "token_middleware",
]


async def _plain_401(_request: web.Request) -> web.Response:
    return web.Response(
        text="401: a token is needed (Authorization: Bearer TOKEN, or ?token=TOKEN)",
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="digestbot"'},
    )


def mount(app: web.Application, settings: Settings, archive: Archive) -> None:
    """Add to ``app``: strict headers, the ``web.token`` check when set, and the reader
    and feeds when ``web.enabled``."""
    app.on_response_prepare.append(security_headers)
    routes = None
    if settings.web.enabled:
        reader = Reader.from_settings(settings, archive)
        routes = ReaderRoutes(reader, base_url=settings.web.base_url)
        add_reader(app, routes)
    token = settings.web.token
    if token is not None:
        base = settings.web.base_url or ""
        app.middlewares.append(
            token_middleware(
                token.get_secret_value(),
                refuse=routes.unauthorized if routes else _plain_401,
                secure_cookie=base.startswith("https://"),
            )
        )
