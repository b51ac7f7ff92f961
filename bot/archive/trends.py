"""Tag trends: items per ISO week for the most frequent tags of a period (aliases folded).

Why counted here, from the tag index: a trend is a count per (tag group, week), and it
must equal what ``digestbot query 'tag:T since:… until:…'`` counts, so it uses the same
query language for the filter and the same alias groups for the tags. An item carrying two
spellings of one tag (``RL`` and ``强化学习``) counts once for that tag.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from sqlalchemy import select

from bot.archive import search
from bot.archive.schema import item_tags, items
from bot.query import Clause, IsoWeek, Query, weeks_between

if TYPE_CHECKING:
    from bot.archive.store import Archive

__all__ = ["DEFAULT_WEEKS", "TOP_TAGS", "TagSeries", "Trends", "count_trends", "default_period"]

#: Tags drawn when the query names none.
TOP_TAGS = 5
#: Weeks shown when the query gives no ``since:``.
DEFAULT_WEEKS = 8
_ID_CHUNK = 500


class TagSeries(BaseModel):
    """One tag's line: items per week of the period, its total and the previous period's."""

    tag: str
    counts: list[int]
    total: int
    previous: int

    @property
    def change(self) -> int:
        return self.total - self.previous


class Trends(BaseModel):
    """What a trends chart shows, and what its text lines say."""

    query: str = ""
    since: dt.date
    until: dt.date
    previous_since: dt.date
    previous_until: dt.date
    weeks: list[str] = Field(default_factory=list)
    """ISO week labels (``2026-W06``) of the x axis, oldest first."""
    series: list[TagSeries] = Field(default_factory=list)
    named: bool = False
    """True when the query named the tags; otherwise they are the period's most frequent."""

    @property
    def empty(self) -> bool:
        return not any(s.total for s in self.series)


def default_period(today: dt.date, weeks: int = DEFAULT_WEEKS) -> tuple[dt.date, dt.date]:
    """The last ``weeks`` ISO weeks up to and including today's."""
    return IsoWeek.of(today).shift(-(weeks - 1)).monday, today


def split_query(query: Query) -> tuple[list[str], Query, dt.date | None, dt.date | None]:
    """The named tags, the filter without them (and without since/until), and the period."""
    tags: list[str] = []
    rest: list[Clause] = []
    since = until = None
    for clause in query.clauses:
        if clause.key == "tag" and not clause.negated:
            tags.extend(str(v) for v in clause.values)
        elif clause.key == "since" and not clause.negated:
            since = max(v for v in clause.values)  # type: ignore[type-var]
        elif clause.key == "until" and not clause.negated:
            until = min(v for v in clause.values)  # type: ignore[type-var]
        else:
            rest.append(clause)
    return tags, Query.of(rest), since, until  # type: ignore[return-value]


def count_trends(archive: Archive, query: Query, *, today: dt.date, top: int = TOP_TAGS) -> Trends:
    """Items per week for the query's tags (or the period's ``top`` tags), with totals and
    the change against the period of the same length just before."""
    named, base, since, until = split_query(query)
    default_since, default_until = default_period(today)
    until = until or default_until
    since = since or min(default_since, until)
    length = (until - since).days + 1
    previous_until = since - dt.timedelta(days=1)
    previous_since = previous_until - dt.timedelta(days=max(length, 1) - 1)
    weeks = weeks_between(since, until)
    per_week, previous, display = _count(archive, base, previous_since, since, until)
    groups = [archive.aliases.canonical(tag) for tag in named]
    if not named:
        totals = Counter({g: sum(w.values()) for g, w in per_week.items()})
        groups = [g for g, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    series = []
    for group, name in zip(groups, named or groups, strict=True):
        counts = [per_week.get(group, {}).get(str(week), 0) for week in weeks]
        label = name if named else display.get(group, group)
        series.append(
            TagSeries(tag=label, counts=counts, total=sum(counts), previous=previous[group])
        )
    shown = Query.of(c for c in query.clauses if c.key not in ("since", "until") or c.negated)
    return Trends(
        query=str(shown),
        since=since,
        until=until,
        previous_since=previous_since,
        previous_until=previous_until,
        weeks=[str(week) for week in weeks],
        series=list(dict((s.tag, s) for s in series).values()),
        named=bool(named),
    )


def _count(
    archive: Archive, base: Query, first: dt.date, since: dt.date, until: dt.date
) -> tuple[dict[str, dict[str, int]], Counter[str], dict[str, str]]:
    """Per tag group: items per ISO week within [since, until], items in [first, since),
    and a display name (the alias table's, else the first spelling seen)."""
    window = Query.of([*base.clauses, Clause("since", (first,)), Clause("until", (until,))])
    aliases = archive.aliases
    with archive.engine.connect() as conn:
        ids = search.find_ids(
            conn,
            window,
            aliases,
            limit=10**9,
            offset=0,
            limits=archive.plan_limits,
            words=archive.word_index,
        )
        rows: list[tuple[int, dt.date, str]] = []
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start : start + _ID_CHUNK]
            stmt = (
                select(items.c.id, items.c.date, item_tags.c.tag)
                .join(item_tags, item_tags.c.item_id == items.c.id)
                .where(items.c.id.in_(chunk))
                .order_by(items.c.id, item_tags.c.position)
            )
            rows.extend((row[0], row[1], row[2]) for row in conn.execute(stmt))
    seen: set[tuple[str, int]] = set()
    per_week: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    previous: Counter[str] = Counter()
    display: dict[str, str] = {}
    for item_id, date, tag in rows:
        group = aliases.canonical(tag)
        if (group, item_id) in seen:
            continue
        seen.add((group, item_id))
        display.setdefault(group, aliases.display(tag))
        if date >= since:
            per_week[group][str(IsoWeek.of(date))] += 1
        else:
            previous[group] += 1
    return per_week, previous, display
