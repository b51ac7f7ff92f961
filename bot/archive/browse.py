"""Reads for browsing the archive: neighbouring days, tag counts and a change stamp.

A reader pages from day to day, lists every tag with its count, and tells a feed reader
whether anything changed since its last visit. The stamp is cheap (one aggregate over
the small ``digests`` table) and changes whenever a day is stored or replaced, so callers
can cache anything derived from the archive under it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from bot.archive.schema import digests, item_tags
from bot.query import TagAliases


@dataclass(frozen=True)
class Stamp:
    """What changes when the archive's content changes: the day count and the last write."""

    days: int
    updated: dt.datetime | None
    """The newest ``digests.updated_at``, in UTC (None for an empty archive)."""


@dataclass(frozen=True)
class TagCount:
    """One tag as a reader sees it: the alias group's display name and its item count."""

    tag: str
    count: int
    spellings: tuple[str, ...]
    """The normalised spellings found in the archive that were folded into this tag."""


def stamp(conn: Connection) -> Stamp:
    row = conn.execute(select(func.count(), func.max(digests.c.updated_at))).one()
    updated = row[1]
    if isinstance(updated, str):  # SQLite hands back text when the column type is lost
        updated = dt.datetime.fromisoformat(updated)
    if updated is not None and updated.tzinfo is None:
        updated = updated.replace(tzinfo=dt.UTC)
    return Stamp(days=int(row[0]), updated=updated)


def neighbours(conn: Connection, date: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The stored days just before and just after ``date`` (None at either end)."""
    before = select(func.max(digests.c.date)).where(digests.c.date < date).scalar_subquery()
    after = select(func.min(digests.c.date)).where(digests.c.date > date).scalar_subquery()
    row = conn.execute(select(before, after)).one()
    return _as_date(row[0]), _as_date(row[1])


def _as_date(value: object) -> dt.date | None:
    """A scalar subquery loses the column type on SQLite: it hands back ISO text."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def tag_counts(conn: Connection, aliases: TagAliases) -> list[TagCount]:
    """Every tag with the number of items carrying it, aliases folded, most used first.

    Counts are per normalised spelling first (one pass over the tag index); a group that
    several spellings fold into is counted again over all of them, so an item tagged both
    ``RL`` and ``强化学习`` counts once.
    """
    per_spelling = conn.execute(
        select(
            item_tags.c.normalized,
            func.count(item_tags.c.item_id.distinct()),
            func.min(item_tags.c.tag),
        ).group_by(item_tags.c.normalized)
    ).all()
    groups: dict[str, list[tuple[str, int, str]]] = {}
    for normalized, count, spelled in per_spelling:
        key = aliases.canonical(normalized)
        groups.setdefault(key, []).append((normalized, int(count), spelled))
    out = []
    for members in groups.values():
        members.sort()
        spellings = tuple(norm for norm, _, _ in members)
        if len(members) == 1:
            total = members[0][1]
        else:
            total = int(
                conn.execute(
                    select(func.count(item_tags.c.item_id.distinct())).where(
                        item_tags.c.normalized.in_(spellings)
                    )
                ).scalar_one()
            )
        # The alias table's display name, or (outside it) a spelling as it was written.
        shown = aliases.display(members[0][2])
        out.append(TagCount(tag=shown, count=total, spellings=spellings))
    out.sort(key=lambda entry: (-entry.count, entry.tag.casefold()))
    return out
