"""Feishu/Lark interactive cards: a headline per item, its details in a collapsible panel.

A custom robot's request body must stay under 20 KB, so items are packed greedily into
cards (JSON 2.0 schema) measured exactly as the bytes of the JSON body. An item whose
details do not fit one card continues in the next ones, its panel cut between lines and
labelled "(continued)": a long section arrives whole and in order. Markdown content goes
through ``formatters.escape.escape_feishu`` (``<at …>`` in content is text), plain text
through ``feishu_plain``. The same cards go to the app bot's IM API.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.models import Digest
from formatters import rollup as weekly
from formatters.escape import escape_feishu, feishu_plain
from formatters.lines import Line
from formatters.payloads import RobotMessage
from formatters.robot_markup import (
    ItemLines,
    byte_chunks,
    continued,
    intro_lines,
    item_lines,
    rollup_stream,
    to_markdown,
    utf8_len,
)
from formatters.templates import Templates

if TYPE_CHECKING:
    from bot.archive import Rollup

#: Feishu's limit on a custom robot request body is 20 KB; the signature adds ~80 bytes.
BODY_LIMIT = 19_800
Element = dict[str, Any]


def body_size(body: dict[str, Any]) -> int:
    """Bytes of the body as sent (compact JSON, UTF-8)."""
    return utf8_len(json.dumps(body, ensure_ascii=False, separators=(",", ":")))


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


def item_elements(parts: ItemLines, templates: Templates, title: str) -> list[list[Element]]:
    """The item as one or more element groups, each fitting an otherwise empty card."""
    label = templates.label("details")
    whole = [markdown(parts.head), *([panel(label, parts.details)] if parts.details else [])]
    room = BODY_LIMIT - body_size(card_body(title, [{"tag": "hr"}]))
    if body_size(card_body(title, whole)) <= BODY_LIMIT or not parts.details:
        return [whole]
    cont = continued(parts.item, templates)
    shell = max(
        body_size(card_body(title, [markdown(head), panel(label, [])]))
        for head in (parts.head, cont)
    )
    budget = BODY_LIMIT - shell - 64
    groups = []
    for index, chunk in enumerate(byte_chunks(parts.details, budget, escape_feishu, as_json=True)):
        head = parts.head if index == 0 else cont
        groups.append([markdown(head), panel(label, chunk)])
    assert room > 0
    return groups


def render_digest(digest: Digest, templates: Templates) -> list[RobotMessage]:
    """Cards within the body limit: the intro, then every item with its details panel."""
    title = templates.text("digest_title", title=digest.title, date=digest.date.isoformat())
    cards: list[list[Element]] = [[markdown(intro_lines(digest, templates, title=False))]]
    for item in digest.items:
        for group in item_elements(item_lines(item, templates, digest.date), templates, title):
            candidate = [*cards[-1], {"tag": "hr"}, *group]
            if body_size(card_body(title, candidate)) <= BODY_LIMIT:
                cards[-1] = candidate
            else:
                cards.append(group)
    return [RobotMessage(body=card_body(title, elements)) for elements in cards]


def render_rollup(rollup: Rollup, templates: Templates) -> list[RobotMessage]:
    """A weekly rollup as cards within the body limit (day headings, items, details)."""
    title = weekly.rollup_title(rollup, templates)
    return [
        RobotMessage(body={"msg_type": "interactive", "card": card})
        for card in text_cards(rollup_stream(rollup, templates)[1:], title)
    ]


def text_cards(lines: Sequence[Line], title: str | None = None) -> list[dict[str, Any]]:
    """Lines as one or more cards (each within the body limit)."""
    room = BODY_LIMIT - body_size(card_body(title, [markdown([])])) - 64
    chunks = byte_chunks(lines, room, escape_feishu, as_json=True) or [list(lines)]
    return [card_body(title, [markdown(chunk)])["card"] for chunk in chunks]


__all__ = [
    "BODY_LIMIT",
    "body_size",
    "card_body",
    "item_elements",
    "render_digest",
    "render_rollup",
    "text_cards",
]
