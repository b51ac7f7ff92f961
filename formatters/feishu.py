"""Feishu/Lark interactive cards: a headline per item, its details in a collapsible panel.

A custom robot's request body must stay under 20 KB and a JSON 2.0 card holds at most 200
elements, so items are packed greedily into cards (``pack_cards``, one packing for the
digest and the weekly rollup) measured exactly as the bytes of the JSON body. An item whose
details do not fit one card continues in the next ones, its panel cut between lines and
labelled "(continued)": a long section arrives whole and in order. Markdown content goes
through ``formatters.escape.escape_feishu`` (``<at …>`` in content is text), plain text
through ``feishu_plain``. The same cards go to the app bot's IM API.

Each card carries its fallback: the same lines as ``post`` bodies (rich text of ``text``
and ``a`` elements, escaped by ``feishu_post_text``), which the transport sends when
Feishu refuses the card; ``text_fallback`` turns a post into a plain ``text`` message.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.models import Digest
from formatters import rollup as weekly
from formatters.escape import (
    MENTION_BREAK,
    escape_feishu,
    feishu_plain,
    feishu_post_text,
    safe_url,
)
from formatters.line_markup import merge
from formatters.lines import Line
from formatters.payloads import ChartImage, RobotMessage
from formatters.robot_markup import (
    ItemLines,
    byte_chunks,
    continued,
    intro_lines,
    item_lines,
    to_markdown,
    utf8_len,
)
from formatters.templates import Templates

if TYPE_CHECKING:
    from bot.archive import Rollup

#: Feishu's limit on a custom robot request body is 20 KB; the signature adds ~80 bytes.
BODY_LIMIT = 19_800
#: A card JSON 2.0 holds at most 200 elements and components, nested ones included.
ELEMENT_LIMIT = 200
#: The card's locale key for a post, by template language.
LOCALES = {"zh": "zh_cn", "en": "en_us"}
#: Alt text kept short: it is read aloud, and counts against the card's bytes.
ALT_LIMIT = 1000
Element = dict[str, Any]
HR: Element = {"tag": "hr"}
_POST_STYLES = (("b", "bold"), ("i", "italic"), ("s", "lineThrough"))


@dataclass(frozen=True)
class Group:
    """Card elements that belong together, and the lines they show (for the fallback)."""

    elements: list[Element]
    lines: list[Line]


def body_size(body: dict[str, Any]) -> int:
    """Bytes of the body as the transport sends it (``json.dumps`` defaults, UTF-8)."""
    return utf8_len(json.dumps(body, ensure_ascii=False))


def element_count(node: Any) -> int:
    """Elements and components in a card (every object with a ``tag``, at any depth)."""
    if isinstance(node, list):
        return sum(element_count(child) for child in node)
    if isinstance(node, dict):
        own = 1 if "tag" in node else 0
        return own + sum(element_count(child) for child in node.values())
    return 0


def markdown(lines: Sequence[Line]) -> Element:
    return {"tag": "markdown", "content": to_markdown(lines, escape_feishu)}


def panel(title: str, lines: Sequence[Line]) -> Element:
    return {
        "tag": "collapsible_panel",
        "expanded": False,
        "header": {"title": {"tag": "plain_text", "content": feishu_plain(title)}},
        "elements": [markdown(lines)],
    }


def card_body(title: str | None, elements: list[Element]) -> dict[str, Any]:
    card: dict[str, Any] = {"schema": "2.0", "config": {"update_multi": True}}
    if title:
        card["header"] = {
            "title": {"tag": "plain_text", "content": feishu_plain(title)},
            "template": "blue",
        }
    card["body"] = {"elements": elements}
    return {"msg_type": "interactive", "card": card}


def fits(title: str | None, elements: list[Element]) -> bool:
    """Within the body limit and the element limit, as one card."""
    body = card_body(title, elements)
    return element_count(body["card"]) <= ELEMENT_LIMIT and body_size(body) <= BODY_LIMIT


def gapped(lines: Sequence[Line]) -> list[Line]:
    """The lines as a new paragraph (a blank line before the first)."""
    return [replace(lines[0], gap=True), *lines[1:]] if lines else []


def item_groups(parts: ItemLines, templates: Templates, title: str | None) -> list[Group]:
    """The item as one or more groups, each fitting an otherwise empty card."""
    label = templates.label("details")
    whole = [markdown(parts.head), *([panel(label, parts.details)] if parts.details else [])]
    if fits(title, whole) or not parts.details:
        return [Group(whole, [*parts.head, *gapped(parts.details)])]
    cont = continued(parts.item, templates)
    shell = max(
        body_size(card_body(title, [markdown(head), panel(label, [])]))
        for head in (parts.head, cont)
    )
    budget = BODY_LIMIT - shell - 64
    groups = []
    for index, chunk in enumerate(byte_chunks(parts.details, budget, escape_feishu, as_json=True)):
        head = parts.head if index == 0 else cont
        groups.append(Group([markdown(head), panel(label, chunk)], [*head, *gapped(chunk)]))
    return groups


def item_elements(parts: ItemLines, templates: Templates, title: str | None) -> list[list[Element]]:
    """The item as one or more element groups, each fitting an otherwise empty card."""
    return [group.elements for group in item_groups(parts, templates, title)]


def pack_cards(title: str | None, groups: Iterable[Group]) -> list[Group]:
    """Groups packed greedily into cards, a rule between groups, in order: what both the
    digest and the rollup send. A group never splits (each fits an empty card)."""
    cards: list[Group] = []
    for group in groups:
        if cards:
            elements = [*cards[-1].elements, HR, *group.elements]
            if fits(title, elements):
                cards[-1] = Group(elements, [*cards[-1].lines, *gapped(group.lines)])
                continue
        cards.append(group)
    return cards


def messages(title: str | None, cards: list[Group], templates: Templates) -> list[RobotMessage]:
    """Cards as robot messages, each carrying its post fallback."""
    locale = LOCALES.get(templates.language, "zh_cn")
    return [
        RobotMessage(
            body=card_body(title, card.elements),
            fallback=post_bodies(title, card.lines, locale),
        )
        for card in cards
    ]


def render_digest(digest: Digest, templates: Templates) -> list[RobotMessage]:
    """Cards within the body limit: the intro, then every item with its details panel."""
    title = templates.text("digest_title", title=digest.title, date=digest.date.isoformat())
    intro = intro_lines(digest, templates, title=False)
    groups = [Group([markdown(intro)], intro)]
    for item in digest.items:
        groups += item_groups(item_lines(item, templates, digest.date), templates, title)
    return messages(title, pack_cards(title, groups), templates)


def rollup_groups(rollup: Rollup, templates: Templates, title: str | None) -> list[Group]:
    """The rollup's intro, then day by day each item (numbered through the week) with its
    details panel; a day's heading shares a group with its first item where that fits."""
    intro = weekly.rollup_intro(rollup, templates, thread=False)
    groups = [Group([markdown(intro)], intro)]
    for day, pairs in weekly.numbered(rollup):
        heading = weekly.day_heading(day, templates)
        pending: Group | None = Group([markdown(heading)], heading)
        for shown, hit in pairs:
            for group in item_groups(item_lines(shown, templates, hit.date), templates, title):
                if pending is not None:
                    joined = Group(
                        [*pending.elements, *group.elements],
                        [*pending.lines, *gapped(group.lines)],
                    )
                    if fits(title, joined.elements):
                        group = joined
                    else:
                        groups.append(pending)
                    pending = None
                groups.append(group)
        if pending is not None:
            groups.append(pending)
    return groups


