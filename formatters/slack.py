"""Slack Block Kit messages for digests and command replies, within every platform limit.

A digest is one parent message (headlines) and, per item, thread replies with the full
write-up. Text is built as lines (``formatters.markdown``) and packed into section blocks
of at most 3000 characters, blocks into messages of at most 50 blocks and ~12k characters
(Slack answers ``msg_blocks_too_long`` near 13k even though no single block is too big).
Plain-text fields (header, button labels) are never parsed by Slack, so they carry raw
text; every mrkdwn field and the notification ``text`` go through ``escape_slack``.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from bot.models import Digest, Hit, Item
from formatters import layout
from formatters import rollup as weekly
from formatters.escape import escape_slack, safe_url
from formatters.line_markup import to_mrkdwn, to_plain
from formatters.lines import Line
from formatters.payloads import ChartImage, SlackMessage
from formatters.split import pack
from formatters.templates import Templates

MAX_BLOCKS = 50
SECTION_TEXT = 3000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
BUTTON_TEXT = 75
BUTTON_URL = 3000
MESSAGE_CHARS = 12_000
FALLBACK_CHARS = 3000

Block = dict[str, Any]


def _weight(ch: str) -> int:
    return 5 if ch == "&" else 4 if ch in "<>" else 1


def _cost(lines: Sequence[Line]) -> int:
    return len(to_mrkdwn(lines))


def mrkdwn_chunks(lines: Sequence[Line], budget: int = SECTION_TEXT) -> list[str]:
    """Lines → mrkdwn strings of at most ``budget`` characters each, nothing dropped."""
    if not lines:
        return []
    return [
        text
        for chunk in pack(lines, budget, _cost, _weight)
        if (text := to_mrkdwn(chunk).strip("\n"))
    ]


def sections(lines: Sequence[Line]) -> list[Block]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": t}} for t in mrkdwn_chunks(lines)
    ]


def context(lines: Sequence[Line]) -> list[Block]:
    """Context blocks (small grey text), at most 10 elements of 3000 characters each."""
    elements = [{"type": "mrkdwn", "text": t} for t in mrkdwn_chunks(lines)]
    return [
        {"type": "context", "elements": elements[i : i + CONTEXT_ELEMENTS]}
        for i in range(0, len(elements), CONTEXT_ELEMENTS)
    ]


def header(text: str) -> list[Block]:
    """A header block (plain text ≤150); a longer title becomes a bold section instead."""
    text = " ".join(text.split())
    if not text:
        return []
    if len(text) <= HEADER_TEXT:
        return [{"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}]
    return sections(layout.title_lines(text))


def button(
    label: str, *, action_id: str, value: str | None = None, url: str | None = None
) -> Block:
    """A button with its label cut to 75 characters (labels are ours, never content)."""
    label = label if len(label) <= BUTTON_TEXT else label[: BUTTON_TEXT - 1] + "…"
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
    }
    element["action_id"] = action_id
    if value is not None:
        element["value"] = value
    target = safe_url(url)
    if target and len(target) <= BUTTON_URL:
        element["url"] = target
    return element


def fallback(text: str) -> str:
    """The notification text (blocks carry the content): whitespace tidied, shortened on
    raw text so no entity is cut, then escaped."""
    lines = (" ".join(part.split()) for part in text.strip().splitlines())
    tidy = "\n".join(part for part in lines if part)
    if len(tidy) > FALLBACK_CHARS:
        tidy = tidy[: FALLBACK_CHARS - 1] + "…"
    return escape_slack(tidy)


def messages(blocks: Sequence[Block], text: str, *, in_thread: bool = False) -> list[SlackMessage]:
    """Group blocks into messages of ≤50 blocks and ≤12k characters of block text."""
    out: list[list[Block]] = [[]]
    size = 0
    for block in blocks:
        weight = _block_chars(block)
        if out[-1] and (len(out[-1]) >= MAX_BLOCKS or size + weight > MESSAGE_CHARS):
            out.append([])
            size = 0
        out[-1].append(block)
        size += weight
    return [
        SlackMessage(text=fallback(text) or _first_text(group), blocks=group, in_thread=in_thread)
        for group in out
        if group
    ]


def _first_text(blocks: Sequence[Block]) -> str:
    """A fallback taken from the blocks themselves when the caller's one is blank."""
    for block in blocks:
        text = block.get("text", {}).get("text", "") if isinstance(block.get("text"), dict) else ""
        if text.strip():
            first = text.strip().splitlines()[0]
            return first if len(first) <= FALLBACK_CHARS else first[: FALLBACK_CHARS - 1] + "…"
    return "…"


