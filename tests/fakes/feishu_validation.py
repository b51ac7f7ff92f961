"""Check Feishu/Lark messages the way the custom-robot and IM APIs do (pure functions).

A custom robot's request body must stay under 20 KB. ``interactive`` takes a card: here
the JSON 2.0 schema (``header``, ``body.elements``) with the components digestbot uses
(``markdown``, ``collapsible_panel``, ``hr``, ``div``, ``img``, ``column_set``,
``button``), at most 200 elements and components in one card, containers nested at most
five deep; card markdown renders ``<at …>`` (a mention; ``<at id=all>`` mentions
everyone), ``<font>`` and ``<text_tag>``, and links. A refused card is
``RobotRefused(CARD_INVALID)``: the webhook answers it as code 11246 and the IM API as
230099, both naming 11310 in the message, as Feishu does.

``post`` (rich text: per locale a title and paragraphs of ``text``/``a``/``at`` elements)
and ``text`` are read for what a reader sees: an ``a`` must link to http(s), an ``at``
element or an ``<at …>`` tag in text addresses people (recorded as a mention; Feishu's
``text`` messages render that tag). Deliberately stricter than Feishu: any other raw tag
in card markdown is refused (Feishu shows it as text; it means content was not escaped).

A ``button`` (JSON 2.0: no ``action`` module, buttons sit among the elements or in
columns) needs a ``plain_text`` text of at most 100 characters and ``behaviors``; a
``callback`` behavior's value must be an object, the only kind the server SDKs read.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes.robot_markdown import RobotRefused, check_markdown, mass_mentions

BODY_LIMIT = 20_000
#: The card sub-error Feishu names when it cannot build a card from the JSON.
CARD_INVALID = 11310
#: One card holds at most 200 elements and components; containers nest at most 5 deep.
ELEMENT_LIMIT = 200
NESTING_LIMIT = 5
MSG_TYPES = {"text", "post", "interactive", "image", "share_chat"}
COMPONENTS = {
    "markdown",
    "collapsible_panel",
    "hr",
    "div",
    "column_set",
    "column",
    "button",
    "img",
}
CONTAINERS = {"collapsible_panel", "column_set", "column"}
BUTTON_TEXT_LIMIT = 100
BEHAVIORS = {"callback", "open_url"}
TAGS = frozenset({"at", "font", "text_tag", "br"})
POST_LOCALES = {"zh_cn", "en_us", "ja_jp"}
POST_ELEMENTS = {"text", "a", "at", "img", "media", "emotion", "hr", "code_block"}
_AT = re.compile(r"<at\b[^>]*>", re.IGNORECASE)
_HTTP = re.compile(r"^https?://[^/\s]+", re.IGNORECASE)


def _empty() -> dict[str, Any]:
    return {"texts": [], "links": [], "mentions": [], "panels": 0, "images": [], "buttons": []}


def _text_of(element: dict[str, Any], out: dict[str, Any], depth: int = 0) -> None:
    tag = element.get("tag")
    if tag not in COMPONENTS:
        raise RobotRefused(CARD_INVALID, f"unsupported type of block; ErrorValue: {tag}")
    if tag in CONTAINERS:
        depth += 1
        if depth > NESTING_LIMIT:
            raise RobotRefused(CARD_INVALID, f"containers nested deeper than {NESTING_LIMIT}")
    if tag == "markdown":
        content = str(element.get("content", ""))
        out["mentions"] += [m[0] for m in _AT.finditer(content)]
        try:
            rendered = check_markdown(content, TAGS)
        except ValueError as exc:
            raise RobotRefused(CARD_INVALID, f"card markdown: {exc}") from None
        out["mentions"] += mass_mentions(rendered.text)
        out["texts"].append(rendered.text)
        out["links"] += rendered.links
    if tag == "collapsible_panel":
        title = ((element.get("header") or {}).get("title") or {}).get("content")
        if not title:
            raise RobotRefused(CARD_INVALID, "collapsible_panel needs header.title")
        out["panels"] += 1
    if tag == "img":
        key, alt = element.get("img_key"), element.get("alt") or {}
        if not isinstance(key, str) or not key:
            raise RobotRefused(CARD_INVALID, "img needs img_key")
        if alt and alt.get("tag") != "plain_text":
            raise RobotRefused(CARD_INVALID, "img alt must be plain_text")
        out["images"].append(key)
        out["texts"].append(str(alt.get("content", "")))
    if tag == "button":
        out["buttons"].append(_button(element))
    for child in [*(element.get("elements") or []), *(element.get("columns") or [])]:
        _text_of(child, out, depth)


def count_elements(node: Any) -> int:
    """Every object with a ``tag`` (components and elements such as plain_text)."""
    if isinstance(node, list):
        return sum(count_elements(child) for child in node)
    if isinstance(node, dict):
        return int("tag" in node) + sum(count_elements(v) for v in node.values())
    return 0


def _button(element: dict[str, Any]) -> dict[str, Any]:
    """A button's label and callback value, checked as Feishu does."""
    text = element.get("text") or {}
    label = text.get("content")
    if text.get("tag") != "plain_text" or not isinstance(label, str) or not label:
        raise RobotRefused(CARD_INVALID, "button needs text {tag: plain_text, content}")
    if len(label) > BUTTON_TEXT_LIMIT:
        raise RobotRefused(11310, f"card: button text over {BUTTON_TEXT_LIMIT} characters")
    behaviors = element.get("behaviors")
    if not isinstance(behaviors, list) or not behaviors:
        raise RobotRefused(CARD_INVALID, "button needs behaviors")
    value = None
    for behavior in behaviors:
        kind = (behavior or {}).get("type")
        if kind not in BEHAVIORS:
            raise RobotRefused(11310, f"card: unknown button behavior {kind!r}")
        if kind == "callback":
            value = behavior.get("value")
            if not isinstance(value, dict):
                raise RobotRefused(CARD_INVALID, "a callback value must be an object")
    return {"label": label, "value": value}


