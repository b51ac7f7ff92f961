"""``digestbot doctor`` for Telegram: the token (``getMe``) and, for each configured chat,
whether the bot may post there (``getChat`` + ``getChatMember`` of the bot itself).

In a channel only administrators with ``can_post_messages`` post; in a group any member
not restricted from sending does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import ChatMember
from telegram.error import TelegramError

from bot.platforms.checks import Check
from bot.platforms.telegram.transport import TelegramTransport

if TYPE_CHECKING:
    from telegram.ext import ExtBot

    from bot.channels import Channel
    from bot.config import Settings


async def check_telegram(settings: Settings, channels: Sequence[Channel]) -> list[Check]:
    """Rows for the Telegram token and each Telegram chat; [] when Telegram is unused."""
    telegram = settings.telegram
    if telegram.token is None:
        if not channels:
            return []
        return [Check("telegram", "fail", "telegram.token is not set (or TELEGRAM_BOT_TOKEN)")]
    transport = TelegramTransport(
        telegram.token.get_secret_value(), base_url=telegram.api_url, proxy=telegram.proxy
    )
    bot = transport.bot
    try:
        try:
            me = await bot.get_me()
        except TelegramError as exc:
            return [Check("telegram", "fail", f"getMe: {_reason(exc, settings)}")]
        rows = [Check("telegram", "ok", f"getMe: @{me.username} ({telegram.mode})")]
        for channel in channels:
            rows.append(await _can_post(bot, me.id, channel, settings))
        return rows
    finally:
        await transport.close()


async def _can_post(bot: ExtBot, bot_id: int, channel: Channel, settings: Settings) -> Check:
    try:
        chat = await bot.get_chat(channel.id)
        member = await bot.get_chat_member(channel.id, bot_id)
    except TelegramError as exc:
        return Check(channel.key, "fail", f"getChat: {_reason(exc, settings)}")
    title = chat.title or chat.username or channel.id
    status = member.status
    if status in (ChatMember.LEFT, ChatMember.BANNED):
        return Check(channel.key, "fail", f"{title}: the bot is not in this {chat.type} ({status})")
    if chat.type == "channel":
        allowed = status == ChatMember.OWNER or bool(getattr(member, "can_post_messages", False))
        detail = "an administrator that may post" if allowed else "not allowed to post messages"
        return Check(channel.key, "ok" if allowed else "fail", f"{title}: {detail}")
    if status == ChatMember.RESTRICTED and not getattr(member, "can_send_messages", True):
        return Check(channel.key, "fail", f"{title}: the bot is restricted from sending")
    return Check(channel.key, "ok", f"{title}: {chat.type}, the bot is {status}")


def _reason(exc: TelegramError, settings: Settings) -> str:
    text = f"{type(exc).__name__}: {exc.message}"
    token = settings.telegram.token
    return text.replace(token.get_secret_value(), "<token>") if token else text
