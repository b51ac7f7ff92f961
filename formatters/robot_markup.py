"""Lines → the markdown of Feishu cards, DingTalk and WeCom robots, measured in UTF-8 bytes.

The three group-robot platforms take a markdown dialect and count their limits in bytes
of UTF-8 (a Chinese character is 3). One serialiser, given the platform's own escaping
helper, turns lines into that markdown; ``byte_chunks`` packs lines into chunks that fit a
byte budget with the shared splitter, so a long section is cut between lines (or inside a
line at a break opportunity) and arrives whole and in order across messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.models import Digest, Item
from formatters import layout
from formatters import rollup as weekly
from formatters.escape import markdown_url
from formatters.line_markup import merge
from formatters.lines import Line, Span, bold, line
from formatters.split import pack
from formatters.templates import Templates

if TYPE_CHECKING:
    from bot.archive import Rollup

Escape = Callable[[str], str]
_MARKS = (("b", "**"), ("s", "~~"))


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _weight(ch: str) -> int:
    # Escaping can turn one character into an entity (``&#42;``, 5 bytes): budget for it.
    return max(utf8_len(ch), 5 if not ch.isalnum() and ch.isascii() else 0)


def md_span(span: Span, escape: Escape) -> str:
    """One span: a link with an escaped label, or escaped text; bold/strike around it."""
    core = span.text.strip()
    if not core:
        return escape(span.text)
    lead = span.text[: len(span.text) - len(span.text.lstrip())]
    trail = span.text[len(span.text.rstrip()) :]
    target = markdown_url(span.href) if span.href else None
    body = f"[{escape(core)}]({target})" if target else escape(core)
    for style, mark in _MARKS:
        if style in span.styles:
            body = f"{mark}{body}{mark}"
    return f"{escape(lead)}{body}{escape(trail)}"


@lru_cache(maxsize=16384)
def md_line(ln: Line, escape: Escape) -> str:
    """One line as markdown. Cached: packing measures the same lines many times."""
    if ln.kind == "code":
        return escape(ln.text)
    text = escape(ln.prefix) + "".join(md_span(s, escape) for s in merge(ln.spans))
    return f"> {text}" if ln.kind == "quote" and text else text


def to_markdown(lines: Sequence[Line], escape: Escape) -> str:
    """Lines → markdown: one line each, a blank line where a paragraph starts."""
    out: list[str] = []
    for index, ln in enumerate(lines):
        if ln.gap and index:
            out.append("")
        out.append(md_line(ln, escape))
    return "\n".join(out)


@lru_cache(maxsize=16384)
def _line_cost(ln: Line, escape: Escape, as_json: bool) -> int:
    text = md_line(ln, escape)
    return json_len(text) if as_json else utf8_len(text)


def json_len(text: str) -> int:
    """Bytes of ``text`` inside a JSON string (escapes included, quotes not)."""
    return utf8_len(json.dumps(text, ensure_ascii=False)) - 2


def markdown_cost(lines: Sequence[Line], escape: Escape, *, as_json: bool = False) -> int:
    """``utf8_len`` (or ``json_len``) of ``to_markdown(lines)``, from cached line costs."""
    if not lines:
        return 0
    newline = 2 if as_json else 1
    gaps = sum(1 for ln in lines[1:] if ln.gap)
    body = sum(_line_cost(ln, escape, as_json) for ln in lines)
    return body + newline * (len(lines) - 1 + gaps)


def byte_chunks(
    lines: Sequence[Line], budget: int, escape: Escape, *, as_json: bool = False
) -> list[list[Line]]:
    """Lines packed into chunks whose markdown is at most ``budget`` bytes of UTF-8 (or, for
    Feishu, of the JSON string that carries it); blank chunks dropped."""

    def cost(chunk: Sequence[Line]) -> int:
        return markdown_cost(chunk, escape, as_json=as_json)

    packed = pack(lines, budget, cost, _weight)
    return [chunk for chunk in packed if any(ln.text.strip() for ln in chunk)]


def without_gap(lines: list[Line]) -> list[Line]:
    """The lines with no paragraph break before the first (it starts a message)."""
    return [replace(lines[0], gap=False), *lines[1:]] if lines else lines


@dataclass(frozen=True)
class ItemLines:
    """One item as the robots show it: a visible head and the details."""

    item: Item
    head: list[Line]
    details: list[Line]


def intro_lines(digest: Digest, templates: Templates, *, title: bool = True) -> list[Line]:
    """The digest's title (unless the platform shows it elsewhere) and its intro."""
    out = []
    if title:
        heading = templates.text("digest_title", title=digest.title, date=digest.date.isoformat())
        out.append(line(bold(heading)))
    out += templates.lines("digest_intro", count=len(digest.items), thread=False)
    if not digest.items:
        out += templates.lines("digest_empty", date=digest.date.isoformat())
    return out


def item_lines(item: Item, templates: Templates, date: object = None) -> ItemLines:
    """Head (linked title, stars, source, time, summary, tags) and every section."""
    head = layout.headline_lines(item, templates, date=date)  # type: ignore[arg-type]
    head += layout.tag_lines(item)
    return ItemLines(item, head, without_gap(layout.detail_lines(item, templates)))


def continued(item: Item, templates: Templates, limit: int = 80) -> list[Line]:
    """The short label a continuation starts with (a label, so it may be shortened)."""
    title = layout.display_title(item)
    title = title if len(title) <= limit else title[: limit - 1] + "…"
    return [line(bold(f"{title} ({templates.label('continued')})"))]


def digest_stream(digest: Digest, templates: Templates) -> list[Line]:
    """The whole digest as one run of lines, item after item: what the markdown robots pack."""
    out = intro_lines(digest, templates)
    for item in digest.items:
        parts = item_lines(item, templates, digest.date)
        out += [replace(parts.head[0], gap=True), *parts.head[1:]]
        out += parts.details
        if parts.details:
            out[len(out) - len(parts.details)] = replace(parts.details[0], gap=True)
    return out


def rollup_stream(rollup: Rollup, templates: Templates) -> list[Line]:
    """A weekly rollup as one run of lines: title and intro, then day by day each item with
    its details (the robots have no threads: everything is in order in the messages)."""
    out = [line(bold(weekly.rollup_title(rollup, templates)))]
    out += weekly.rollup_intro(rollup, templates, thread=False)
    for day, pairs in weekly.numbered(rollup):
        heading = weekly.day_heading(day, templates)
        out += [replace(heading[0], gap=True), *heading[1:]]
        for shown, hit in pairs:
            parts = item_lines(shown, templates, hit.date)
            out += [replace(parts.head[0], gap=True), *parts.head[1:]]
            if parts.details:
                out += [replace(parts.details[0], gap=True), *parts.details[1:]]
    return out
