"""The fake Telegram's chats: who they are, who is in them, and what the bot sent there.

The bottom layer of :class:`~tests.fakes.telegram_api.FakeTelegram`: chat objects (set
explicitly or guessed from the id like Telegram's id ranges), member statuses for
``getChatMember``, chats that refuse the bot (kicked, blocked, not found...), and the
per-chat record of sent messages that tests inspect and that button presses refer to.
"""

from __future__ import annotations

import zlib
from typing import Any

from tests.fakes.server import FakeServer
from tests.fakes.telegram_protocol import TelegramFail
from tests.fakes.telegram_protocol import bad_request as _bad

CHAT_ERRORS = {
    "kicked": (403, "Forbidden: bot was kicked from the {kind} chat"),
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "not_member": (403, "Forbidden: bot is not a member of the {kind} chat"),
    "not_found": (400, "Bad Request: chat not found"),
    "topic_closed": (400, "Bad Request: TOPIC_CLOSED"),
}


class TelegramChats(FakeServer):
    """Chats, members and sent messages; the bot's own identity (``token``, ``bot_user``)."""

    def __init__(self, token: str, username: str) -> None:
        super().__init__()
        self.token, self.username = token, username
        self.bot_id = int(token.split(":", 1)[0])
        self._sent: dict[str, list[dict[str, Any]]] = {}
        self._failing: dict[str, tuple[int, str]] = {}
        self._members: dict[tuple[str, str], str] = {}
        self._chats: dict[str, dict[str, Any]] = {}
        self._message_ids: dict[str, int] = {}

    # -- configuration -------------------------------------------------------------
    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Digest Bot",
            "username": self.username,
        }

    def fail_chat(self, chat_id: int | str, error: str = "kicked") -> None:
        """Every later call for ``chat_id`` fails: kicked, blocked, not_found, ..."""
        status, description = CHAT_ERRORS[error]
        kind = self.chat(chat_id)["type"].replace("private", "user")
        with self._lock:
            self._failing[str(chat_id)] = (status, description.format(kind=kind))

    def set_member_status(self, chat_id: int | str, user_id: int | str, status: str) -> None:
        """``getChatMember`` status: member (default), administrator, creator, left, kicked."""
        with self._lock:
            self._members[(str(chat_id), str(user_id))] = status

    def _reset_state(self) -> None:
        self._sent.clear()
        self._failing.clear()
        self._message_ids.clear()

    # -- inspection ----------------------------------------------------------------
    def sent(self, chat_id: int | str) -> list[dict[str, Any]]:
        """Messages the bot sent to ``chat_id``, in order (text, html, parse_mode, ...)."""
        with self._lock:
            return [dict(m) for m in self._sent.get(str(chat_id), [])]

    def all_sent(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {chat: [dict(m) for m in msgs] for chat, msgs in self._sent.items()}

    async def wait_for_sent(
        self, chat_id: int | str, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        return await self.wait_until(lambda: self._enough(chat_id, count), timeout)

    def wait_for_sent_sync(
        self, chat_id: int | str, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        return self.wait_until_sync(lambda: self._enough(chat_id, count), timeout)

    def _enough(self, chat_id: int | str, count: int) -> list[dict[str, Any]]:
        found = self.sent(chat_id)
        return found if len(found) >= count else []

    # -- chats ---------------------------------------------------------------------
    def _check_chat(self, chat_id: Any) -> None:
        with self._lock:
            failing = self._failing.get(str(chat_id))
        if failing is not None:
            raise TelegramFail(*failing)
        if chat_id in ("", None):
            raise _bad("chat_id is empty")

    def set_chat(
        self,
        chat_id: int | str,
        *,
        type: str | None = None,
        title: str | None = None,
        is_forum: bool | None = None,
    ) -> dict[str, Any]:
        """Describe a chat (type, title, forum); otherwise it is guessed from the id."""
        chat = self.chat(chat_id)
        if type is not None:
            chat["type"] = type
            if type != "private":
                chat.setdefault("title", f"Chat {chat_id}")
                chat.pop("first_name", None)
        if title is not None:
            chat["title"] = title
        if is_forum is not None:
            chat["is_forum"] = is_forum
        with self._lock:
            self._chats[str(chat_id)] = self._chats[str(chat["id"])] = chat
        return dict(chat)

    def chat(self, chat_id: int | str) -> dict[str, Any]:
        """The Chat object for ``chat_id`` (``@name`` is a channel)."""
        key = str(chat_id)
        with self._lock:
            if key in self._chats:
                return dict(self._chats[key])
            if key.startswith("@"):
                cid = -(1_000_000_000_000 + zlib.crc32(key.encode()))
                chat = {"id": cid, "type": "channel", "title": key[1:], "username": key[1:]}
                self._chats[key] = self._chats[str(cid)] = chat
                return dict(chat)
        try:
            cid = int(key)
        except ValueError:
            raise _bad("chat not found") from None
        if cid <= -1_000_000_000_000:
            return {"id": cid, "type": "supergroup", "title": f"Supergroup {cid}"}
        if cid < 0:
            return {"id": cid, "type": "group", "title": f"Group {cid}"}
        return {"id": cid, "type": "private", "first_name": f"User{cid}"}

    def next_message_id(self, chat_id: int | str) -> int:
        with self._lock:
            key = str(self.chat(chat_id)["id"])
            self._message_ids[key] = self._message_ids.get(key, 0) + 1
            return self._message_ids[key]

    def message_json(self, record: dict[str, Any]) -> dict[str, Any]:
        """A sent record as the Message object the Bot API returns."""
        chat = self.chat(record["chat_id"])
        message: dict[str, Any] = {
            "message_id": record["message_id"],
            "from": self.bot_user,
            "chat": chat,
            "date": record["date"],
            "text": record["text"],
        }
        if record.get("entities"):
            message["entities"] = record["entities"]
        markup = record.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if record.get("message_thread_id") is not None and chat.get("is_forum"):
            message.update(message_thread_id=record["message_thread_id"], is_topic_message=True)
        if record.get("edit_date"):
            message["edit_date"] = record["edit_date"]
        return message

    # -- methods -------------------------------------------------------------------
    async def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = int(params["user_id"])
        with self._lock:
            status = self._members.get((str(params["chat_id"]), str(user_id)), "member")
        user = {"id": user_id, "is_bot": user_id == self.bot_id, "first_name": f"User{user_id}"}
        if status == "administrator":
            rights = [
                "can_be_edited",
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
                "can_pin_messages",
            ]
            return {
                "status": status,
                "user": user,
                "is_anonymous": False,
                **{r: r != "can_be_edited" for r in rights},
            }
        if status == "creator":
            return {"status": status, "user": user, "is_anonymous": False}
        if status == "kicked":
            return {"status": status, "user": user, "until_date": 0}
        return {"status": status, "user": user}

    async def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return {
            **self.chat(params["chat_id"]),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }
