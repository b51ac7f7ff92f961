"""WeCom group-robot markdown: the digest in as few 4096-byte messages as fit.

WeCom counts ``markdown.content`` in bytes of UTF-8 (a Chinese character is 3) and allows
20 messages a minute per robot, so the digest is one run of lines packed greedily into
messages of at most ``CONTENT_LIMIT`` bytes. Escaping is ``formatters.escape.escape_wecom``
(``<@userid>`` and ``<font>`` in content become text).
"""

from __future__ import annotations

from bot.models import Digest
from formatters.escape import escape_wecom
from formatters.payloads import RobotMessage
from formatters.robot_markup import byte_chunks, digest_stream, to_markdown
from formatters.templates import Templates

CONTENT_LIMIT = 4096


def markdown_message(content: str) -> RobotMessage:
    return RobotMessage(body={"msgtype": "markdown", "markdown": {"content": content}})


def render_digest(digest: Digest, templates: Templates) -> list[RobotMessage]:
    """The digest as markdown messages within the byte limit, in order."""
    chunks = byte_chunks(digest_stream(digest, templates), CONTENT_LIMIT, escape_wecom)
    return [markdown_message(to_markdown(chunk, escape_wecom)) for chunk in chunks]


__all__ = ["CONTENT_LIMIT", "render_digest"]
