"""Outbound payloads: exactly the arguments a transport passes to the platform API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SlackMessage(BaseModel):
    """``chat.postMessage`` arguments, minus channel; ``in_thread`` replies under the parent."""

    text: str
    blocks: list[dict[str, Any]] = Field(default_factory=list)
    in_thread: bool = False
    unfurl_links: bool = False
    unfurl_media: bool = False

    def api_kwargs(self, channel: str, thread_ts: str | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": self.text,
            "blocks": self.blocks,
            "unfurl_links": self.unfurl_links,
            "unfurl_media": self.unfurl_media,
        }
        if self.in_thread and thread_ts:
            kwargs["thread_ts"] = thread_ts
        return kwargs


class TelegramMessage(BaseModel):
    """``sendMessage`` arguments, minus chat_id: HTML text within 4096 UTF-16 units."""

    text: str
    parse_mode: str = "HTML"
    reply_markup: dict[str, Any] | None = None
    """An InlineKeyboardMarkup as the Bot API JSON (``{"inline_keyboard": [[...]]}``)."""
    link_preview: bool = False

    def api_kwargs(self, chat_id: str | int, thread_id: int | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "chat_id": chat_id,
            "text": self.text,
            "parse_mode": self.parse_mode,
            "link_preview_options": {"is_disabled": not self.link_preview},
        }
        if self.reply_markup:
            kwargs["reply_markup"] = self.reply_markup
        if thread_id is not None:
            kwargs["message_thread_id"] = thread_id
        return kwargs


class ChartImage(BaseModel):
    """A chart to upload as an image: Slack ``files_upload_v2``, Telegram ``sendPhoto``,
    Feishu image upload. ``title`` is plain text (each adapter escapes it for its caption);
    ``alt_text`` describes the picture for readers who cannot see it."""

    png: bytes
    filename: str
    title: str
    alt_text: str = ""


class RobotMessage(BaseModel):
    """The JSON body a group robot's webhook gets (Feishu, DingTalk, WeCom), unsigned.

    The transport adds what changes per request (Feishu's ``timestamp``/``sign``); for the
    Feishu app bot it sends the same card through the IM API instead. ``fallback`` holds
    the same content as plain Feishu ``post`` bodies (in order, each within the limits):
    what the transport sends instead when Feishu refuses the card, so no item is lost.
    """

    body: dict[str, Any]
    fallback: list[dict[str, Any]] = Field(default_factory=list)

    def api_kwargs(self) -> dict[str, Any]:
        return dict(self.body)
