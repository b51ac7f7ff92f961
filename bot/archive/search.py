"""Query → SQL: one page of hits and their count, on SQLite and PostgreSQL.

PostgreSQL gets one plain statement (``conditions.where``): one-word terms are semi-joins
on ``item_words``, ``pg_trgm`` GIN indexes serve LIKE on ``search_text`` and ``orgs_text``,
and its planner weighs them with real statistics. SQLite has no such planner:
``bot.archive.sqlite_plan`` plans its searches from the same conditions, within the
``PlanLimits`` the archive was given.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, literal_column, select

from bot.archive.conditions import capped_count, one_word, order_by, tag_ids, where
from bot.archive.plan_limits import PlanLimits
from bot.archive.schema import items
from bot.archive.sqlite_plan import SqlitePlan
from bot.archive.words import word_ids
from bot.query import Clause, Query, TagAliases


def find_ids(
    conn: Connection,
    query: Query,
    aliases: TagAliases,
    *,
    limit: int,
    offset: int,
    limits: PlanLimits,
    words: bool = True,
) -> list[int]:
    """Ids of one page of hits, in result order (``words``: the archive has its word index)."""
    if conn.dialect.name != "sqlite":
        stmt = select(items.c.id).order_by(*order_by()).limit(limit).offset(offset)
        condition = where(query, aliases, conn.dialect.name, words=words)
        return list(conn.execute(stmt if condition is None else stmt.where(condition)).scalars())
    return SqlitePlan(conn, query, aliases, limits, words=words).ids(limit, offset)


def count(
    conn: Connection,
    query: Query,
    aliases: TagAliases,
    *,
    limits: PlanLimits,
    cap: int | None = None,
    words: bool = True,
) -> int:
    """How many items match; with ``cap``, at most ``cap`` (exact below it, "at least" at
    it), so a common term stops after ``cap`` rows instead of visiting every match."""
    if cap is not None and cap < 1:
        raise ValueError(f"count cap must be positive, not {cap}")
    if conn.dialect.name == "sqlite":
        return SqlitePlan(conn, query, aliases, limits, words=words).count(cap)
    clauses = query.clauses
    word = one_word(clauses[0], words) if len(clauses) == 1 else None
    lone = len(clauses) == 1 and (clauses[0].key == "tag" or word is not None)
    if lone and not (cap and clauses[0].negated):
        # A lone tag or word is counted on its index alone (negated, uncapped: from the
        # total); a word has one row per item, a tag may have several.
        if word is not None:
            ids = word_ids(word)
            distinct = select(func.count()).select_from(ids.subquery())
        else:
            ids = tag_ids(Clause("tag", clauses[0].values), aliases).distinct()
            distinct = select(func.count(ids.subquery().c.item_id))
        if cap is not None:
            return capped_count(conn, ids, cap)
        tagged = int(conn.execute(distinct).scalar_one())
        if not clauses[0].negated:
            return tagged
        return int(conn.execute(select(func.count()).select_from(items)).scalar_one()) - tagged
    condition = where(query, aliases, conn.dialect.name, words=words)
    if cap is not None:
        rows = select(literal_column("1")).select_from(items)
        return capped_count(conn, rows if condition is None else rows.where(condition), cap)
    stmt = select(func.count()).select_from(items)
    return int(conn.execute(stmt if condition is None else stmt.where(condition)).scalar_one())