def _block_chars(block: Block) -> int:
    if "text" in block:
        return len(block["text"]["text"])
    return sum(
        len(e.get("text", "")) if isinstance(e.get("text"), str) else 0
        for e in block.get("elements", [])
    )


# --------------------------------------------------------------------------- digest


def item_blocks(
    item: Item, templates: Templates, *, date: Any = None, accessory: Block | None = None
) -> list[Block]:
    """One headline: linked title + stars, source/time, summary; tags in a context line."""
    blocks = sections(layout.headline_lines(item, templates, date=date))
    if accessory and blocks:
        blocks[0]["accessory"] = accessory
    tags = layout.tag_lines(item)
    return blocks + (context(tags) if tags else [])


def render_digest(digest: Digest, templates: Templates) -> list[SlackMessage]:
    """Message 0: the parent with headlines; then each item's details as thread replies."""
    title = templates.text("digest_title", title=digest.title, date=digest.date.isoformat())
    intro = templates.lines("digest_intro", count=len(digest.items), thread=bool(digest.items))
    blocks = [*header(title), *context(intro), {"type": "divider"}]
    if not digest.items:
        blocks += sections(templates.lines("digest_empty", date=digest.date.isoformat()))
    for item in digest.items:
        blocks += item_blocks(item, templates, date=digest.date)
    count = templates.text("digest_intro", count=len(digest.items), thread=False)
    parent = messages(blocks, f"{title} · {count}")
    out = [parent[0], *(m.model_copy(update={"in_thread": True}) for m in parent[1:])]
    for item in digest.items:
        out += detail_messages(item, templates, in_thread=True, date=digest.date)
    return out


def detail_messages(
    item: Item, templates: Templates, *, in_thread: bool, date: Any = None
) -> list[SlackMessage]:
    """An item's full write-up: title, meta, summary, every section and resource."""
    head = layout.headline_lines(item, templates, date=date, summary=not in_thread)
    lines = [*head, *layout.detail_lines(item, templates)]
    blocks = sections(lines)
    tags = layout.tag_lines(item)
    if tags and not in_thread:  # the parent already shows them
        blocks += context(tags)
    return messages(blocks, layout.display_title(item), in_thread=in_thread)


# --------------------------------------------------------------------------- replies


def render_rollup(rollup: Rollup, templates: Templates, *, thread: bool) -> list[SlackMessage]:
    """A weekly rollup: headlines grouped by day; the details in the thread (``thread``,
    for deliveries) or one "details" button away (replies, which cannot open a thread)."""
    title = weekly.rollup_title(rollup, templates)
    intro = weekly.rollup_intro(rollup, templates, thread=thread and not rollup.empty)
    blocks = [*header(title), *context(intro), {"type": "divider"}]
    for day, pairs in weekly.numbered(rollup):
        blocks += sections(weekly.day_heading(day, templates))
        for shown, hit in pairs:
            button = None if thread else _details_button(hit, hit.date, templates)
            blocks += item_blocks(shown, templates, date=hit.date, accessory=button)
    parent = messages(blocks, f"{title} · {to_plain(intro)}")
    out = [parent[0], *(m.model_copy(update={"in_thread": thread}) for m in parent[1:])]
    if thread:
        for shown in weekly.shown_hits(rollup):
            out += detail_messages(shown, templates, in_thread=True, date=shown.date)
    return out


