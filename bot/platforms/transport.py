"""The Transport protocol: how the platform-agnostic delivery engine posts one message.

Why a protocol: ``bot.delivery`` owns claims, ordering, retries and the ledger; a transport only
renders a digest into its platform's payloads, posts one payload, and (where the
platform allows) finds a message it posted earlier so a resumed delivery does not post it
again. Library errors are mapped here, at the edge, to three outcomes:

- ``TransientDeliveryError`` (429, 5xx, timeouts, dropped connections): retry with
  backoff. ``retry_after`` carries the platform's hint; ``maybe_posted`` says the request
  may have reached the platform, so the engine reconciles before posting again.
- ``PermanentDeliveryError`` (channel gone, bot removed, token revoked): stop and
  deactivate the channel.
- plain ``DeliveryError`` (the platform rejected this payload): stop this delivery, keep
  the channel, release the ledger row for a later run.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.errors import TransientDeliveryError

if TYPE_CHECKING:
    from bot.channels import Channel
    from bot.models import Digest


@runtime_checkable
class Transport(Protocol):
    """One platform's way of posting a rendered digest."""

    platform: str
    #: True when ``find_posted`` can really see earlier posts (Slack history, the JSONL file).
    reconciles: bool

    def render(self, digest: Digest, templates: Any) -> list[Any]:
        """The digest as this platform's ordered payloads (message 0 first)."""
        ...

    async def send(
        self,
        channel: Channel,
        message_index: int,
        payload: Any,
        *,
        digest_date: dt.date,
        parent_id: str | None = None,
    ) -> str:
        """Post one payload and return the platform's message id (``parent_id`` = message 0)."""
        ...

    async def find_posted(
        self,
        channel: Channel,
        digest_date: dt.date,
        index: int,
        *,
        parent_id: str | None = None,
        since: dt.datetime | None = None,
    ) -> str | None:
        """The id of message ``index`` of that digest if it is already in the channel."""
        ...

    def describe(self, payload: Any) -> str:
        """A one-line summary of a payload, for ``send --dry-run``."""
        ...

    async def close(self) -> None: ...


def transient(
    message: str,
    *,
    code: str | None = None,
    retry_after: float | None = None,
    maybe_posted: bool = False,
) -> TransientDeliveryError:
    """A TransientDeliveryError carrying the retry hint and whether the post may have landed."""
    error = TransientDeliveryError(message, code=code)
    error.retry_after = retry_after  # type: ignore[attr-defined]
    error.maybe_posted = maybe_posted  # type: ignore[attr-defined]
    return error


def retry_after_of(error: BaseException) -> float | None:
    value = getattr(error, "retry_after", None)
    return float(value) if value is not None else None


def maybe_posted(error: BaseException) -> bool:
    return bool(getattr(error, "maybe_posted", False))


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
