"""WeCom group-robot markdown: the digest in as few 4096-byte messages as fit.

WeCom counts ``markdown.content`` in bytes of UTF-8 (a Chinese character is 3) and allows
20 messages a minute per robot, so the digest is one run of lines packed greedily into
messages of at most ``CONTENT_LIMIT`` bytes. Escaping is ``formatters.escape.escape_wecom``
(``<@userid>`` and ``<font>`` in content become text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.models import Digest
from formatters.escape import escape_wecom
from formatters.lines import Line
from formatters.payloads import RobotMessage
from formatters.robot_markup import byte_chunks, digest_stream, rollup_stream, to_markdown
from formatters.templates import Templates

if TYPE_CHECKING:
    from bot.archive import Rollup

CONTENT_LIMIT = 4096


def markdown_message(content: str) -> RobotMessage:
    return RobotMessage(body={"msgtype": "markdown", "markdown": {"content": content}})


def render_digest(digest: Digest, templates: Templates) -> list[RobotMessage]:
    """The digest as markdown messages within the byte limit, in order."""
    return _messages(digest_stream(digest, templates))


def render_rollup(rollup: Rollup, templates: Templates) -> list[RobotMessage]:
    """A weekly rollup, packed the same way."""
    return _messages(rollup_stream(rollup, templates))


def _messages(lines: list[Line]) -> list[RobotMessage]:
    chunks = byte_chunks(lines, CONTENT_LIMIT, escape_wecom)
    return [markdown_message(to_markdown(chunk, escape_wecom)) for chunk in chunks]


__all__ = ["CONTENT_LIMIT", "render_digest", "render_rollup"]
