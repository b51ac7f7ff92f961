"""What a reader must find in the output: an independent derivation of the visible text.

Expected text comes from markdown-it's own HTML renderer plus ``html.parser`` (not from
the formatters' line model), so these checks do not share code with what they check.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

from markdown_it import MarkdownIt

from bot.models import Item

_MD = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
#: Characters markup may add or remove (formatting markers, bullets, zero-width spaces).
_NOISE = set("*_~`$ \t\n\u200b•◦▪>|-")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "li", "br", "tr", "h1", "h2", "h3", "h4", "pre", "blockquote"):
            self.lines.append("")
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")
        if tag == "img":
            self.lines[-1] += dict(attrs).get("alt") or ""

    def handle_data(self, data: str) -> None:
        for index, part in enumerate(data.split("\n")):
            if index:
                self.lines.append("")
            self.lines[-1] += part


def markdown_lines(markdown: str) -> tuple[list[str], list[str]]:
    """The visible lines and the link targets of a markdown text."""
    parser = _Text()
    parser.feed(_MD.render(markdown))
    return [ln for ln in parser.lines if squash(ln)], parser.hrefs


def squash(text: str) -> str:
    """Text with markup noise removed, for containment checks across platforms."""
    return "".join(ch for ch in html.unescape(text) if ch not in _NOISE)


def expected_fragments(item: Item) -> list[str]:
    """Title, summary, every section line and every resource title of one item."""
    out = [item.title]
    if item.summary:
        out += markdown_lines(item.summary)[0]
    for section in item.sections:
        out.append(section.heading)
        out += markdown_lines(section.markdown)[0]
    out += [r.title for r in item.resources if r.title]
    return [squash(f) for f in out if squash(f)]


def expected_links(item: Item) -> list[str]:
    """Every http(s) link of the item (its url and its resources)."""
    links = [item.url] if item.url else []
    links += [r.url for r in item.resources]
    for section in item.sections:
        links += [h for h in markdown_lines(section.markdown)[1] if h.startswith("http")]
    return links


def missing(fragments: list[str], haystack: str) -> list[str]:
    """Fragments not found in ``haystack`` (squashed), in order of appearance."""
    hay = squash(haystack)
    return [f for f in fragments if f not in hay]
