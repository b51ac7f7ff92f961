"""Per-chat pacing for platforms whose client libraries pace only globally.

Slack allows about one message per second per channel and Telegram one per second per chat,
and neither slack_sdk nor PTB's AIORateLimiter paces per chat; the group robots of Feishu,
DingTalk and WeCom count per robot. Each transport keeps one ``Pacer``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, TypeVar

from bot.errors import TransientDeliveryError

T = TypeVar("T")


class Pacer:
    """Keeps requests to one key (a channel, a chat) at least ``interval`` seconds apart.

    Why our own: Slack allows about one message per second per channel and Telegram one per
    second per chat, and neither slack_sdk nor PTB's AIORateLimiter paces per chat. The
    interval is counted from the *response* to the previous request: the platform saw
    that request before it answered, so the gap it sees is never shorter than ``interval``,
    whatever the network jitter (counting from the dispatch instead drew 429s whenever a
    request travelled faster than the one before it). Requests to one key take turns.
    """

    def __init__(self, interval: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = max(0.0, interval)
        self.clock = clock
        self._last: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """Wait for the key's turn, run the request, and start the interval when it ends."""
        if self.interval <= 0:
            yield
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            ready = self._last.get(key, float("-inf")) + self.interval
            delay = ready - self.clock()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                yield
            finally:
                self._last[key] = max(self._last.get(key, float("-inf")), self.clock())

    def defer(self, key: str, seconds: float) -> None:
        """Hold the key back for ``seconds`` (after a 429 with a retry hint)."""
        if self.interval > 0:
            hold = self.clock() + seconds - self.interval
            self._last[key] = max(self._last.get(key, float("-inf")), hold)


class WindowPacer:
    """Keeps requests to one key within ``limits``: at most N in any W seconds, for each
    (N, W). The group robots count this way (DingTalk and WeCom 20 a minute; Feishu 100 a
    minute and 5 a second), so a digest of a few messages goes out at once and a long run
    waits only when a window is full.

    Times are taken when a response arrives, as in ``Pacer``: the platform saw each request
    before we saw its answer, so its count over any window is never above ours. Requests to
    one key take turns.
    """

    def __init__(
        self,
        limits: tuple[tuple[int, float], ...],
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 0.005,
    ) -> None:
        self.limits = tuple((count, seconds) for count, seconds in limits if count > 0)
        self.clock = clock
        self.margin = margin
        self._done: dict[str, collections.deque[float]] = {}
        self._held: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def wait_time(self, key: str) -> float:
        """Seconds until one more request to ``key`` fits every window (0: now)."""
        now = self.clock()
        done = self._done.get(key, collections.deque())
        wait = self._held.get(key, 0.0) - now
        for count, seconds in self.limits:
            if len(done) >= count:
                wait = max(wait, done[-count] + seconds + self.margin - now)
        return max(0.0, wait)

    @contextlib.asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """Wait until the request fits, run it, and count it when it ends."""
        if not self.limits:
            yield
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            delay = self.wait_time(key)
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                yield
            finally:
                done = self._done.setdefault(key, collections.deque())
                done.append(self.clock())
                longest = max(count for count, _ in self.limits)
                while len(done) > longest:
                    done.popleft()

    def defer(self, key: str, seconds: float) -> None:
        """Hold the key back for ``seconds`` (the platform said it is rate-limited)."""
        if self.limits:
            self._held[key] = max(self._held.get(key, 0.0), self.clock() + seconds)


class Pacing(Protocol):
    """What ``paced`` needs of a pacer (``Pacer`` and ``WindowPacer`` both)."""

    def turn(self, key: str) -> contextlib.AbstractAsyncContextManager[None]: ...

    def defer(self, key: str, seconds: float) -> None: ...


async def paced(pacer: Pacing, key: str, call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call`` in the key's turn. A rate-limit answer that says how long to wait holds
    the key back that long, so the retry and every other request to it wait their turn."""
    try:
        async with pacer.turn(key):
            return await call()
    except TransientDeliveryError as exc:
        if exc.retry_after:
            pacer.defer(key, exc.retry_after)
        raise
