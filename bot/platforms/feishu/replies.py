"""Sending the app bot's answer: reply cards in order, a trends chart uploaded first.

``formatters.feishu_replies`` puts a trends answer's ``ChartImage`` right before the card
it belongs on. The PNG goes up through the image upload (``FeishuApi.upload_image``) and
that card shows it at the top (``formatters.feishu.with_image``), above the one line per
tag. When the upload fails the asker still gets the text, and a notice saying why the
chart is missing: never silence.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.chat import NoticeReply
from bot.errors import DigestbotError
from formatters import ChartImage, feishu, feishu_replies

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.platforms.feishu.api import FeishuApi
    from formatters import Templates

log = logging.getLogger(__name__)


async def send_replies(
    api: FeishuApi,
    message_id: str,
    items: Sequence[dict[str, Any] | ChartImage],
    templates: Templates,
) -> None:
    """Reply to ``message_id`` with each card; a chart is uploaded and joins the next card."""
    pending: tuple[str, ChartImage] | None = None
    problems: list[str] = []
    for item in items:
        if isinstance(item, ChartImage):
            try:
                pending = (await api.upload_image(item.png), item)
            except DigestbotError as exc:
                log.warning("feishu: uploading a chart for %s failed: %s", message_id, exc)
                problems.append(getattr(exc, "code", None) or type(exc).__name__)
            continue
        card = item
        if pending is not None:
            card = feishu.with_image(card, *pending)
            pending = None
        await api.reply_card(message_id, card)
    for problem in problems:
        notice = NoticeReply(
            message=f"I could not upload the chart ({problem}); the numbers are above."
        )
        for card in feishu_replies.render_reply(notice, templates):
            if not isinstance(card, ChartImage):
                await api.reply_card(message_id, card)


__all__ = ["send_replies"]
