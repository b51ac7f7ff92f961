"""Digest markdown → HTML for the reader, inert whatever the digest contains.

markdown-it-py with raw HTML off escapes every ``<``, ``>`` and ``&`` of the content;
links survive only with an http(s) URL (``javascript:``, ``data:`` and relative targets
stay text), and images become plain links so the page never loads anything from a
digest's hosts. Sections are rendered once per text and kept: a digest is immutable
until it is re-ingested, and a re-ingested section is a different text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.dollarmath import dollarmath_plugin

from formatters import safe_url

#: Rendered sections kept in memory (a day page has 30-50; about 1 KB each).
CACHE_SIZE = 16384
_REL = "nofollow noopener noreferrer"


def _allowed(url: str) -> bool:
    return safe_url(url) is not None


def _link_open(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("rel", _REL)
    return str(renderer.renderToken(tokens, idx, options, env))


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    """CommonMark + tables + strikethrough + ``$math$``; no raw HTML, no images."""
    md = MarkdownIt("commonmark", {"html": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    md.validateLink = _allowed  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    return md


@dataclass(frozen=True)
class Rendered:
    """A section as HTML, and the link targets it shows (from the same parse)."""

    html: Markup
    hrefs: frozenset[str]


@lru_cache(maxsize=CACHE_SIZE)
def render_block(markdown: str) -> Rendered:
    """A section's markdown as HTML (lists, tables, code, quotes), parsed once."""
    md = parser()
    tokens = md.parse(markdown)
    hrefs = frozenset(
        href
        for token in tokens
        for child in token.children or ()
        if child.type == "link_open" and isinstance(href := child.attrGet("href"), str)
    )
    return Rendered(Markup(md.renderer.render(tokens, md.options, {})), hrefs)


def block_html(markdown: str) -> Markup:
    return render_block(markdown).html


def block_hrefs(markdown: str) -> frozenset[str]:
    return render_block(markdown).hrefs


@lru_cache(maxsize=CACHE_SIZE)
def inline_html(markdown: str) -> Markup:
    """A one-line summary as inline HTML (emphasis, code, links; no paragraphs)."""
    return Markup(parser().renderInline(markdown))


def link_href(url: str | None) -> str | None:
    """The href for a field URL (an item's link, a resource): http(s) only, else None."""
    return safe_url(url)
