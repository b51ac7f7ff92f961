"""Telegram HTML messages for digests and command replies, each ≤ 4096 UTF-16 units.

The digest is a headline message (linked titles, stars, summaries) followed by detail
messages: per item a bold linked title and meta line, then the write-up inside an
expandable blockquote. Lengths are counted on the visible text (what Telegram counts
after parsing entities), splits fall between lines, and every message is serialised
from whole lines, so each one is balanced HTML on its own with its tags re-opened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.archive import Rollup
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
from bot.models import Digest, Item
from formatters import layout
from formatters import rollup as weekly
from formatters.escape import safe_url
from formatters.line_markup import telegram_len, to_telegram_html
from formatters.lines import Line, bold, line
from formatters.payloads import ChartImage, TelegramMessage
from formatters.split import pack
from formatters.templates import Templates

MESSAGE_LIMIT = 4096
BUTTONS_PER_ROW = 5
CONT_TITLE = 80
QUOTE_OPEN = "<blockquote expandable>"
QUOTE_CLOSE = "</blockquote>"

Keyboard = dict[str, Any]


def _weight(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def chunks(lines: Sequence[Line], budget: int = MESSAGE_LIMIT) -> list[list[Line]]:
    """Lines packed into chunks whose visible length fits ``budget``; blank chunks dropped."""
    packed = pack(lines, budget, telegram_len, _weight)
    return [chunk for chunk in packed if any(ln.text.strip() for ln in chunk)]


def html_messages(
    lines: Sequence[Line], *, keyboard: Keyboard | None = None
) -> list[TelegramMessage]:
    """Plain (non-quoted) lines → messages; the keyboard goes on the last one."""
    out = [TelegramMessage(text=to_telegram_html(chunk)) for chunk in chunks(lines)]
    if keyboard and out:
        out[-1] = out[-1].model_copy(update={"reply_markup": keyboard})
    return out


def keyboard(rows: Sequence[Sequence[dict[str, str]]]) -> Keyboard | None:
    rows = [list(row) for row in rows if row]
    return {"inline_keyboard": rows} if rows else None


def _rows(buttons: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    return [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]


# --------------------------------------------------------------------------- digest


def headline_lines(digest: Digest, templates: Templates) -> list[Line]:
    title = templates.text("digest_title", title=digest.title, date=digest.date.isoformat())
    out = [
        line(bold(title)),
        *templates.lines("digest_intro", count=len(digest.items), thread=False),
    ]
    if not digest.items:
        out += templates.lines("digest_empty", date=digest.date.isoformat())
    for item in digest.items:
        head = layout.headline_lines(item, templates, date=digest.date)
        out += [replace(head[0], gap=True), *head[1:]]
    return out


@dataclass
class _Unit:
    """One item's detail: a visible head and a body that goes in an expandable quote."""

    item: Item
    head: list[Line]
    body: list[Line]

    def size(self) -> int:
        body = telegram_len(self.body)
        return telegram_len(self.head) + (1 + body if self.body else 0)

    def html(self) -> str:
        head = to_telegram_html(self.head)
        if not self.body:
            return head
        return f"{head}\n{QUOTE_OPEN}{to_telegram_html(self.body, nested=True)}{QUOTE_CLOSE}"


def _units(item: Item, templates: Templates, date: dt.date | None, *, summary: bool) -> list[_Unit]:
    """The item's detail, split into as many units as needed to respect the limit."""
    head = layout.headline_lines(item, templates, date=date, summary=summary)
    head += layout.tag_lines(item)
    body = layout.detail_lines(item, templates)
    if body:  # no blank line at the top of the quote
        body[0] = replace(body[0], gap=False)
    unit = _Unit(item, head, body)
    if unit.size() <= MESSAGE_LIMIT:
        return [unit]
    # Continuations repeat a short label (not content, so it may be shortened).
    title = layout.display_title(item)
    title = title if len(title) <= CONT_TITLE else title[: CONT_TITLE - 1] + "…"
    cont = [line(bold(f"{title} ({templates.label('continued')})"))]
    head_chunks = chunks(head, MESSAGE_LIMIT)
    units = [_Unit(item, chunk, []) for chunk in head_chunks[:-1]]
    first_head = head_chunks[-1] if head_chunks else cont
    if telegram_len(first_head) > MESSAGE_LIMIT // 2:  # a huge head: the body starts anew
        units.append(_Unit(item, first_head, []))
        first_head = cont
    room = MESSAGE_LIMIT - max(telegram_len(first_head), telegram_len(cont)) - 1
    for index, part in enumerate(chunks(body, room)):
        units.append(_Unit(item, first_head if index == 0 else cont, part))
    return units


def _url_button(item: Item, templates: Templates) -> dict[str, str] | None:
    url = safe_url(item.url)
    if not url:
        return None
    return {"text": f"{item.rank}. {templates.label('original')}", "url": url}


