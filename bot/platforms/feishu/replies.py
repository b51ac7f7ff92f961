"""Sending the app bot's answer: reply cards in order, a trends chart uploaded first.

``formatters.feishu_replies`` puts a trends answer's ``ChartImage`` right before the card
it belongs on. The PNG goes up through the image upload (``FeishuApi.upload_image``) and
that card shows it at the top (``formatters.feishu.with_image``), above the one line per
tag. When the upload fails the asker still gets the text, and a notice saying why the
chart is missing: never silence. A card Feishu refuses as invalid is sent again as its
text (``formatters.feishu.card_text``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.chat import NoticeReply
from bot.errors import DeliveryError, DigestbotError
from formatters import ChartImage, feishu, feishu_replies

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.platforms.feishu.api import FeishuApi
    from formatters import Templates

log = logging.getLogger(__name__)
#: Feishu could not build the card (IM API).
CARD_REFUSED = "230099"


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
        await reply(api, message_id, card)
    for problem in problems:
        notice = NoticeReply(
            message=f"I could not upload the chart ({problem}); the numbers are above."
        )
        for card in feishu_replies.render_reply(notice, templates):
            if not isinstance(card, ChartImage):
                await reply(api, message_id, card)


async def reply(api: FeishuApi, message_id: str, card: dict[str, Any]) -> None:
    """One reply card; if Feishu refuses it as invalid (230099), its text as a ``text``
    reply, so the answer is never lost to a card problem."""
    try:
        await api.reply_card(message_id, card)
    except DeliveryError as exc:
        if type(exc) is not DeliveryError or exc.code != CARD_REFUSED:
            raise
        log.warning(
            "feishu: a reply card to %s was refused (%s); replying as text", message_id, exc.code
        )
        await api.reply_message(message_id, "text", feishu.card_text(card))


__all__ = ["send_replies"]