def render_rollup(rollup: Rollup, templates: Templates) -> list[RobotMessage]:
    """A weekly rollup as cards within the body limit: day headings, each item's headline
    and its details one click away in a collapsible panel."""
    title = weekly.rollup_title(rollup, templates)
    return messages(title, pack_cards(title, rollup_groups(rollup, templates, title)), templates)


def text_cards(lines: Sequence[Line], title: str | None = None) -> list[dict[str, Any]]:
    """Lines as one or more cards (each within the body limit)."""
    room = BODY_LIMIT - body_size(card_body(title, [markdown([])])) - 64
    chunks = byte_chunks(lines, room, escape_feishu, as_json=True) or [list(lines)]
    return [card_body(title, [markdown(chunk)])["card"] for chunk in chunks]


def with_image(card: dict[str, Any], image_key: str, chart: ChartImage) -> dict[str, Any]:
    """The card with an uploaded image at the top (``img_key`` from the image upload)."""
    alt = chart.alt_text or chart.title
    image = {
        "tag": "img",
        "img_key": image_key,
        "alt": {"tag": "plain_text", "content": feishu_plain(alt[:ALT_LIMIT])},
    }
    body = dict(card.get("body") or {})
    return {**card, "body": {**body, "elements": [image, *body.get("elements", [])]}}


# ---------------------------------------------------------------- the post/text fallback


