"""``web.token``: every route but ``/healthz`` asks for it.

A script or proxy sends ``Authorization: Bearer TOKEN``; a person or a feed reader opens
a URL with ``?token=TOKEN`` once. The browser then keeps an HttpOnly cookie and the page
is reloaded without the token in its address (so it is not left in history or on a
shared screen); feeds and ``/metrics`` are answered in place, since their clients rarely
keep cookies. The cookie holds an HMAC of the token, never the token itself, and every
comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Collection

from aiohttp import web

COOKIE = "digestbot_token"
#: Paths served without the token (an orchestrator's probe has none).
OPEN_PATHS = frozenset({"/healthz"})
#: Paths a ``?token=`` answers in place instead of redirecting to a token-free address.
IN_PLACE = frozenset({"/feed.atom", "/metrics"})
#: A year: the token, not the cookie, is what an operator rotates.
COOKIE_MAX_AGE = 365 * 24 * 3600

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Refusal = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def cookie_value(token: str) -> str:
    """What the cookie holds: proof of the token that does not reveal it."""
    return hmac.new(token.encode("utf-8"), b"digestbot web reader", hashlib.sha256).hexdigest()


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _without_token(request: web.Request) -> str:
    """The request's own path and query minus ``token``; never ``//host`` (another site)."""
    clean = request.rel_url.without_query_params("token")
    path = "/" + clean.raw_path.lstrip("/")
    return f"{path}?{clean.raw_query_string}" if clean.raw_query_string else path


def token_middleware(
    token: str,
    *,
    refuse: Refusal,
    secure_cookie: bool = False,
    open_paths: Collection[str] = OPEN_PATHS,
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware letting through only requests that carry ``token``;
    ``refuse`` answers the others (a 401 page)."""
    proof = cookie_value(token)

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in open_paths:
            return await handler(request)
        bearer = _bearer(request)
        if bearer is not None and _same(bearer, token):
            return await handler(request)
        cookie = request.cookies.get(COOKIE)
        if cookie is not None and _same(cookie, proof):
            return await handler(request)
        given = request.query.get("token")
        if given is None or not _same(given, token):
            return await refuse(request)
        if request.method in ("GET", "HEAD") and request.path not in IN_PLACE:
            response: web.StreamResponse = web.Response(
                status=303, headers={"Location": _without_token(request)}
            )
        else:
            response = await handler(request)
        response.set_cookie(
            COOKIE,
            proof,
            max_age=COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=secure_cookie,
        )
        return response

    return check_token
