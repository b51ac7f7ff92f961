"""What the Feishu app bot does with an event: a message or a button press in, reply cards out.

Both modes (HTTP events and the long connection) hand the SDK's dispatcher the same two
callbacks. Each returns at once — Feishu wants events acknowledged and callbacks answered
within 3 seconds — and the answer is a task on the bot's loop that replies to the
message (or to the card whose button was pressed).

In a group only messages that mention *this* bot (its open id, fetched at start) are
for it, and only its own mention is stripped; its own messages and other apps' are
ignored. An event id seen before is ignored too: Feishu pushes an event again when it
thinks the first push failed, and with two replicas (or after a restart) the copy may
reach another process, so the ids live in the archive's shared ``seen_requests``, the way
Slack's request ids and Telegram's update ids do. The check runs in the answer's task, off
the callback, so the acknowledgement never waits on the database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse

from bot.chat import CommandCore, CommandRequest, is_mutating
from bot.errors import DigestbotError
from bot.platforms.feishu.replies import send_replies
from formatters import ChartImage, feishu_replies

if TYPE_CHECKING:
    from lark_oapi.api.im.v1 import P2ImMessageReceiveV1
    from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTrigger

    from bot.platforms.feishu.api import FeishuApi
    from formatters import Templates

log = logging.getLogger(__name__)

#: How long event ids are remembered: Feishu pushes an event it thinks failed again 15 s,
#: 5 min, 1 h and 6 h later (about 7.1 hours in all), so twelve hours covers every copy.
EVENT_MEMORY = dt.timedelta(hours=12)

Answer = Callable[[], Coroutine[Any, Any, None]]


class FeishuBridge:
    """Translate events for the core, and its replies into reply cards."""

    def __init__(
        self,
        core: CommandCore,
        templates: Templates,
        api: FeishuApi,
        loop: asyncio.AbstractEventLoop,
        *,
        bot_open_id: str | None = None,
    ) -> None:
        self.core = core
        self.templates = templates
        self.api = api
        self.loop = loop
        self.bot_open_id = bot_open_id
        self.tasks: set[asyncio.Future[Any]] = set()

    async def identify(self) -> str:
        """Learn the bot's open id (once); the app's credentials are checked on the way."""
        if self.bot_open_id is None:
            self.bot_open_id = await self.api.bot_open_id()
        return self.bot_open_id

    # -- the dispatcher's callbacks (any thread) -------------------------------------------
    def on_message(self, data: P2ImMessageReceiveV1) -> None:
        self._later(self._guard(self._once(_event_id(data), lambda: self._answer_message(data))))

    def on_card_action(self, data: P2CardActionTrigger) -> P2CardActionTriggerResponse:
        """Acknowledge the button at once (an empty answer leaves the card as it is)."""
        self._later(self._guard(self._once(_event_id(data), lambda: self._answer_action(data))))
        return P2CardActionTriggerResponse({})

    async def _once(self, event_id: str | None, answer: Answer) -> None:
        """Answer unless this event id was already handled, here or by another replica."""
        if event_id and not await self.core.first_time(f"feishu:{event_id}", EVENT_MEMORY):
            log.info("feishu: event %s seen before (a redelivery); ignored", event_id)
            return
        await answer()

    def _later(self, coro: Any) -> None:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        self.tasks.add(future)
        future.add_done_callback(self.tasks.discard)

    @staticmethod
    async def _guard(work: Any) -> None:
        try:
            await work
        except DigestbotError as exc:
            log.warning("feishu: could not answer: %s", exc)
        except Exception:
            log.exception("feishu: answering failed")

    # -- answers (the bot's loop) ----------------------------------------------------------
    async def _answer_message(self, data: P2ImMessageReceiveV1) -> None:
        event = data.event
        if event is None or event.message is None or event.sender is None:
            return
        sender = event.sender.sender_id.open_id if event.sender.sender_id else None
        if event.sender.sender_type != "user":
            return  # apps' messages, ours included
        me = await self.identify()
        if sender == me:
            return
        message = event.message
        if message.message_type != "text":
            return
        mine = [m.key for m in message.mentions or [] if m.id is not None and m.id.open_id == me]
        if message.chat_type != "p2p" and not mine:
            return  # in a group, only messages that mention this bot are for it
        text = command_text(message.content or "", mine)
        is_admin = await self._is_admin(message.chat_type, message.chat_id, sender, text)
        request = CommandRequest(
            platform="feishu",
            channel_id=str(message.chat_id),
            user_id=str(sender or ""),
            is_admin=is_admin,
            text=text,
        )
        cards = await self.core.in_worker(self._render, request, None)
        await self._reply(str(message.message_id), cards)

    async def _answer_action(self, data: P2CardActionTrigger) -> None:
        event = data.event
        if event is None or event.context is None or event.action is None:
            return
        value = (event.action.value or {}).get(feishu_replies.BUTTON_KEY)
        message_id = event.context.open_message_id
        if not message_id:
            return
        request = CommandRequest(
            platform="feishu",
            channel_id=str(event.context.open_chat_id or ""),
            user_id=str(event.operator.open_id if event.operator else ""),
            is_admin=None,
            text="",
        )
        action = value if isinstance(value, str) else ""  # anything else: a stale button
        cards = await self.core.in_worker(self._render, request, action)
        await self._reply(message_id, cards)

    async def _reply(self, message_id: str, cards: list[dict[str, Any] | ChartImage]) -> None:
        await send_replies(self.api, message_id, cards, self.templates)

    async def _is_admin(
        self, chat_type: str | None, chat_id: str | None, user: str | None, text: str
    ) -> bool | None:
        if not is_mutating(text):
            return None
        if chat_type == "p2p":
            return True
        try:
            return bool(user) and user in await self.api.chat_admins(str(chat_id))
        except DigestbotError as exc:
            log.warning("feishu: cannot read the managers of %s: %s", chat_id, exc)
            return False

    def _render(
        self, request: CommandRequest, action: str | None
    ) -> list[dict[str, Any] | ChartImage]:
        """Worker-thread work: answer the command (or the button) and render the cards."""
        if action is None:
            envelope = self.core.handle(request)
        else:
            envelope = self.core.handle_action(request, action)
        return self.core.render_safely(
            envelope, lambda r: feishu_replies.render_reply(r, self.templates)
        )

    def cancel(self) -> None:
        for task in list(self.tasks):
            task.cancel()


def _event_id(data: P2ImMessageReceiveV1 | P2CardActionTrigger) -> str | None:
    return data.header.event_id if data.header else None


def command_text(content: str, mention_keys: list[str]) -> str:
    """The text of a message with the given mentions removed (and an optional ``/ai``)."""
    try:
        text = str(json.loads(content).get("text", ""))
    except (ValueError, AttributeError):
        return ""
    for key in mention_keys:  # "@_user_1" is not the start of "@_user_10"
        text = re.sub(re.escape(key) + r"(?!\d)", " ", text)
    text = " ".join(text.split())
    return text.removeprefix("/ai").strip()


__all__ = ["FeishuBridge", "command_text"]
