"""slack_sdk retry handlers for digest posts, and reading ``Retry-After``.

Why apart from the transport: which failures may be retried is its own rule. 429s and
connections that never opened cannot have posted; for read calls 5xx and dropped
connections are retried too; a 5xx or a dropped connection on ``chat.postMessage`` may have
posted, so it is left to the transport (transient, ``maybe_posted``).
"""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

#: The longest ``Retry-After`` slack_sdk's handler may sleep through; longer waits go back
#: to the delivery engine, which renews its lease while waiting and stops at the window.
MAX_HANDLER_WAIT = 30.0
#: Any wait is capped here (a ``Retry-After: inf`` would otherwise overflow timedelta).
MAX_WAIT = 10.0**7
#: Methods whose retry could post a second message.
UNSAFE_METHODS = ("chat.postMessage",)


def _unsafe(request: HttpRequest) -> bool:
    return request.url.rstrip("/").endswith(UNSAFE_METHODS)


class _ReadServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """Retries 5xx for reads only: a 5xx on chat.postMessage is reconciled by the engine."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _unsafe(request):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


class _SafeConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    """Retries connection errors, except a connection dropped mid-post (it may have posted)."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _unsafe(request) and not isinstance(error, aiohttp.ClientConnectorError):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


class _BoundedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler with every wait bounded and every header value accepted.

    The stock handler sleeps ``int(Retry-After)`` seconds inside the call (a day for
    ``86400``, past the lease and the window) and crashes on ``inf`` or ``abc``. Here only
    short, well-formed waits are slept through; the rest go back to the engine as a
    transient error, whose wait renews the lease and stops at ``delivery.window``.
    """

    def __init__(self, *, max_retry_count: int, max_wait: float = MAX_HANDLER_WAIT) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after_seconds(response.headers)
        return wait is not None and wait <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        wait = retry_after_seconds(response.headers) if response is not None else None
        state.next_attempt_requested = True
        await asyncio.sleep(min(wait if wait is not None else 1.0, self.max_wait) + random.random())
        state.increment_current_attempt()


def retry_handlers(
    *, rate_limit_retries: int = 3, server_retries: int = 2, max_wait: float = MAX_HANDLER_WAIT
) -> list[AsyncRetryHandler]:
    """slack_sdk's rate-limit, connection and server-error handlers, made post-safe."""
    return [
        _BoundedRateLimitRetryHandler(max_retry_count=rate_limit_retries, max_wait=max_wait),
        _SafeConnectionErrorRetryHandler(
            max_retry_count=server_retries,
            error_types=[
                aiohttp.ServerConnectionError,
                aiohttp.ServerDisconnectedError,
                aiohttp.ClientOSError,
            ],
        ),
        _ReadServerErrorRetryHandler(max_retry_count=server_retries),
    ]


def retry_after_seconds(headers: Any) -> float | None:
    """``Retry-After`` in seconds, capped at MAX_WAIT; None when absent or not a number."""
    for key in headers or {}:
        if key.lower() != "retry-after":
            continue
        value = headers[key]
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            return None
        if math.isnan(seconds) or seconds < 0:
            return None
        return min(seconds, MAX_WAIT)
    return None
