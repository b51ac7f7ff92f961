"""Feishu/Lark answers to chat commands: the core's replies as cards for the app bot.

The app bot replies to the message that asked; each reply is one or more cards within
the body limit (``formatters.feishu.text_cards``), with the same wording and layout as
every other platform (``formatters.layout``). ``/ai week`` gets the rollup's cards with
their collapsible panels, ``/ai trends`` the chart (uploaded by the adapter) above its
text lines.

A search reply ends with buttons, as on Slack and Telegram: "details" for each item and
"more" for the next page. They are card JSON 2.0 ``button`` elements with a ``callback``
behavior, in one wrapping ``column_set``; the value is an object (the SDK reads callback
values as objects) holding the ``bot.chat.actions`` payload under ``BUTTON_KEY``, kept
within Telegram's 64 bytes so one short encoding serves both (long queries travel as an
archive key).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.chat import (
    DigestReply,
    ErrorReply,
    HelpReply,
    ItemDetailReply,
    NoticeReply,
    Reply,
    SearchReply,
    SubscriptionReply,
    TrendsReply,
    WeekReply,
    actions,
)
from formatters import layout
from formatters import rollup as weekly
from formatters.feishu import (
    BODY_LIMIT,
    body_size,
    card_body,
    item_elements,
    render_rollup,
    text_cards,
)
from formatters.lines import Line
from formatters.payloads import ChartImage
from formatters.robot_markup import intro_lines, item_lines
from formatters.templates import Templates


def render_reply(reply: Reply, templates: Templates) -> list[dict[str, Any] | ChartImage]:
    """A command's answer as cards for the app bot to reply with; a trends answer starts
    with its ``ChartImage``, which the adapter uploads and shows at the top of the card
    after it (``formatters.feishu.with_image``)."""
    if isinstance(reply, SearchReply):
        return _search(reply, templates)
    if isinstance(reply, WeekReply):
        return [m.body["card"] for m in render_rollup(reply.rollup, templates)]
    if isinstance(reply, TrendsReply):
        return _trends(reply, templates)
    if isinstance(reply, DigestReply):
        digest = reply.digest
        title = templates.text("digest_title", title=digest.title, date=digest.date.isoformat())
        lines = intro_lines(digest, templates, title=False)
        for item in digest.items:
            head = layout.headline_lines(item, templates, date=digest.date)
            lines += [replace(head[0], gap=True), *head[1:]]
        return text_cards(lines, title)
    if isinstance(reply, ItemDetailReply):
        hit = reply.hit
        title = layout.display_title(hit)
        groups = item_elements(item_lines(hit, templates, hit.date), templates, title)
        return [card_body(None, group)["card"] for group in groups]
    if isinstance(reply, HelpReply):
        return text_cards(templates.lines("help"))
    if isinstance(reply, SubscriptionReply):
        return text_cards(layout.subscription_lines(reply, templates))
    if isinstance(reply, ErrorReply):
        return text_cards(templates.lines("error", message=reply.message, example=reply.example))
    if isinstance(reply, NoticeReply):
        return text_cards(templates.lines("notice", message=reply.message))
    raise TypeError(f"no Feishu rendering for {type(reply).__name__}")


def _trends(reply: TrendsReply, templates: Templates) -> list[dict[str, Any] | ChartImage]:
    """The chart, then the one-line-per-tag text in a card the chart will sit on top of."""
    chart = weekly.chart_image(reply.trends, templates)
    place = "omit" if chart or reply.trends.empty else "none"
    cards: list[dict[str, Any] | ChartImage] = list(
        text_cards(weekly.trend_lines(reply.trends, templates, chart=place))
    )
    return [chart, *cards] if chart else cards


#: The key of a button's callback value that holds the ``bot.chat.actions`` payload.
BUTTON_KEY = "action"
#: Feishu cuts a button's text at 100 characters; ours are labels and numbers.
BUTTON_TEXT_LIMIT = 100


def button(label: str, value: str) -> dict[str, Any]:
    """A callback button (card JSON 2.0) carrying ``value`` back to the bot."""
    return {
        "tag": "button",
        "text": {"tag": "plain_text", "content": label[:BUTTON_TEXT_LIMIT]},
        "type": "default",
        "size": "small",
        "behaviors": [{"type": "callback", "value": {BUTTON_KEY: value}}],
    }


def button_row(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """Buttons side by side, wrapping on narrow screens."""
    return {
        "tag": "column_set",
        "flex_mode": "flow",
        "horizontal_spacing": "8px",
        "columns": [{"tag": "column", "width": "auto", "elements": [item]} for item in buttons],
    }


def _search(reply: SearchReply, templates: Templates) -> list[dict[str, Any]]:
    cards = text_cards(_search_lines(reply, templates))
    if not reply.hits:
        return cards
    label = templates.label("details")
    buttons = [
        button(f"{label} {number}", actions.encode_details(hit.date, hit.rank))
        for number, hit in enumerate(reply.hits, start=reply.offset + 1)
    ]
    more = layout.next_offset(reply)
    if more is not None:
        value = actions.encode_more(reply.query, more)
        if value is None and reply.more_key is not None:
            value = actions.encode_more_key(reply.more_key, more)
        if value is not None:
            buttons.append(button(f"{templates.label('more')} ▸", value))
    row = button_row(buttons)
    last = cards[-1]
    if body_size({"card": last}) + body_size(row) + 1 <= BODY_LIMIT:
        last["body"]["elements"].append(row)
    else:  # a full page of long items: the buttons get a card of their own
        cards.append(card_body(None, [row])["card"])
    return cards


def _search_lines(reply: SearchReply, templates: Templates) -> list[Line]:
    if not reply.hits:
        return templates.lines("search_empty", query=reply.query)
    first = reply.offset + 1
    lines = layout.search_header(reply, templates)
    for number, hit in enumerate(reply.hits, start=first):
        entry = layout.compact_lines(hit, hit.date, templates, number=number)
        lines += [replace(entry[0], gap=True), *entry[1:]]
        if hit.summary and not hit.pipeline_failed:  # a fallback's text is no summary
            lines += layout.headline_lines(hit, templates, date=hit.date)[-1:]
    return lines


__all__ = ["BUTTON_KEY", "button", "button_row", "render_reply"]
