"""Per-chat pacing for platforms whose client libraries pace only globally.

Slack allows about one message per second per channel and Telegram one per second per chat,
and neither slack_sdk nor PTB's AIORateLimiter paces per chat; the group robots of Feishu,
DingTalk and WeCom count per robot. Each transport keeps one ``Pacer``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable


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
