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
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value if isinstance(value, dt.date) else None


def tag_counts(conn: Connection, aliases: TagAliases) -> list[TagCount]:
    """Every tag with the number of items carrying it, aliases folded, most used first.

    Counts are per normalised spelling first (one pass over the tag index); a group that
    several spellings fold into is counted again over all of them, so an item tagged both
    ``RL`` and ``强化学习`` counts once.
    """
    per_spelling = conn.execute(
        select(item_tags.c.normalized, func.count(item_tags.c.item_id.distinct())).group_by(
            item_tags.c.normalized
        )
    ).all()
    groups: dict[str, list[tuple[str, int]]] = {}
    for normalized, count in per_spelling:
        groups.setdefault(aliases.canonical(normalized), []).append((normalized, int(count)))
    out = []
    for members in groups.values():
        members.sort()
        spellings = tuple(norm for norm, _ in members)
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
        shown = _shown(conn, aliases, spellings[0])
        out.append(TagCount(tag=shown, count=total, spellings=spellings))
    out.sort(key=lambda entry: (-entry.count, entry.tag.casefold()))
    return out


def _shown(conn: Connection, aliases: TagAliases, normalized: str) -> str:
    """The alias table's display name; outside it, the tag as its first item spelled it
    (one index seek: reading every spelling of every tag would cost a pass over the rows)."""
    shown = aliases.display(normalized)
    if shown != normalized:
        return shown
    spelled = conn.execute(
        select(item_tags.c.tag)
        .where(item_tags.c.normalized == normalized)
        .order_by(item_tags.c.item_id)
        .limit(1)
    ).scalar()
    return aliases.display(spelled) if spelled else normalized
