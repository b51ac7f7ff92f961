"""A rich terminal rendering of digests and replies, readable at 80 columns.

Used by the quickstart's console channel and by ``digestbot render --platform console``.
Content goes into ``Text`` objects and ``Markdown`` renderables, never through console
markup parsing, so ``[bold]`` or ``<!channel>`` in a digest is shown as written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.padding import Padding
from rich.rule import Rule
from rich.style import Style
from rich.text import Text

from bot.archive import Rollup
from bot.chat import (
    DigestReply,
    ErrorReply,
    HelpReply,
    ItemDetailReply,
    NoticeReply,
    Reply,
    SearchReply,
    SubscriptionReply,
    TrendsReply,
    WeekReply,
)
from bot.models import Digest, Item
from formatters import layout, limits
from formatters import rollup as weekly
from formatters.escape import safe_url
from formatters.lines import Line, Span
from formatters.templates import Templates

_STYLES = {"b": "bold", "i": "italic", "s": "strike", "code": "cyan"}


def span_text(span: Span) -> Text:
    style = Style.combine(
        [Style(), *(Style.parse(_STYLES[s]) for s in sorted(span.styles) if s in _STYLES)]
    )
    if span.href:
        style += Style(link=span.href, underline=True, color="blue")
    return Text(span.text, style=style)


def lines_text(lines: Sequence[Line]) -> Text:
    """Lines → one rich Text (styles and links kept; code and quotes marked)."""
    out = Text()
    for index, ln in enumerate(lines):
        if index:
            out.append("\n")
        if ln.gap and index:
            out.append("\n")
        if ln.kind == "quote":
            out.append("│ ", style="dim")
        out.append(ln.prefix)
        if ln.kind == "code":
            out.append("".join(s.text for s in ln.spans), style="cyan")
            continue
        for span in ln.spans:
            out.append_text(span_text(span))
    return out


def _title(item: Item, number: int | None = None) -> Text:
    title = Text(layout.display_title(item, number), style="bold")
    url = safe_url(item.url)
    if url:
        title.stylize(Style(link=url))
    stars = layout.stars_text(item.stars)
    if stars:
        title.append("  " + stars)
    return title


def item_renderables(
    item: Item, templates: Templates, date: dt.date | None, *, details: bool
) -> list[RenderableType]:
    """Title, stars, source/time, summary, tags; with ``details`` every section too."""
    parts: list[RenderableType] = [_title(item)]
    meta = layout.meta_line(item, templates, date, web=False)
    if meta:
        parts.append(Text(meta.text, style="dim"))
    web = layout.web_url(item, templates, date)
    if web:
        parts.append(Text(f"{templates.label('web')}: {web}", style=Style(link=web, dim=True)))
    if item.summary and not item.pipeline_failed:  # a fallback's text is no summary
        parts.append(Padding(Markdown(limits.shown_summary(item)), (0, 0, 0, 2)))
    if item.tags:
        parts.append(Text("🏷 " + " · ".join(item.tags), style="magenta"))
    if item.url and details:
        parts.append(Text(item.url, style=Style(link=safe_url(item.url), color="blue", dim=True)))
    if details:
        sections, clipped = limits.shown_sections(item)
        for section, markdown in sections:
            heading = layout.section_heading(section.kind, section.heading)
            parts.append(Text("\n" + heading, style="bold"))
            parts.append(Markdown(markdown))
        if clipped:
            parts.append(Text(f"… {templates.label('original')}: {item.url or ''}"))
        missing = layout.missing_resources(item)
        if missing:
            parts.append(
                Text(
                    "\n" + layout.section_heading("resources", templates.label("resources")),
                    style="bold",
                )
            )
            for resource in missing:
                parts.append(Text(f"• {resource.title or resource.url}: {resource.url}"))
    return parts


def render_digest(digest: Digest, templates: Templates) -> list[RenderableType]:
    """A header rule, then every item in full, separated by rules."""
    title = templates.text("digest_title", title=digest.title, date=digest.date.isoformat())
    intro = templates.text("digest_intro", count=len(digest.items), thread=False)
    out: list[RenderableType] = [Rule(Text(title, style="bold")), Text(intro, style="dim")]
    if not digest.items:
        out.append(Text(templates.text("digest_empty", date=digest.date.isoformat())))
    for index, item in enumerate(digest.items):
        if index:
            out.append(Rule(style="dim"))
        out.append(Group(*item_renderables(item, templates, digest.date, details=True)))
    return out


def render_rollup(rollup: Rollup, templates: Templates, *, details: bool) -> list[RenderableType]:
    """A header rule and the intro, then each day's heading and items (in full with
    ``details``)."""
    title = weekly.rollup_title(rollup, templates)
    intro = weekly.rollup_intro(rollup, templates, thread=False)
    out: list[RenderableType] = [Rule(Text(title, style="bold")), lines_text(intro)]
    for day, pairs in weekly.numbered(rollup):
        out.append(lines_text(weekly.day_heading(day, templates)))
        for shown, _ in pairs:
            out.append(Group(*item_renderables(shown, templates, shown.date, details=details)))
    return out


def render_reply(reply: Reply, templates: Templates) -> list[RenderableType]:
    if isinstance(reply, WeekReply):
        return render_rollup(reply.rollup, templates, details=False)
    if isinstance(reply, TrendsReply):
        return [lines_text(weekly.trend_lines(reply.trends, templates, chart="omit"))]
    if isinstance(reply, SearchReply):
        if not reply.hits:
            return [lines_text(templates.lines("search_empty", query=reply.query))]
        first = reply.offset + 1
        head = layout.search_header(reply, templates)
        out: list[RenderableType] = [lines_text(head)]
        for number, hit in enumerate(reply.hits, start=first):
            out.append(lines_text(layout.compact_lines(hit, hit.date, templates, number=number)))
        return out
    if isinstance(reply, DigestReply):
        digest = reply.digest
        title = templates.text("digest_title", title=digest.title, date=digest.date.isoformat())
        out = [Rule(Text(title, style="bold"))]
        for item in digest.items:
            out.append(Group(*item_renderables(item, templates, digest.date, details=False)))
        return out
    if isinstance(reply, ItemDetailReply):
        return [Group(*item_renderables(reply.hit, templates, reply.hit.date, details=True))]
    if isinstance(reply, HelpReply):
        return [lines_text(templates.lines("help"))]
    if isinstance(reply, SubscriptionReply):
        return [lines_text(layout.subscription_lines(reply, templates))]
    if isinstance(reply, ErrorReply):
        return [lines_text(templates.lines("error", message=reply.message, example=reply.example))]
    if isinstance(reply, NoticeReply):
        return [lines_text(templates.lines("notice", message=reply.message))]
    raise TypeError(f"no console rendering for {type(reply).__name__}")
