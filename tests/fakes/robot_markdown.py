"""Read robot markdown the way a CommonMark renderer shows it: visible text, links, tags.

Shared by the Feishu, DingTalk and WeCom validators: each platform renders a markdown
dialect, and what matters for safety is the same in all three: which links are live (only
http(s) may be), which raw HTML tags survive (each platform accepts a few), and whether the
visible text addresses anyone (``@all``, ``@所有人``). Entities and backslash escapes are
resolved, so the visible text is what a reader sees. Uses markdown-it-py's own parser, not
the formatters' code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
# The platforms' renderers do not vet link schemes the way markdown-it does: see every
# link a renderer could make live, whatever its target.
_MD.validateLink = lambda url: True  # type: ignore[method-assign]
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9_-]*)")
#: Visible text that addresses everyone on one of the three platforms.
MASS_MENTIONS = ("@all", "@所有人", "@everyone")


class RobotRefused(ValueError):
    """A robot API's refusal: its error ``code`` and message (Feishu, DingTalk, WeCom)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class MarkdownRefused(ValueError):
    """Markdown the platform would refuse, or that a formatter must never produce."""


@dataclass
class Rendered:
    text: str = ""
    links: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def read_markdown(markdown: str) -> Rendered:
    """Visible text (lines joined by newlines), link targets and raw HTML tag names."""
    out = Rendered()
    parts: list[str] = []

    def walk(tokens: list) -> None:  # type: ignore[type-arg]
        for token in tokens:
            if token.type in ("html_inline", "html_block"):
                out.tags += [m[2].lower() for m in _TAG.finditer(token.content) if not m[1]]
            elif token.type == "link_open":
                out.links.append(str(token.attrGet("href") or ""))
            elif token.type == "image":
                out.links.append(str(token.attrGet("src") or ""))
            elif token.type in ("text", "code_inline", "code_block", "fence"):
                parts.append(token.content)
            elif token.type in ("softbreak", "hardbreak", "paragraph_close", "heading_close"):
                parts.append("\n")
            if token.children:
                walk(token.children)

    walk(_MD.parse(markdown))
    out.text = "".join(parts)
    return out


def check_markdown(markdown: str, allowed_tags: frozenset[str]) -> Rendered:
    """Refuse non-http(s) links and tags the platform does not render; return the reading."""
    rendered = read_markdown(markdown)
    for href in rendered.links:
        if not re.match(r"^https?://[^/\s]+", href, re.IGNORECASE):
            raise MarkdownRefused(f"link to a non-http(s) target: {href[:80]!r}")
    for tag in rendered.tags:
        if tag not in allowed_tags:
            raise MarkdownRefused(f"raw <{tag}> tag in markdown")
    return rendered


#: A mention tag as written raw in the markdown (``<at …``, ``<@userid``), closed or not:
#: escaped content never holds a raw ``<``, so a half-escaped tag is caught too.
_RAW_MENTION = re.compile(r"<(?:at\b|@)[^<\s]*", re.IGNORECASE)


def raw_mention_tags(markdown: str) -> list[str]:
    """Mention tags written raw in ``markdown`` (stricter than the platforms on purpose)."""
    return [m[0] for m in _RAW_MENTION.finditer(markdown)]


def mass_mentions(text: str) -> list[str]:
    """The mass mentions a reader would see as live in ``text``."""
    return [m for m in MASS_MENTIONS if m in text]
