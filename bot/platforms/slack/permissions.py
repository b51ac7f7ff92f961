"""Who may change a Slack channel's subscription: asked of Slack, answered once a while.

Any channel may subscribe, but a channel member should not be able to unsubscribe or
reschedule it for everyone. Changes need a workspace admin or owner (``users.info``), the
channel's creator (``conversations.info``; in a direct message, its other party), or a
user listed in ``slack.admins``; ``["*"]`` opens changes to everyone. Answers are cached
for a few minutes because a burst of commands would otherwise spend Slack's tier-limited
calls on the same two questions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

EVERYONE = "*"
#: How long an answer from ``users.info`` / ``conversations.info`` is trusted.
CACHE_SECONDS = 300.0
#: At most this many answers are kept (oldest dropped first).
CACHE_SIZE = 4096


class SlackPermissions:
    """``may_change(user, channel)``: True/False, or None when everyone may change."""

    def __init__(
        self,
        client: AsyncWebClient,
        admins: Iterable[str],
        *,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.admins = frozenset(admins)
        self.ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}

    async def may_change(self, user_id: str, channel_id: str) -> bool | None:
        if EVERYONE in self.admins:
            return None
        if user_id in self.admins:
            return True
        user = await self._cached("user", user_id, self._user)
        if user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"):
            return True
        channel = await self._cached("channel", channel_id, self._channel)
        return user_id in (
            channel.get("creator"),
            channel.get("user") if channel.get("is_im") else None,
        )

    async def _user(self, user_id: str) -> dict[str, Any]:
        response = await self.client.users_info(user=user_id)
        return dict(response.get("user") or {})

    async def _channel(self, channel_id: str) -> dict[str, Any]:
        response = await self.client.conversations_info(channel=channel_id)
        return dict(response.get("channel") or {})

    async def _cached(
        self, kind: str, key: str, fetch: Callable[[str], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        now = self._clock()
        found = self._cache.get((kind, key))
        if found is not None and now - found[0] < self.ttl:
            return found[1]
        try:
            value = await fetch(key)
        except SlackApiError as exc:
            # Not cached: a missing scope or a hiccup should not stick for minutes.
            log.warning("slack: cannot look up %s %s: %s", kind, key, exc.response.get("error"))
            return {}
        if len(self._cache) >= CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[(kind, key)] = (now, value)
        return value
