"""Which platforms refuse our credentials right now, shared by deliveries and ``/healthz``.

Why: a revoked token is the platform's problem, not the channels'. While a platform
refuses us its deliveries pause (rows stay retryable, no channel is deactivated), one cheap
credential check per ``recheck`` decides when to try again, and the reason is reported in
the log, the ``digestbot_platform_up`` gauge and ``/healthz``.

A group robot's key and secret are its own (Feishu, DingTalk, WeCom): a robot that refuses
us pauses only its channel, so the other groups keep their mornings, but it is reported
the same way (``refused``) until a delivery to that channel succeeds again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import metrics
from bot.errors import PlatformUnavailable

log = logging.getLogger("bot.delivery")

#: Seconds between two credential checks of a platform that refused us.
DEFAULT_RECHECK = 30.0


@dataclass(frozen=True)
class Down:
    reason: str
    since: dt.datetime


class PlatformStates:
    """The platforms currently refusing us, with the reason and since when."""

    def __init__(self, *, recheck: float = DEFAULT_RECHECK) -> None:
        self.recheck = recheck
        self._down: dict[str, Down] = {}
        self._refused: dict[str, Down] = {}
        self._checked: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def down(self, platform: str, reason: str) -> None:
        if platform not in self._down:
            log.error(
                "deliveries to %s paused (rows stay pending until it accepts us): %s",
                platform,
                reason,
            )
            self._down[platform] = Down(reason, dt.datetime.now(dt.UTC))
        self._checked[platform] = time.monotonic()
        metrics.PLATFORM_UP.labels(platform).set(0)

    def up(self, platform: str) -> None:
        if self._down.pop(platform, None) is not None:
            log.info("deliveries to %s resume: its credentials work again", platform)
        metrics.PLATFORM_UP.labels(platform).set(1)

    def failing(self) -> dict[str, Down]:
        return dict(self._down)

    def refused(self, channel: str, reason: str) -> None:
        """A channel's own credentials (a group robot's key or secret) were refused."""
        if channel not in self._refused:
            log.error(
                "deliveries to %s paused (its row stays pending until the robot accepts us): %s",
                channel,
                reason,
            )
            self._refused[channel] = Down(reason, dt.datetime.now(dt.UTC))

    def accepted(self, channel: str) -> None:
        if self._refused.pop(channel, None) is not None:
            log.info("deliveries to %s resume: its robot accepts us again", channel)

    def refusing(self) -> dict[str, Down]:
        """Channels whose own robot refuses us, with the reason and since when."""
        return dict(self._refused)

    def reason(self, platform: str) -> str | None:
        state = self._down.get(platform)
        return state.reason if state else None

    async def usable(self, platform: str, check: Callable[[], Awaitable[object]]) -> str | None:
        """None if the platform may be used now; else why not (checking again when due)."""
        if platform not in self._down:
            return None
        lock = self._locks.setdefault(platform, asyncio.Lock())
        async with lock:
            if platform not in self._down:
                return None
            if time.monotonic() - self._checked.get(platform, 0.0) < self.recheck:
                return self._down[platform].reason
            try:
                await check()
            except PlatformUnavailable as exc:
                self.down(platform, str(exc))
                return str(exc)
            self.up(platform)
            return None
