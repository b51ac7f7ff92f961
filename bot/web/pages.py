"""The reader's HTML pages: archive reads in, server-rendered jinja2 pages out.

Everything here is synchronous (the archive is SQLAlchemy); the routes run it on the
reader's worker threads. Templates autoescape every value; the only markup that reaches
a page unescaped is markdown-it's output (``bot.web.markup``), which escapes the content
itself. A missing day or item is a 404 page, a bad query a 400 page with the same message
``/ai`` gives in chat.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from bot.errors import QueryError
from bot.models import Item, item_path
from bot.query import KEYS, parse_query
from bot.web.links import feed_href, search_href, tag_href
from bot.web.markup import block_hrefs, block_html, inline_html, link_href
from bot.web.words import WORDS
from formatters import Templates, layout

if TYPE_CHECKING:
    from bot.archive import Archive, Stamp, TagCount
    from bot.config import Settings

#: Hits per search page.
PAGE_SIZE = 20
#: Search totals are counted up to here and shown as "1000+" beyond, as in chat.
COUNT_CAP = 1000


@dataclass(frozen=True)
class Page:
    """A rendered page and its HTTP status."""

    status: int
    html: str


@dataclass(frozen=True)
class ItemView:
    """What one item shows, every field already escaped or vetted."""

    date: dt.date
    rank: int
    title: str
    href: str | None
    orgs: str
    source: str | None
    when: str | None
    stars: str
    tags: list[tuple[str, str]]
    summary: Markup | None
    sections: list[tuple[str, Markup]]
    resources: list[tuple[str, str | None]]
    permalink: str


class Reader:
    """Builds every page of the reader from one archive and one configuration."""

    def __init__(
        self,
        archive: Archive,
        templates: Templates,
        *,
        timezone: str = "Asia/Shanghai",
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.archive = archive
        self.language = templates.language
        self.labels = templates.labels
        self.words = WORDS[self.language]
        self.zone = ZoneInfo(timezone)
        self.page_size = page_size
        self.env = Environment(
            loader=PackageLoader("bot.web", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            labels=self.labels,
            words=self.words,
            lang=self.language,
            search_href=search_href,
            feed_href=feed_href,
        )
        self._tags_lock = threading.Lock()
        self._tags: tuple[Stamp, list[TagCount]] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, archive: Archive) -> Reader:
        return cls(archive, Templates(**settings.template_options()), timezone=settings.timezone)

    # -- pages ----------------------------------------------------------------------------

    def latest(self) -> Page:
        """``/``: the newest digest (an invitation to ingest when there is none)."""
        latest = self.archive.latest_date()
        if latest is None:
            return self._page(200, "message.html.j2", title=self.words["latest"],
                              message=self.words["empty"])  # fmt: skip
        return self.day(latest)

    def day(self, date: dt.date) -> Page:
        digest = self.archive.digest(date)
        if digest is None:
            return self.not_found()
        before, after = self.archive.neighbours(date)
        views = [self.view(item, date) for item in digest.items]
        return self._page(200, "day.html.j2", title=f"{digest.title} · {date.isoformat()}",
                          digest=digest, items=views, before=before, after=after)  # fmt: skip

    def item(self, date: dt.date, rank: int) -> Page:
        hit = self.archive.item(date, rank)
        if hit is None:
            return self.not_found()
        view = self.view(hit, date)
        return self._page(200, "item.html.j2", title=layout.display_title(hit), item=view)

    def search(self, text: str, page: int = 1) -> Page:
        """Newest first, ``page_size`` a page; a bad query names the term, as in chat."""
        text = text.strip()
        if not text:
            return self._page(200, "search.html.j2", title=self.words["search"], query="",
                              error=None, hits=[], total=0, capped=False, page=1,
                              pages=1, first=0, last=0, keys=KEYS)  # fmt: skip
        try:
            query = parse_query(text, today=self.today())
        except QueryError as exc:
            return self._page(400, "search.html.j2", title=self.words["bad_query"], query=text,
                              error=str(exc), hits=[], total=0, capped=False, page=1,
                              pages=1, first=0, last=0, keys=KEYS)  # fmt: skip
        offset = (page - 1) * self.page_size
        hits = self.archive.search(query, limit=self.page_size, offset=offset)
        if len(hits) < self.page_size and (hits or page == 1):
            total, capped = offset + len(hits), False  # the last page: no need to count
        else:
            cap = COUNT_CAP * (1 + (offset + self.page_size) // COUNT_CAP)
            total = self.archive.count(query, cap=cap)
            capped = total >= cap
        pages = max(1, -(-total // self.page_size))
        views = [self.view(hit, hit.date) for hit in hits]
        return self._page(200, "search.html.j2", title=f"{self.words['search']}: {text}",
                          query=text, error=None, hits=views, total=total, capped=capped,
                          page=page, pages=pages, first=offset + 1,
                          last=offset + len(hits), keys=KEYS)  # fmt: skip

    def tags(self) -> Page:
        counts = self.tag_counts()
        entries = [(entry, tag_href(entry.tag)) for entry in counts]
        return self._page(200, "tags.html.j2", title=self.words["tags"], entries=entries)

    def not_found(self) -> Page:
        return self._page(404, "message.html.j2", title="404", message=self.words["not_found"])

    def unavailable(self) -> Page:
        return self._page(503, "message.html.j2", title="503", message=self.words["unavailable"])

    def unauthorized(self) -> Page:
        return self._page(401, "message.html.j2", title="401", message=self.words["token"])

    # -- parts ----------------------------------------------------------------------------

    def today(self) -> dt.date:
        """Today in the configured timezone, for ``date:today`` and ``date:yesterday``."""
        return dt.datetime.now(self.zone).date()

    def tag_counts(self) -> list[TagCount]:
        """Tag counts, recounted only when the archive's stamp has changed."""
        stamp = self.archive.stamp()
        with self._tags_lock:
            if self._tags is not None and self._tags[0] == stamp:
                return self._tags[1]
        counts = self.archive.tag_counts()
        with self._tags_lock:
            self._tags = (stamp, counts)
        return counts

    def view(self, item: Item, date: dt.date) -> ItemView:
        sections = [
            (layout.section_heading(section.kind, section.heading), block_html(section.markdown))
            for section in item.sections
        ]
        resources = [
            (resource.title or resource.url, link_href(resource.url))
            for resource in layout.missing_resources(item, block_hrefs)
        ]
        return ItemView(
            date=date,
            rank=item.rank,
            title=item.title,
            href=link_href(item.url),
            orgs="/".join(item.orgs),
            source=item.source,
            when=layout.when_text(item, date),
            stars=layout.stars_text(item.stars),
            tags=[(tag, tag_href(tag)) for tag in item.tags],
            summary=inline_html(item.summary)
            if item.summary and not item.pipeline_failed
            else None,
            sections=sections,
            resources=resources,
            permalink=item_path(date, item.rank),
        )

    def _page(self, status: int, name: str, **context: Any) -> Page:
        context.setdefault("query", "")
        return Page(status, self.env.get_template(name).render(**context))