def detail_messages(
    items: Sequence[Item], templates: Templates, date: dt.date | None, *, summary: bool = False
) -> list[TelegramMessage]:
    """Detail units packed greedily into messages; each message gets "read" link buttons."""
    groups: list[list[_Unit]] = []
    size = 0
    for item in items:
        for unit in _units(item, templates, date, summary=summary):
            extra = unit.size() + (2 if groups and groups[-1] else 0)
            if groups and size + extra <= MESSAGE_LIMIT:
                groups[-1].append(unit)
                size += extra
            else:
                groups.append([unit])
                size = unit.size()
    out = []
    for group in groups:
        seen: list[Item] = []
        for unit in group:
            if not any(unit.item is s for s in seen):
                seen.append(unit.item)
        buttons = [b for b in (_url_button(i, templates) for i in seen) if b]
        text = "\n\n".join(unit.html() for unit in group)
        out.append(TelegramMessage(text=text, reply_markup=keyboard(_rows(buttons))))
    return out


def render_digest(digest: Digest, templates: Templates) -> list[TelegramMessage]:
    """Headline message(s), then the details of every item."""
    return [
        *html_messages(headline_lines(digest, templates)),
        *detail_messages(digest.items, templates, digest.date),
    ]


def render_rollup(rollup: Rollup, templates: Templates) -> list[TelegramMessage]:
    """A weekly rollup: headlines grouped by day, then each item's details in expandable
    quotes (the same for a delivery and a reply)."""
    title = weekly.rollup_title(rollup, templates)
    lines = [line(bold(title)), *weekly.rollup_intro(rollup, templates, thread=False)]
    for day, pairs in weekly.numbered(rollup):
        heading = weekly.day_heading(day, templates)
        lines += [replace(heading[0], gap=True), *heading[1:]]
        for shown, hit in pairs:
            head = [*layout.headline_lines(shown, templates, date=hit.date)]
            head += layout.tag_lines(shown)
            lines += [replace(head[0], gap=True), *head[1:]]
    return [*html_messages(lines), *detail_messages(weekly.shown_hits(rollup), templates, None)]


def _trends(reply: TrendsReply, templates: Templates) -> list[TelegramMessage | ChartImage]:
    """The chart (sent as a photo by the adapter), then the text lines below it."""
    chart = weekly.chart_image(reply.trends, templates)
    place = "above" if chart else ("omit" if reply.trends.empty else "none")
    text: list[TelegramMessage | ChartImage] = list(
        html_messages(weekly.trend_lines(reply.trends, templates, chart=place))
    )
    return [chart, *text] if chart else text


# --------------------------------------------------------------------------- replies


def render_reply(reply: Reply, templates: Templates) -> list[TelegramMessage | ChartImage]:
    """Any reply model → messages, with callback buttons for "more" and "details"; a
    trends reply starts with its ``ChartImage``."""
    if isinstance(reply, WeekReply):
        return list(render_rollup(reply.rollup, templates))
    if isinstance(reply, TrendsReply):
        return _trends(reply, templates)
    if isinstance(reply, SearchReply):
        return _search(reply, templates)
    if isinstance(reply, DigestReply):
        digest = reply.digest
        buttons = [_details_button(str(i.rank), digest.date, i.rank) for i in digest.items]
        return html_messages(headline_lines(digest, templates), keyboard=keyboard(_rows(buttons)))
    if isinstance(reply, ItemDetailReply):
        hit = reply.hit
        out = detail_messages([hit], templates, hit.date, summary=True)
        if len(out) == 1:  # a single item: its link preview helps
            out[0] = out[0].model_copy(update={"link_preview": True})
        return out
    if isinstance(reply, HelpReply):
        return html_messages(templates.lines("help"))
    if isinstance(reply, SubscriptionReply):
        return html_messages(layout.subscription_lines(reply, templates))
    if isinstance(reply, ErrorReply):
        return html_messages(templates.lines("error", message=reply.message, example=reply.example))
    if isinstance(reply, NoticeReply):
        return html_messages(templates.lines("notice", message=reply.message))
    raise TypeError(f"no Telegram rendering for {type(reply).__name__}")


def _details_button(label: str, date: dt.date, rank: int) -> dict[str, str]:
    return {"text": label, "callback_data": actions.encode_details(date, rank)}


def _search(reply: SearchReply, templates: Templates) -> list[TelegramMessage]:
    if not reply.hits:
        return html_messages(templates.lines("search_empty", query=reply.query))
    first = reply.offset + 1
    lines = layout.search_header(reply, templates)
    buttons = []
    for number, hit in enumerate(reply.hits, start=first):
        entry = layout.compact_lines(hit, hit.date, templates, number=number)
        lines += [replace(entry[0], gap=True), *entry[1:]]
        buttons.append(
            _details_button(f"{templates.label('details')} {number}", hit.date, hit.rank)
        )
    rows = _rows(buttons)
    more = layout.next_offset(reply)
    value = None
    if more is not None:
        value = actions.encode_more(reply.query, more)
        if value is None and reply.more_key is not None:
            value = actions.encode_more_key(reply.more_key, more)
    if value is not None:
        rows.append([{"text": f"{templates.label('more')} ▸", "callback_data": value}])
    return html_messages(lines, keyboard=keyboard(rows))


__all__ = ["MESSAGE_LIMIT", "render_digest", "render_reply", "render_rollup"]