def _trends(reply: TrendsReply, templates: Templates) -> list[SlackMessage | ChartImage]:
    """The chart (uploaded to the command's channel by the adapter), then the text lines."""
    chart = weekly.chart_image(reply.trends, templates)
    place = "here" if chart else ("omit" if reply.trends.empty else "none")
    lines = weekly.trend_lines(reply.trends, templates, chart=place)
    text: list[SlackMessage | ChartImage] = list(_text_reply(lines, to_plain(lines)))
    return [chart, *text] if chart else text


def render_reply(reply: Reply, templates: Templates) -> list[SlackMessage | ChartImage]:
    """Any reply model → messages (never threaded; the adapter decides where they go); a
    trends reply starts with its ``ChartImage``."""
    if isinstance(reply, WeekReply):
        return list(render_rollup(reply.rollup, templates, thread=False))
    if isinstance(reply, TrendsReply):
        return _trends(reply, templates)
    if isinstance(reply, SearchReply):
        return _search(reply, templates)
    if isinstance(reply, DigestReply):
        return _digest_reply(reply.digest, templates)
    if isinstance(reply, ItemDetailReply):
        return detail_messages(reply.hit, templates, in_thread=False, date=reply.hit.date)
    if isinstance(reply, HelpReply):
        return _text_reply(templates.lines("help"), templates.text("help").split("\n")[0])
    if isinstance(reply, SubscriptionReply):
        lines = layout.subscription_lines(reply, templates)
        return _text_reply(lines, to_plain(lines))
    if isinstance(reply, ErrorReply):
        lines = templates.lines("error", message=reply.message, example=reply.example)
        return _text_reply(lines, reply.message)
    if isinstance(reply, NoticeReply):
        lines = templates.lines("notice", message=reply.message)
        return _text_reply(lines, reply.message)
    raise TypeError(f"no Slack rendering for {type(reply).__name__}")


def _text_reply(lines: Sequence[Line], text: str) -> list[SlackMessage]:
    return messages(sections(lines), text)


def _details_button(hit: Hit | Item, date: Any, templates: Templates) -> Block:
    value = actions.encode_details(date, hit.rank)
    return button(templates.label("details"), action_id=actions.DETAILS, value=value)


def _search(reply: SearchReply, templates: Templates) -> list[SlackMessage]:
    if not reply.hits:
        lines = templates.lines("search_empty", query=reply.query)
        return _text_reply(lines, to_plain(lines))
    first, last = reply.offset + 1, reply.offset + len(reply.hits)
    head = layout.search_header(reply, templates)
    blocks = context(head)
    for number, hit in enumerate(reply.hits, start=first):
        lines = layout.compact_lines(hit, hit.date, templates, number=number)
        found = sections(lines)
        found[0]["accessory"] = _details_button(hit, hit.date, templates)
        blocks += found
    more = layout.next_offset(reply)
    value = (
        actions.encode_more(reply.query, more, actions.SLACK_VALUE_LIMIT, in_bytes=False)
        if more is not None
        else None
    )
    if value is not None:
        plus = "+" if reply.total_capped else ""
        label = f"{templates.label('more')} ({last}/{reply.total}{plus})"
        blocks.append(
            {"type": "actions", "elements": [button(label, action_id=actions.MORE, value=value)]}
        )
    return messages(blocks, to_plain(head))


def _digest_reply(digest: Digest, templates: Templates) -> list[SlackMessage]:
    title = templates.text("digest_title", title=digest.title, date=digest.date.isoformat())
    intro = templates.lines("digest_intro", count=len(digest.items), thread=False)
    blocks = [*header(title), *context(intro)]
    if not digest.items:
        blocks += sections(templates.lines("digest_empty", date=digest.date.isoformat()))
    for item in digest.items:
        blocks += item_blocks(
            item,
            templates,
            date=digest.date,
            accessory=_details_button(item, digest.date, templates),
        )
    return messages(blocks, f"{title} · {to_plain(intro)}")


__all__ = ["render_digest", "render_reply", "render_rollup"]
