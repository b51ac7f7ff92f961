"""Check WeCom group-robot messages the way the webhook API does (pure functions).

``markdown.content`` is at most 4096 bytes of UTF-8; ``<font color=…>`` is the one tag
rendered, and ``<@userid>`` mentions a member. ``mentioned_list`` with ``@all`` mentions
everyone: a digest uses none of these.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.robot_markdown import (
    RobotRefused,
    check_markdown,
    mass_mentions,
    raw_mention_tags,
)

CONTENT_LIMIT = 4096
MSGTYPES = {"text", "markdown", "markdown_v2", "image", "news", "file", "template_card"}
TAGS = frozenset({"font"})


def validate_wecom_message(body: dict[str, Any]) -> dict[str, Any]:
    """The visible text and mentions of one message; RobotRefused as the API refuses."""
    kind = body.get("msgtype")
    if kind not in MSGTYPES:
        raise RobotRefused(40008, f"invalid message type {kind!r}")
    if kind != "markdown":
        raise RobotRefused(40008, "only markdown is expected from digestbot")
    markdown = body.get("markdown")
    content = markdown.get("content") if isinstance(markdown, dict) else None
    if not content:
        raise RobotRefused(44004, "empty content")
    content = str(content)
    size = len(content.encode("utf-8"))
    if size > CONTENT_LIMIT:
        raise RobotRefused(
            40058, f"markdown.content exceed max length {CONTENT_LIMIT}. (got {size} bytes)"
        )
    mentions = raw_mention_tags(content)
    try:
        rendered = check_markdown(content, TAGS)
    except ValueError as exc:
        raise RobotRefused(40058, str(exc)) from None
    mentions += mass_mentions(rendered.text)
    mentions += [f"@{m}" for m in markdown.get("mentioned_list", [])]  # type: ignore[union-attr]
    return {
        "text": rendered.text,
        "markdown": content,
        "links": rendered.links,
        "mentions": mentions,
    }
