"""The fake Slack's channels and their history, read back the way Slack returns it.

The base layer of :class:`~tests.fakes.slack_api.FakeSlack`: which channels exist (once
any is registered, others are ``channel_not_found``), the messages posted to each with
unique ``ts`` values and thread bookkeeping, and the read methods
``conversations.history`` (parents and broadcasts only, newest first),
``conversations.replies`` (parent then replies), their ``oldest``/``latest`` window and
cursor paging, ``conversations.info`` (with the channel's ``creator``), and ``users.info``
(every user is a regular member unless ``set_user`` made them an admin or owner).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import FakeServer
from tests.fakes.slack_protocol import SlackFail
from tests.fakes.slack_protocol import flag as _flag


@dataclass
class Channel:
    """A channel the fake knows about (used once any channel is registered)."""

    id: str
    name: str
    archived: bool = False
    member: bool = True
    private: bool = False
    creator: str = "U0CREATOR1"
    messages: list[dict[str, Any]] = field(default_factory=list)


class SlackChannels(FakeServer):
    """Channels, their messages and the ``conversations.*`` read methods."""

    def __init__(self) -> None:
        super().__init__()
        self._known: dict[str, Channel] = {}
        self._channels: dict[str, Channel] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._last_ts = 0

    # -- configuration -------------------------------------------------------------
    def add_channel(
        self,
        channel: str,
        name: str | None = None,
        *,
        archived: bool = False,
        member: bool = True,
        private: bool = False,
        creator: str = "U0CREATOR1",
    ) -> None:
        """Register a channel; once any is registered, unknown ones are ``channel_not_found``.

        Like Slack: a non-member may post to a public channel (``chat:write.public``) but
        not read its history (``not_in_channel``); a private channel needs membership for
        both, and cannot be joined."""
        with self._lock:
            ch = self._channel(channel)
            ch.name, ch.archived, ch.member = name or channel.lower(), archived, member
            ch.private = private
            ch.creator = creator
            self._known[channel] = ch

    def set_user(
        self, user_id: str, *, admin: bool = False, owner: bool = False, primary: bool = False
    ) -> None:
        """Make ``user_id`` a workspace admin / owner / primary owner in ``users.info``."""
        with self._lock:
            self._users[user_id] = {
                "is_admin": admin or owner or primary,
                "is_owner": owner or primary,
                "is_primary_owner": primary,
            }

    def _reset_state(self) -> None:
        self._users.clear()
        for ch in self._channels.values():
            ch.messages.clear()

    # -- inspection ----------------------------------------------------------------
    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted to ``channel`` (parents and replies) in posting order."""
        with self._lock:
            ch = self._channels.get(channel)
            return [dict(m) for m in ch.messages] if ch else []

    def all_messages(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {cid: [dict(m) for m in ch.messages] for cid, ch in self._channels.items()}

    async def wait_for_messages(
        self, channel: str, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        return await self.wait_until(lambda: self._enough(channel, count), timeout)

    def wait_for_messages_sync(
        self, channel: str, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        return self.wait_until_sync(lambda: self._enough(channel, count), timeout)

    def _enough(self, channel: str, count: int) -> list[dict[str, Any]]:
        found = self.messages(channel)
        return found if len(found) >= count else []

    # -- state helpers -------------------------------------------------------------
    def _channel(self, channel: str) -> Channel:
        ch = self._channels.get(channel)
        if ch is None:
            ch = self._channels[channel] = Channel(channel, channel.lower())
        return ch

    def _next_ts(self) -> str:
        with self._lock:
            us = max(int(time.time() * 1_000_000), self._last_ts + 1)
            self._last_ts = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        ch = self._channels.get(channel)
        return next((m for m in ch.messages if m["ts"] == ts), None) if ch else None

    def _public(self, message: dict[str, Any], with_metadata: bool = True) -> dict[str, Any]:
        out = {k: v for k, v in message.items() if v is not None and k != "channel"}
        if not with_metadata:
            out.pop("metadata", None)
        if not out.get("blocks"):
            out.pop("blocks", None)
        return out

    # -- methods -------------------------------------------------------------------
    async def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            ch = self._channels.get(str(params["channel"]))
            parents = [
                m
                for m in (ch.messages if ch else [])
                if m.get("thread_ts") in (None, m["ts"]) or m.get("reply_broadcast")
            ]
        parents = _between(parents, params)
        parents.reverse()
        return self._page(parents, params)

    async def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params["channel"]), str(params.get("ts") or "")
        with self._lock:
            parent = self._find(channel, ts)
            if parent is None:
                raise SlackFail("thread_not_found")
            thread = [parent] + [
                m
                for m in self._channels[channel].messages
                if m.get("thread_ts") == ts and m["ts"] != ts
            ]
        return self._page(_between(thread, params), params)

    def _page(self, found: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        limit = max(1, min(int(params.get("limit") or 100), 999))
        start = 0
        if params.get("cursor"):
            try:
                start = int(base64.b64decode(str(params["cursor"])).decode().split(":")[1])
            except (ValueError, IndexError) as exc:
                raise SlackFail("invalid_cursor") from exc
        page = found[start : start + limit]
        with_metadata = _flag(params.get("include_all_metadata"))
        more = start + limit < len(found)
        cursor = base64.b64encode(f"next_ts:{start + limit}".encode()).decode() if more else ""
        return {
            "messages": [self._public(m, with_metadata) for m in page],
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    async def _info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        with self._lock:
            ch = self._known.get(channel) or Channel(channel, channel.lower())
        return {
            "channel": {
                "id": ch.id,
                "name": ch.name,
                "is_channel": True,
                "is_private": ch.private,
                "is_archived": ch.archived,
                "is_member": ch.member,
                "created": 1_700_000_000,
                "creator": ch.creator,
            }
        }

    async def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user") or "")
        if not user.startswith(("U", "W")):
            raise SlackFail("user_not_found")
        with self._lock:
            roles = self._users.get(
                user, {"is_admin": False, "is_owner": False, "is_primary_owner": False}
            )
        return {"user": {"id": user, "team_id": "T0FAKE0001", "name": user.lower(), **roles}}


def _between(messages: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply ``oldest``/``latest`` (exclusive unless ``inclusive``) to messages."""
    inclusive = _flag(params.get("inclusive"))
    oldest = float(params["oldest"]) if params.get("oldest") else float("-inf")
    latest = float(params["latest"]) if params.get("latest") else float("inf")

    def inside(ts: float) -> bool:
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    return [m for m in messages if inside(float(m["ts"]))]