def validate_card(card: Any) -> dict[str, Any]:
    """Visible texts, links, mentions, image keys and panel count of a JSON 2.0 card."""
    if not isinstance(card, dict):
        raise RobotRefused(CARD_INVALID, "card must be an object")
    if card.get("schema") != "2.0":
        raise RobotRefused(CARD_INVALID, "expected schema 2.0")
    title = ((card.get("header") or {}).get("title") or {}).get("content", "")
    elements = (card.get("body") or {}).get("elements")
    if not isinstance(elements, list) or not elements:
        raise RobotRefused(CARD_INVALID, "body.elements must be a non-empty list")
    count = count_elements(card)
    if count > ELEMENT_LIMIT:
        raise RobotRefused(
            CARD_INVALID, f"the number of card components exceeds {ELEMENT_LIMIT} ({count})"
        )
    out: dict[str, Any] = {"title": title, **_empty()}
    for element in elements:
        _text_of(element, out)
    out["text"] = "\n".join(out["texts"])
    return out


def validate_post(locales: Any) -> dict[str, Any]:
    """A post's content (``{"zh_cn": {"title", "content": [[...]]}}``) read as shown."""
    if not isinstance(locales, dict) or not locales or set(locales) - POST_LOCALES:
        raise RobotRefused(9499, f"Bad Request: post locales {sorted(locales or {})}")
    out: dict[str, Any] = {"title": "", **_empty()}
    for content in locales.values():
        paragraphs = content.get("content") if isinstance(content, dict) else None
        if not isinstance(paragraphs, list):
            raise RobotRefused(9499, "Bad Request: post content must be a list of paragraphs")
        out["title"] = out["title"] or str(content.get("title", ""))
        for para in paragraphs:
            row = []
            for element in para if isinstance(para, list) else [None]:
                tag = element.get("tag") if isinstance(element, dict) else None
                if tag not in POST_ELEMENTS:
                    raise RobotRefused(9499, f"Bad Request: post element {tag!r}")
                assert isinstance(element, dict)
                if tag == "a":
                    href = str(element.get("href", ""))
                    if not _HTTP.match(href):
                        raise RobotRefused(9499, f"Bad Request: post link {href[:80]!r}")
                    out["links"].append(href)
                if tag == "at":
                    out["mentions"].append(str(element.get("user_id", "")))
                row.append(str(element.get("text", "")))
            out["texts"].append("".join(row))
    return _read_text(out, [out["title"], *out["texts"]])


def _read_text(out: dict[str, Any], rows: list[str]) -> dict[str, Any]:
    text = "\n".join(rows)
    out["mentions"] += [m[0] for m in _AT.finditer(text)] + mass_mentions(text)
    out["text"] = text
    return out


def validate_text(content: Any) -> dict[str, Any]:
    if not isinstance(content, dict) or not isinstance(content.get("text"), str):
        raise RobotRefused(9499, "Bad Request: text content needs a text string")
    return _read_text({"title": "", **_empty()}, [content["text"]])


def validate_content(kind: str, content: Any) -> dict[str, Any]:
    """One message's content as the IM API takes it (a post without the ``post`` key)."""
    if kind == "interactive":
        return validate_card(content)
    if kind == "post":
        return validate_post(content)
    if kind == "text":
        return validate_text(content)
    return {"text": json.dumps(content, ensure_ascii=False), **_empty()}


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
    if kind == "post":
        content = content.get("post") if isinstance(content, dict) else None
    return {"msg_type": kind, **validate_content(str(kind), content)}
