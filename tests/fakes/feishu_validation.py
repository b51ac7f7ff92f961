"""Check Feishu/Lark messages the way the custom-robot and IM APIs do (pure functions).

A custom robot's request body must stay under 20 KB. ``interactive`` takes a card: here
the JSON 2.0 schema (``header``, ``body.elements``) with the components digestbot uses
(``markdown``, ``collapsible_panel``, ``hr``, ``div``, ``column_set``, ``button``); card
markdown renders ``<at …>`` (a mention; ``<at id=all>`` mentions everyone), ``<font>``
and ``<text_tag>``, and links. ``text`` and ``post`` are accepted as the API does.
Deliberately stricter than Feishu: any other raw tag in markdown is refused (Feishu shows
it as text; it means content was not escaped).

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
MSG_TYPES = {"text", "post", "interactive", "image", "share_chat"}
COMPONENTS = {"markdown", "collapsible_panel", "hr", "div", "column_set", "column", "button"}
BUTTON_TEXT_LIMIT = 100
BEHAVIORS = {"callback", "open_url"}
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
    if tag == "button":
        out["buttons"].append(_button(element))
    for child in [*(element.get("elements") or []), *(element.get("columns") or [])]:
        _text_of(child, out)


def _button(element: dict[str, Any]) -> dict[str, Any]:
    """A button's label and callback value, checked as Feishu does."""
    text = element.get("text") or {}
    label = text.get("content")
    if text.get("tag") != "plain_text" or not isinstance(label, str) or not label:
        raise RobotRefused(11310, "card: button needs text {tag: plain_text, content}")
    if len(label) > BUTTON_TEXT_LIMIT:
        raise RobotRefused(11310, f"card: button text over {BUTTON_TEXT_LIMIT} characters")
    behaviors = element.get("behaviors")
    if not isinstance(behaviors, list) or not behaviors:
        raise RobotRefused(11310, "card: button needs behaviors")
    value = None
    for behavior in behaviors:
        kind = (behavior or {}).get("type")
        if kind not in BEHAVIORS:
            raise RobotRefused(11310, f"card: unknown button behavior {kind!r}")
        if kind == "callback":
            value = behavior.get("value")
            if not isinstance(value, dict):
                raise RobotRefused(11310, "card: a callback value must be an object")
    return {"label": label, "value": value}


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
    out: dict[str, Any] = {
        "title": title,
        "texts": [],
        "links": [],
        "mentions": [],
        "panels": 0,
        "buttons": [],
    }
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
