"""A forward HTTP proxy for tests: relays absolute-form requests and records their paths.

Clients configured with ``proxy=http://127.0.0.1:PORT`` send ``POST http://host/path``; the
proxy forwards them to the fake platform and answers with its response, so a test can see
that every call went through the proxy.
"""

from __future__ import annotations

import time

import aiohttp
from aiohttp import web

from tests.fakes.server import Call, FakeServer

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "host"}


class FakeProxy(FakeServer):
    """Relays plain-HTTP requests (the fakes speak HTTP); ``paths`` lists what it relayed."""

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._relay)

    @property
    def url(self) -> str:
        return self.base_url

    @property
    def paths(self) -> list[str]:
        with self._lock:
            return [call.method for call in self.calls]

    async def _relay(self, request: web.Request) -> web.Response:
        target = f"http://{request.headers['Host']}{request.rel_url}"
        with self._lock:
            self.calls.append(Call(request.rel_url.path, {}, time.monotonic()))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, target, headers=headers, data=await request.read()
            ) as response,
        ):
            body = await response.read()
            out = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP}
            out.pop("Content-Length", None)
            return web.Response(status=response.status, body=body, headers=out)
