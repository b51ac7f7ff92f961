"""DingTalk group-robot markdown: the digest in as few messages as fit 20,000 bytes.

A robot may send 20 messages a minute (more throttles it for ten minutes), so the digest is
one run of lines packed greedily into ``markdown`` messages of at most ``TEXT_LIMIT``
bytes of UTF-8, cut between paragraphs where possible. ``title`` is what the notification
shows. Escaping is ``formatters.escape.escape_dingtalk``; the body never carries ``at``,
so nothing addresses anyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.models import Digest
from formatters import rollup as weekly
from formatters.escape import escape_dingtalk
from formatters.lines import Line
from formatters.payloads import RobotMessage
from formatters.robot_markup import byte_chunks, digest_stream, rollup_stream, to_markdown
from formatters.templates import Templates

if TYPE_CHECKING:
    from bot.archive import Rollup

#: DingTalk's limit on a markdown text is 20,000 bytes; keep a little room.
TEXT_LIMIT = 19_500
TITLE_LIMIT = 60


def markdown_message(title: str, text: str) -> RobotMessage:
    return RobotMessage(body={"msgtype": "markdown", "markdown": {"title": title, "text": text}})


def render_digest(digest: Digest, templates: Templates) -> list[RobotMessage]:
    """The digest as markdown messages within the byte limit, in order."""
    heading = templates.text("digest_title", title=digest.title, date=digest.date.isoformat())
    return _messages(digest_stream(digest, templates), heading)


def render_rollup(rollup: Rollup, templates: Templates) -> list[RobotMessage]:
    """A weekly rollup, packed the same way."""
    return _messages(rollup_stream(rollup, templates), weekly.rollup_title(rollup, templates))


def _messages(lines: list[Line], heading: str) -> list[RobotMessage]:
    chunks = byte_chunks(lines, TEXT_LIMIT, escape_dingtalk)
    heading = heading[:TITLE_LIMIT]
    out = []
    for index, chunk in enumerate(chunks, start=1):
        title = heading if len(chunks) == 1 else f"{heading} ({index}/{len(chunks)})"
        out.append(markdown_message(title, to_markdown(chunk, escape_dingtalk)))
    return out


__all__ = ["TEXT_LIMIT", "render_digest", "render_rollup"]
