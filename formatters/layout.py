"""The lines around the content, shared by the Slack, Telegram and console formatters.

Platform-agnostic: these decide what is said and in which order (titles, meta lines,
details, web permalinks, subscription summaries), with the wording from ``Templates``;
each formatter decides the markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from bot.models import item_path
from formatters import limits
from formatters.escape import safe_url
from formatters.lines import Line, Span, bold, line, link
from formatters.markdown import parse, parse_inline

if TYPE_CHECKING:
    from bot.chat import SearchReply, SubscriptionReply
    from bot.models import Item, Resource
    from formatters.templates import Templates

SECTION_ICONS = {"tech": "🔹", "data": "📊", "insight": "💡", "resources": "🔗", "other": "▪️"}
MAX_STAR_ICONS = 5


def stars_text(stars: int | None) -> str:
    if not stars or stars < 0:
        return ""
    return "🌟" * stars if stars <= MAX_STAR_ICONS else f"🌟×{stars}"


def when_text(item: Item, date: dt.date | None = None) -> str | None:
    """``18:35`` on the digest's own day, else ``2026-02-03 18:35``."""
    if item.published_at is None:
        return None
    if date is not None and item.published_at.date() == date:
        return item.published_at.strftime("%H:%M")
    return item.published_at.strftime("%Y-%m-%d %H:%M")


def display_title(item: Item, number: int | None = None) -> str:
    """``N. [Org/Org] Title`` as in the digest; ``number`` replaces the rank in lists."""
    orgs = "/".join(item.orgs)
    number = item.rank if number is None else number
    title = limits.shown_title(item.title)
    return f"{number}. [{orgs}] {title}" if orgs else f"{number}. {title}"


def title_lines(text: str) -> list[Line]:
    return [line(bold(text))]


def web_url(item: Item, templates: Templates, date: dt.date | None) -> str | None:
    """The item's permalink in the web reader, when ``web.base_url`` is configured."""
    if templates.web_base_url is None or date is None:
        return None
    return templates.web_base_url + item_path(date, item.rank)


def web_spans(item: Item, templates: Templates, date: dt.date | None, sep: str) -> list[Span]:
    """``sep`` and a "web" link to the item's permalink; nothing without ``web.base_url``."""
    url = web_url(item, templates, date)
    return [Span(sep), link(templates.labels["web"], url)] if url else []


def meta_line(
    item: Item,
    templates: Templates,
    date: dt.date | None = None,
    *,
    gap: bool = False,
    web: bool = True,
) -> Line | None:
    labels, colon = templates.labels, templates.labels["colon"]
    parts = []
    if item.source:
        parts.append(f"{labels['source']}{colon}{item.source}")
    when = when_text(item, date)
    if when:
        parts.append(f"{labels['time']}{colon}{when}")
    extra = web_spans(item, templates, date, " · " if parts else "") if web else []
    return line(" · ".join(parts), *extra, gap=gap) if parts or extra else None


def headline_lines(
    item: Item, templates: Templates, *, date: dt.date | None = None, summary: bool = True
) -> list[Line]:
    """Linked bold title and stars; source and time; the one-line summary (none for an
    item the curation pipeline failed on: its text is a placeholder, not a summary)."""
    stars = stars_text(item.stars)
    first = line(link(display_title(item), item.url, {"b"}), *(["  " + stars] if stars else []))
    out = [first]
    meta = meta_line(item, templates, date)
    if meta:
        out.append(meta)
    if summary and item.summary and not item.pipeline_failed:
        out.append(Line(tuple(parse_inline(limits.shown_summary(item)))))
    return out


def tag_lines(item: Item) -> list[Line]:
    if not item.tags:
        return []
    return [line("🏷 " + " · ".join(item.tags))]


def compact_lines(
    item: Item, date: dt.date | None, templates: Templates, *, number: int | None = None
) -> list[Line]:
    """A search result: linked title and stars; date, source and tags on one line."""
    stars = stars_text(item.stars)
    title = display_title(item, number)
    first = line(link(title, item.url, {"b"}), *(["  " + stars] if stars else []))
    parts = [p for p in (date.isoformat() if date else None, item.source) if p]
    if item.tags:
        parts.append("🏷 " + " · ".join(item.tags))
    extra = web_spans(item, templates, date, " · " if parts else "")
    return [first, line(" · ".join(parts), *extra)] if parts or extra else [first]


def section_heading(kind: str, heading: str) -> str:
    icon = SECTION_ICONS.get(kind, SECTION_ICONS["other"])
    return heading if heading.startswith(icon) or not heading[:1].isalnum() else f"{icon} {heading}"


def line_hrefs(markdown: str) -> set[str]:
    """The link targets a section's markdown shows, through the chat line model."""
    return {s.href for ln in parse(markdown) for s in ln.spans if s.href}


def missing_resources(
    item: Item, hrefs: Callable[[str], Iterable[str]] = line_hrefs
) -> list[Resource]:
    """Resources whose link no shown section shows (the parser lists them in both places),
    at most ``limits.MAX_RESOURCES``; ``hrefs`` reads a section's link targets (a renderer
    that parsed it already has them)."""
    sections = [markdown for _, markdown in limits.shown_sections(item)[0]]
    shown = "".join(sections)
    linked = {href for markdown in sections for href in hrefs(markdown)}
    missing = [r for r in item.resources if r.url not in shown and safe_url(r.url) not in linked]
    return missing[: limits.MAX_RESOURCES]


def detail_lines(item: Item, templates: Templates) -> list[Line]:
    """Every section (heading in bold, body from markdown), then any resource link the
    sections do not already show, so each resource appears exactly once."""
    out: list[Line] = []
    sections, clipped = limits.shown_sections(item)
    for section, markdown in sections:
        out.append(line(bold(section_heading(section.kind, section.heading)), gap=True))
        out.extend(parse(markdown))
    if clipped:
        out.append(line("… ", link(templates.label("original"), item.url, {"b"}), gap=True))
    missing = missing_resources(item)
    if missing:
        out.append(
            line(bold(section_heading("resources", templates.labels["resources"])), gap=True)
        )
        for resource in missing:
            label = resource.title or resource.url
            spans: list[Span] = [link(label, resource.url)]
            if resource.title and link(label, resource.url).href is None:
                spans.append(Span(f" ({resource.url})"))
            out.append(Line(tuple(spans), "• "))
    return out


def search_header(reply: SearchReply, templates: Templates) -> list[Line]:
    """ "Results FIRST-LAST of TOTAL for QUERY": the head of a search page on every platform."""
    return templates.lines(
        "search_header",
        query=reply.query,
        total=reply.total,
        capped=reply.total_capped,
        first=reply.offset + 1,
        last=reply.offset + len(reply.hits),
    )


def next_offset(reply: SearchReply) -> int | None:
    """Offset of the next page, or None when this page is the last."""
    after = reply.offset + len(reply.hits)
    return after if after < reply.total and reply.hits else None


def subscription_lines(reply: SubscriptionReply, templates: Templates) -> list[Line]:
    sub = reply.subscription
    return templates.lines(
        "subscription",
        action=reply.action,
        subscribed=sub is not None,
        active=sub.active if sub else False,
        inactive_reason=sub.inactive_reason if sub else None,
        topics=list(sub.topics) if sub else [],
        topic=reply.topic,
        schedule=reply.schedule,
        timezone=reply.timezone,
        digest=reply.digest,
        weekly_schedule=reply.weekly_schedule,
    )