def paragraph(ln: Line) -> list[Element]:
    """One line as a post paragraph: ``text`` elements and ``a`` links (http(s) only)."""
    if ln.kind == "code":
        return [{"tag": "text", "text": feishu_post_text(ln.text)}]
    lead = ("> " if ln.kind == "quote" else "") + ln.prefix
    out: list[Element] = [{"tag": "text", "text": feishu_post_text(lead)}] if lead else []
    for span in merge(ln.spans):
        text = feishu_post_text(span.text)
        target = safe_url(span.href) if span.href else None
        element: Element = (
            {"tag": "a", "text": text, "href": target} if target else {"tag": "text", "text": text}
        )
        styles = [name for key, name in _POST_STYLES if key in span.styles]
        if styles:
            element["style"] = styles
        out.append(element)
    return out or [{"tag": "text", "text": ""}]


def post_body(title: str | None, paragraphs: list[list[Element]], locale: str) -> dict[str, Any]:
    content = {"title": feishu_post_text(title or ""), "content": paragraphs}
    return {"msg_type": "post", "content": {"post": {locale: content}}}


def post_bodies(title: str | None, lines: Sequence[Line], locale: str = "zh_cn") -> list[dict]:
    """The lines as one or more ``post`` bodies, each within the body limit, in order."""
    paragraphs: list[list[Element]] = []
    for index, ln in enumerate(lines):
        if ln.gap and index:
            paragraphs.append([{"tag": "text", "text": ""}])
        paragraphs.append(paragraph(ln))
    base = body_size(post_body(title, [], locale))
    parts: list[list[list[Element]]] = [[]]
    size = base
    for para in paragraphs:
        cost = body_size({"p": para}) - 7 + 2  # the list item and its ", "
        if parts[-1] and size + cost > BODY_LIMIT:
            parts.append([])
            size = base
        if not parts[-1] and _blank(para):
            continue  # a part never starts with a blank paragraph
        parts[-1].append(para)
        size += cost
    return [post_body(title, part, locale) for part in parts if part]


def _blank(para: list[Element]) -> bool:
    return all(not str(element.get("text", "")).strip() for element in para)


def text_fallback(post: dict[str, Any]) -> dict[str, Any]:
    """A post body as a ``text`` message (links written out after their label): what is
    left when Feishu refuses even the post. Its texts are already escaped."""
    rows = []
    for content in post["content"]["post"].values():
        if content.get("title"):
            rows.append(content["title"])
        for para in content["content"]:
            cells = []
            for element in para:
                text = str(element.get("text", ""))
                href = element.get("href")
                cells.append(f"{text} ({href})" if href and href != text else text)
            rows.append("".join(cells))
    return {"msg_type": "text", "content": {"text": "\n".join(rows)}}


_MD_LINK = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]*)\)")


def _plain(markdown: str) -> str:
    """Our card markdown back to its text: markers dropped (content's own ``*`` and ``~``
    are entities), entities resolved outside link targets, links as "label (url)"."""
    raw = markdown.replace("**", "").replace("~~", "")
    out, last = [], 0
    for match in _MD_LINK.finditer(raw):
        out.append(html.unescape(raw[last : match.start()]))
        out.append(f"{html.unescape(match[1])} ({match[2]})")
        last = match.end()
    out.append(html.unescape(raw[last:]))
    return "".join(out).replace(MENTION_BREAK, "")


def card_text(card: dict[str, Any]) -> dict[str, Any]:
    """A card's visible text as ``text`` message content, for a reply whose card Feishu
    refused: the markdown's entities resolved back to the text they stood for, links
    written out after their label, and the result escaped again for plain text."""
    rows: list[str] = []

    def walk(element: dict[str, Any]) -> None:
        tag = element.get("tag")
        if tag == "markdown":
            rows.append(_plain(str(element.get("content", ""))))
        elif tag == "collapsible_panel":
            title = ((element.get("header") or {}).get("title") or {}).get("content", "")
            rows.append(str(title).replace(MENTION_BREAK, ""))
        elif tag == "img":
            rows.append(str((element.get("alt") or {}).get("content", "")))
        for child in element.get("elements", []) or []:
            walk(child)

    header = ((card.get("header") or {}).get("title") or {}).get("content")
    if header:
        rows.append(str(header).replace(MENTION_BREAK, ""))
    for element in (card.get("body") or {}).get("elements", []):
        walk(element)
    return {"text": feishu_post_text("\n".join(row for row in rows if row))}


__all__ = [
    "BODY_LIMIT",
    "ELEMENT_LIMIT",
    "Group",
    "body_size",
    "card_body",
    "card_text",
    "element_count",
    "item_elements",
    "item_groups",
    "pack_cards",
    "post_bodies",
    "render_digest",
    "render_rollup",
    "text_cards",
    "text_fallback",
    "with_image",
]
