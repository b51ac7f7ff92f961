"""The weekly rollup: the best items of one ISO week, duplicates dropped, grouped by day.

Why here, next to search: the rollup is a read of the archive with a ranking of its own.
Rules: every item of the week's digests that matches the query (and, for a channel, any of
its topics) is ranked by rating (🌟), then recency (newer day, later publication time,
then the digest's own order); an item whose link or title already appeared (the same
story on two days) is dropped; the first ``limit`` are kept and shown grouped by day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from bot.models import Hit
from bot.query import Clause, IsoWeek, Query, TagAliases, fold

if TYPE_CHECKING:
    from bot.archive.store import Archive

__all__ = ["DEFAULT_TOP", "Rollup", "RollupDay", "pick", "rank_key", "select_rollup"]

#: Items in a rollup unless the caller asks for another number.
DEFAULT_TOP = 10
#: More items than any week of digests holds: the rollup reads the whole week.
_WEEK_READ_LIMIT = 5000


class RollupDay(BaseModel):
    """One day of a rollup: its picked items, best first."""

    date: dt.date
    hits: list[Hit] = Field(default_factory=list)


class Rollup(BaseModel):
    """The picked items of one ISO week, grouped by day (Monday first)."""

    week: str
    start: dt.date
    end: dt.date
    days: list[RollupDay] = Field(default_factory=list)
    considered: int = 0
    """Items of the week that matched (before duplicates were dropped and the cut)."""
    duplicates: int = 0
    """Items dropped because the same link or title was already in the rollup."""
    limit: int = DEFAULT_TOP
    query: str = ""

    @property
    def hits(self) -> list[Hit]:
        return [hit for day in self.days for hit in day.hits]

    @property
    def empty(self) -> bool:
        return not any(day.hits for day in self.days)


def rank_key(hit: Hit) -> tuple[int, int, float, int]:
    """Sort key: most stars, then newest day, then latest publication, then digest order."""
    published = hit.published_at.timestamp() if hit.published_at else float("-inf")
    return (-(hit.stars or 0), -hit.date.toordinal(), -published, hit.rank)


def _link_key(url: str | None) -> str | None:
    """The same article whatever the scheme, ``www.``, trailing slash or fragment."""
    if not url or not url.strip():
        return None
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"link:{host}{path}{query}"


def _dedupe_keys(hit: Hit) -> list[str]:
    keys = [f"title:{fold(hit.title)}"] if hit.title.strip() else []
    link = _link_key(hit.url)
    return [*keys, link] if link else keys


def pick(hits: Iterable[Hit], limit: int = DEFAULT_TOP) -> tuple[list[Hit], int]:
    """The best ``limit`` hits with duplicates dropped, and how many duplicates there were.

    A hit is a duplicate when its link or title was seen on a better-ranked hit, or on a
    hit that was itself a duplicate (so A~B by title and B~C by link are one story).
    """
    seen: set[str] = set()
    kept: list[Hit] = []
    duplicates = 0
    for hit in sorted(hits, key=rank_key):
        keys = _dedupe_keys(hit)
        if any(key in seen for key in keys):
            duplicates += 1
        else:
            kept.append(hit)
        seen.update(keys)
    return kept[: max(0, limit)], duplicates


def group_by_day(hits: Sequence[Hit], week: IsoWeek) -> list[RollupDay]:
    """Days of the week that have picked items, Monday first, each day's items best first."""
    days = [RollupDay(date=day) for day in week.days()]
    by_date = {day.date: day for day in days}
    for hit in sorted(hits, key=rank_key):
        by_date[hit.date].hits.append(hit)
    return [day for day in days if day.hits]


def week_query(week: IsoWeek, query: Query | None = None) -> Query:
    """``query`` restricted to the week's days (any date terms of its own still apply)."""
    clauses = [Clause("since", (week.monday,)), Clause("until", (week.sunday,))]
    return Query.of([*(query.clauses if query else ()), *clauses])


def select_rollup(
    archive: Archive,
    week: IsoWeek,
    *,
    query: Query | None = None,
    topics: Sequence[Query] = (),
    limit: int = DEFAULT_TOP,
    aliases: TagAliases | None = None,
) -> Rollup:
    """The rollup of ``week``: items matching ``query`` and any of ``topics`` (no topics:
    every item), ranked, deduplicated, cut to ``limit`` and grouped by day."""
    aliases = aliases or archive.aliases
    hits = archive.search(week_query(week, query), limit=_WEEK_READ_LIMIT)
    topics = [topic for topic in topics if not topic.is_empty]
    if topics:
        hits = [h for h in hits if any(t.matches(h, h.date, aliases) for t in topics)]
    kept, duplicates = pick(hits, limit)
    return Rollup(
        week=str(week),
        start=week.monday,
        end=week.sunday,
        days=group_by_day(kept, week),
        considered=len(hits),
        duplicates=duplicates,
        limit=limit,
        query=str(query) if query else "",
    )
