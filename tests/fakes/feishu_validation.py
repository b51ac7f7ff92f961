"""Check Feishu/Lark messages the way the custom-robot and IM APIs do (pure functions).

A custom robot's request body must stay under 20 KB. ``interactive`` takes a card: here
the JSON 2.0 schema (``header``, ``body.elements``) with the components digestbot uses
(``markdown``, ``collapsible_panel``, ``hr``, ``div``); card markdown renders ``<at …>``
(a mention; ``<at id=all>`` mentions everyone), ``<font>`` and ``<text_tag>``, and links.
``text`` and ``post`` are accepted as the API does. Deliberately stricter than Feishu: any
other raw tag in markdown is refused (Feishu shows it as text; it means content was not
escaped).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes.robot_markdown import RobotRefused, check_markdown, mass_mentions

BODY_LIMIT = 20_000
MSG_TYPES = {"text", "post", "interactive", "image", "share_chat"}
COMPONENTS = {"markdown", "collapsible_panel", "hr", "div", "column_set", "column"}
TAGS = frozenset({"at", "font", "text_tag", "br"})
_AT = re.compile(r"<at\b[^>]*>", re.IGNORECASE)


def _text_of(element: dict[str, Any], out: dict[str, Any]) -> None:
    tag = element.get("tag")
    if tag not in COMPONENTS:
        raise RobotRefused(11310, f"card: unsupported component {tag!r}")
    if tag == "markdown":
        content = str(element.get("content", ""))
        out["mentions"] += [m[0] for m in _AT.finditer(content)]
        try:
            rendered = check_markdown(content, TAGS)
        except ValueError as exc:
            raise RobotRefused(11310, f"card markdown: {exc}") from None
        out["mentions"] += mass_mentions(rendered.text)
        out["texts"].append(rendered.text)
        out["links"] += rendered.links
    if tag == "collapsible_panel":
        title = ((element.get("header") or {}).get("title") or {}).get("content")
        if not title:
            raise RobotRefused(11310, "card: collapsible_panel needs header.title")
        out["panels"] += 1
    for child in element.get("elements", []) or []:
        _text_of(child, out)


def validate_card(card: Any) -> dict[str, Any]:
    """Visible texts, links, mentions and panel count of a JSON 2.0 card."""
    if not isinstance(card, dict):
        raise RobotRefused(11310, "card must be an object")
    if card.get("schema") != "2.0":
        raise RobotRefused(11310, "card: expected schema 2.0")
    title = ((card.get("header") or {}).get("title") or {}).get("content", "")
    elements = (card.get("body") or {}).get("elements")
    if not isinstance(elements, list) or not elements:
        raise RobotRefused(11310, "card: body.elements must be a non-empty list")
    out: dict[str, Any] = {"title": title, "texts": [], "links": [], "mentions": [], "panels": 0}
    for element in elements:
        _text_of(element, out)
    out["text"] = "\n".join(out["texts"])
    return out


def validate_feishu_message(body: dict[str, Any], *, raw_size: int | None = None) -> dict[str, Any]:
    """One webhook body (``msg_type`` + ``card``/``content``); RobotRefused as Feishu does."""
    size = raw_size if raw_size is not None else len(json.dumps(body, ensure_ascii=False).encode())
    if size > BODY_LIMIT:
        raise RobotRefused(9499, f"request body too large ({size} bytes > 20 KB)")
    kind = body.get("msg_type")
    if kind not in MSG_TYPES:
        raise RobotRefused(9499, f"Bad Request: msg_type {kind!r}")
    if kind == "interactive":
        return {"msg_type": kind, **validate_card(body.get("card"))}
    content = body.get("content") or {}
    text = json.dumps(content, ensure_ascii=False)
    return {
        "msg_type": kind,
        "text": text,
        "links": [],
        "panels": 0,
        "mentions": [m[0] for m in _AT.finditer(text)] + mass_mentions(text),
    }
