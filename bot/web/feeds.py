"""Atom feeds of the newest items, of everything or of any query, built with feedgen.

Each entry's id is a URN of its day and rank, so it stays the same wherever the reader
is served; its link is the item's permalink. Feed readers poll: the ``ETag`` and
``Last-Modified`` come from the archive's stamp (plus the query and the public URL), so
a conditional request is answered 304 from one small aggregate, without searching.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from feedgen.feed import FeedGenerator
from markupsafe import escape

from bot.models import Hit, item_path
from bot.query import Query, parse_query
from bot.web.links import feed_href, search_href
from bot.web.markup import block_html, link_href
from formatters import layout

if TYPE_CHECKING:
    from bot.web.pages import Reader

#: Entries in one feed.
FEED_SIZE = 50
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class FeedVersion:
    """What a conditional request is compared with."""

    etag: str
    """Without quotes (aiohttp adds them)."""
    last_modified: dt.datetime


def feed_version(reader: Reader, text: str, base: str) -> tuple[Query, FeedVersion]:
    """The feed's query (empty: the newest items) and its current version: one small
    aggregate, so a conditional request costs no search. Raises QueryError like ``/ai``."""
    query = parse_query(text, today=reader.today())
    stamp = reader.archive.stamp()
    modified = (stamp.updated or _EPOCH).replace(microsecond=0)
    key = f"{stamp.days}|{modified.isoformat()}|{query}|{base}|{reader.language}"
    return query, FeedVersion(hashlib.sha256(key.encode()).hexdigest()[:32], modified)


def entry_id(hit: Hit) -> str:
    """Stable across hosts and restarts: the day and rank name an item."""
    return f"urn:digestbot:item:{hit.date.isoformat()}:{hit.rank}"


def build_feed(reader: Reader, query: Query, text: str, base: str, current: FeedVersion) -> bytes:
    """The Atom document of ``query``'s newest items, links under ``base``."""
    hits = reader.archive.search(query, limit=FEED_SIZE)
    feed = FeedGenerator()
    feed.id(f"urn:digestbot:feed:{query}" if text else "urn:digestbot:feed")
    feed.title(f"digestbot: {text}" if text else "digestbot")
    feed.subtitle(reader.labels["digest"])
    feed.language("zh-CN" if reader.language == "zh" else "en")
    feed.updated(current.last_modified)
    feed.generator("digestbot")
    alternate = f"{base}{search_href(text)}" if text else f"{base}/"
    feed.link(href=alternate, rel="alternate", type="text/html")
    feed.link(href=base + feed_href(text), rel="self")
    for hit in hits:
        _entry(feed, hit, base, reader)
    return bytes(feed.atom_str(pretty=False))


def _entry(feed: FeedGenerator, hit: Hit, base: str, reader: Reader) -> None:
    entry = feed.add_entry(order="append")
    entry.id(entry_id(hit))
    entry.title(layout.display_title(hit))
    # One link only: feedgen 1.0 writes an entry's links without their rel (its issue
    # #135), so a second "related" link would read as another alternate. The original
    # article is linked from the content instead.
    entry.link(href=base + item_path(hit.date, hit.rank))
    when = _when(hit, reader)
    entry.published(when)
    entry.updated(when)
    if hit.summary and not hit.pipeline_failed:  # a fallback's text is no summary
        entry.summary(hit.summary)
    content = _content_html(hit, reader)
    if content:
        entry.content(content, type="html")
    for tag in hit.tags:
        entry.category(term=tag, label=tag)
    if hit.source:
        entry.author(name=hit.source)


def _content_html(hit: Hit, reader: Reader) -> str:
    """The sections as the reader shows them, then a link to the original article."""
    parts = [
        f"<h3>{escape(layout.section_heading(s.kind, s.heading))}</h3>{block_html(s.markdown)}"
        for s in hit.sections
    ]
    original = link_href(hit.url)
    if original:
        label = escape(reader.labels["original"])
        parts.append(f'<p><a href="{escape(original)}">{label}</a></p>')
    return "".join(parts)


def _when(hit: Hit, reader: Reader) -> dt.datetime:
    """The item's time in the configured zone (the digest's own day when it has none)."""
    if hit.published_at is not None:
        stamp = hit.published_at
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=reader.zone)
    return dt.datetime.combine(hit.date, dt.time(), tzinfo=reader.zone)
