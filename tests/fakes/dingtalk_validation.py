"""Check DingTalk robot messages the way the robot API does (pure functions).

``markdown`` takes ``{title, text}``; the text must stay within 20,000 bytes of UTF-8. Only
``<font>`` and ``<br>`` are rendered as tags; an ``at`` block (``isAtAll``, ``atMobiles``,
``atUserIds``) mentions people, and so does ``@…`` text naming them: a digest has neither.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.robot_markdown import (
    RobotRefused,
    check_markdown,
    mass_mentions,
    raw_mention_tags,
)

TEXT_LIMIT = 20_000
MSGTYPES = {"text", "link", "markdown", "actionCard", "feedCard"}
TAGS = frozenset({"font", "br"})


def validate_dingtalk_message(body: dict[str, Any]) -> dict[str, Any]:
    """The visible text and mentions of one message; RobotRefused as the API refuses."""
    kind = body.get("msgtype")
    if kind not in MSGTYPES:
        raise RobotRefused(40035, f"不合法的参数: msgtype {kind!r}")
    if kind != "markdown":
        raise RobotRefused(40035, "only markdown is expected from digestbot")
    markdown = body.get("markdown")
    if not isinstance(markdown, dict) or not markdown.get("title"):
        raise RobotRefused(400402, "错误描述:参数 markdown --》 title 缺失，或者参数格式不正确")
    if not markdown.get("text"):
        raise RobotRefused(400403, "错误描述:参数 markdown --》 text 缺失，或者参数格式不正确")
    text = str(markdown["text"])
    if len(text.encode("utf-8")) > TEXT_LIMIT:
        raise RobotRefused(460101, f"message too long, exceed {TEXT_LIMIT} bytes")
    try:
        rendered = check_markdown(text, TAGS)
    except ValueError as exc:
        raise RobotRefused(40035, str(exc)) from None
    mentions = raw_mention_tags(text) + mass_mentions(rendered.text)
    at = body.get("at") or {}
    if at.get("isAtAll"):
        mentions.append("isAtAll")
    mentions += [f"@{m}" for m in at.get("atMobiles", []) + at.get("atUserIds", [])]
    return {
        "title": markdown["title"],
        "text": rendered.text,
        "markdown": text,
        "links": rendered.links,
        "mentions": mentions,
    }
