"""DingTalk group-robot markdown: the digest in as few messages as fit 20,000 bytes.

A robot may send 20 messages a minute (more throttles it for ten minutes), so the digest is
one run of lines packed greedily into ``markdown`` messages of at most ``TEXT_LIMIT``
bytes of UTF-8, cut between paragraphs where possible. ``title`` is what the notification
shows. Escaping is ``formatters.escape.escape_dingtalk``; the body never carries ``at``,
so nothing addresses anyone.
"""

from __future__ import annotations

from bot.models import Digest
from formatters.escape import escape_dingtalk
from formatters.payloads import RobotMessage
from formatters.robot_markup import byte_chunks, digest_stream, to_markdown
from formatters.templates import Templates

#: DingTalk's limit on a markdown text is 20,000 bytes; keep a little room.
TEXT_LIMIT = 19_500
TITLE_LIMIT = 60


def markdown_message(title: str, text: str) -> RobotMessage:
    return RobotMessage(body={"msgtype": "markdown", "markdown": {"title": title, "text": text}})


def render_digest(digest: Digest, templates: Templates) -> list[RobotMessage]:
    """The digest as markdown messages within the byte limit, in order."""
    chunks = byte_chunks(digest_stream(digest, templates), TEXT_LIMIT, escape_dingtalk)
    heading = templates.text("digest_title", title=digest.title, date=digest.date.isoformat())
    heading = heading[:TITLE_LIMIT]
    out = []
    for index, chunk in enumerate(chunks, start=1):
        title = heading if len(chunks) == 1 else f"{heading} ({index}/{len(chunks)})"
        out.append(markdown_message(title, to_markdown(chunk, escape_dingtalk)))
    return out


__all__ = ["TEXT_LIMIT", "render_digest"]
