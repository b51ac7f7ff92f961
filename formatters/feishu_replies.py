"""Feishu/Lark answers to chat commands: the core's replies as cards for the app bot.

The app bot replies to the message that asked; each reply is one or more cards within
the body limit (``formatters.feishu.text_cards``), with the same wording and layout as
every other platform (``formatters.layout``). ``/ai week`` gets the rollup's cards with
their collapsible panels, ``/ai trends`` the chart (uploaded by the adapter) above its
text lines.
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
)
from formatters import layout
from formatters import rollup as weekly
from formatters.feishu import card_body, item_elements, render_rollup, text_cards
from formatters.lines import Line
from formatters.payloads import ChartImage
from formatters.robot_markup import intro_lines, item_lines
from formatters.templates import Templates


def render_reply(reply: Reply, templates: Templates) -> list[dict[str, Any] | ChartImage]:
    """A command's answer as cards for the app bot to reply with; a trends answer starts
    with its ``ChartImage``, which the adapter uploads and shows at the top of the card
    after it (``formatters.feishu.with_image``)."""
    if isinstance(reply, SearchReply):
        return text_cards(_search_lines(reply, templates))
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


__all__ = ["render_reply"]
