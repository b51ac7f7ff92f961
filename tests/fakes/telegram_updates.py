"""Updates for the bot: built like Telegram's, served by ``getUpdates`` or POSTed to a webhook.

The middle layer of :class:`~tests.fakes.telegram_api.FakeTelegram`. Tests push a user's
message or a button press (``push_message`` / ``push_callback`` build the Update JSON the
Bot API would send); it waits in a queue for ``getUpdates`` long polls, or, once
``setWebhook`` registered a URL, is POSTed there with the secret-token header.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import zlib
from typing import Any

import aiohttp

from tests.fakes.telegram_chats import TelegramChats
from tests.fakes.telegram_protocol import TelegramFail
from tests.fakes.telegram_protocol import bad_request as _bad
from tests.fakes.telegram_protocol import json_field as _json
from tests.fakes.telegram_validation import utf16_len

_UNSET: Any = object()


class TelegramUpdates(TelegramChats):
    """The update queue, the webhook registration and the Update builders."""

    def __init__(self, token: str, username: str, max_poll_timeout: float) -> None:
        super().__init__(token, username)
        self.max_poll_timeout = max_poll_timeout
        self.webhook: dict[str, Any] | None = None
        self.webhook_deliveries: list[tuple[int, int]] = []
        self._session: aiohttp.ClientSession | None = None
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_000_001)
        self._callback_ids: set[str] = set()

    def _reset_state(self) -> None:
        super()._reset_state()
        self.webhook = None
        self.webhook_deliveries.clear()
        self._updates.clear()
        self._callback_ids.clear()

    # -- methods -------------------------------------------------------------------
    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise TelegramFail(
                409,
                "Conflict: can't use getUpdates method while webhook is "
                "active; use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 100))
        timeout = min(float(params.get("timeout") or 0), self.max_poll_timeout)
        deadline = time.monotonic() + timeout
        while True:
            found = self._take_updates(offset, limit)
            stopping = self._stopping is not None and self._stopping.is_set()
            if found or stopping or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(0.01)

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        url, secret = str(params.get("url") or ""), params.get("secret_token")
        if secret is not None and not (
            1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)
        ):
            raise _bad("secret token contains unallowed characters")
        if _json(params.get("drop_pending_updates")) is True:
            self._drop_pending()
        with self._lock:
            self.webhook = (
                {
                    "url": url,
                    "secret_token": secret,
                    "allowed_updates": _json(params.get("allowed_updates")),
                }
                if url
                else None
            )
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        if _json(params.get("drop_pending_updates")) is True:
            self._drop_pending()
        with self._lock:
            self.webhook = None
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        hook = self.webhook or {}
        return {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": self.pending_count(),
        }

    # -- updates -------------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an Update for ``getUpdates`` (or POST it to the webhook, if one is set)."""
        update = {"update_id": next(self._update_ids), **update}
        if not self._on_update(update):
            with self._lock:
                self._updates.append(update)
                self.changed()
        return int(update["update_id"])

    @staticmethod
    def user(user_id: int, first_name: str | None = None) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"User{user_id}",
            "username": f"user{user_id}",
            "language_code": "en",
        }

    def push_message(
        self,
        chat_id: int | str,
        text: str,
        *,
        user_id: int = 1001,
        chat_type: str | None = None,
        message_thread_id: int | None = None,
    ) -> dict[str, Any]:
        """Push a user's text message; ``/cmd`` and ``/cmd@bot`` get a bot_command entity."""
        chat = self.set_chat(chat_id, type=chat_type) if chat_type else self.chat(chat_id)
        message: dict[str, Any] = {
            "message_id": self.next_message_id(chat_id),
            "from": self.user(user_id),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        if message_thread_id is not None:
            message.update(message_thread_id=message_thread_id, is_topic_message=True)
        update = {"message": message}
        update["update_id"] = self.push_update(update)
        return update

    def push_callback(
        self, chat_id: int | str, user_id: int, data: str, message_id: int | None = None
    ) -> dict[str, Any]:
        """Push a button press on the bot's message ``message_id`` (the last one if None)."""
        with self._lock:
            sent = self._sent.get(str(chat_id), [])
            record = next((m for m in sent if m["message_id"] == message_id), None)
            if record is None and message_id is None and sent:
                record = sent[-1]
            query_id = str(next(self._update_ids))
            self._callback_ids.add(query_id)
        if record is not None:
            message = self.message_json(record)
        else:
            message = {
                "message_id": message_id or 1,
                "from": self.bot_user,
                "chat": self.chat(chat_id),
                "date": int(time.time()),
                "text": "…",
            }
        query = {
            "id": query_id,
            "from": self.user(user_id),
            "message": message,
            "chat_instance": str(zlib.crc32(str(chat_id).encode())),
            "data": data,
        }
        update = {"callback_query": query}
        update["update_id"] = self.push_update(update)
        return update

    def is_callback(self, query_id: str) -> bool:
        with self._lock:
            return query_id in self._callback_ids

    def pending_count(self) -> int:
        with self._lock:
            return len(self._updates)

    def _drop_pending(self) -> None:
        with self._lock:
            self._updates.clear()

    def _take_updates(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """``offset`` confirms every earlier update (negative: keep the last -offset)."""
        with self._lock:
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            return [dict(u) for u in self._updates[:limit]]

    # -- webhook -------------------------------------------------------------------
    def _on_update(self, update: dict[str, Any]) -> bool:
        """With a webhook set, updates are POSTed there (in the background) instead."""
        if self.webhook is None:
            return False
        self.submit(self._post_webhook(update, self.webhook.get("secret_token")))
        return True

    async def _post_webhook(self, update: dict[str, Any], secret: str | None) -> int:
        if self.webhook is None:
            raise RuntimeError("no webhook set (call setWebhook first)")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with self._session.post(self.webhook["url"], json=update, headers=headers) as r:
            await r.read()
            with self._lock:
                self.webhook_deliveries.append((update.get("update_id", 0), r.status))
                self.changed()
            return r.status

    def _secret(self, secret_token: Any) -> str | None:
        if secret_token is _UNSET:
            return (self.webhook or {}).get("secret_token")
        return secret_token

    def deliver_webhook(
        self, update: dict[str, Any], secret_token: str | None = _UNSET, timeout: float = 10.0
    ) -> int:
        """POST ``update`` to the webhook URL (default: the registered secret); the status."""
        return self.run(self._post_webhook(update, self._secret(secret_token)), timeout)

    async def deliver_webhook_async(
        self, update: dict[str, Any], secret_token: str | None = _UNSET
    ) -> int:
        """:meth:`deliver_webhook` for async tests (the POST runs on the fake's loop)."""
        return await self.run_async(self._post_webhook(update, self._secret(secret_token)))

    async def _before_stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
