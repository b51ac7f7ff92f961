"""Query → SQL: one page of hits and their count, on SQLite and PostgreSQL.

Every condition here mirrors ``Query.matches`` (bot/query.py) exactly: the stored columns
hold the folded forms the in-memory path computes (``search_text``, ``orgs_text``,
``source_norm``, ``item_tags.normalized``), and none is NULL where SQL's three-valued logic
could make a negation differ. The text indexes are created by ``bot.archive.schema``.

PostgreSQL gets one plain statement (``where``): ``pg_trgm`` GIN indexes serve LIKE on
``search_text`` and ``orgs_text``, and its planner weighs them with real statistics.
SQLite has no such planner: ``bot.archive.sqlite_plan`` plans its searches, from the
conditions built here and within the limits set here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
)

from bot.archive.schema import item_tags, items
from bot.query import TEXT, WORD_CHARS, Clause, Query, TagAliases, Value, fold, name_key, word_edges

# -- SQLite plan limits: read by bot.archive.sqlite_plan at each search, so tuned here -------

#: Trigram tokens need three characters; two-character terms expand to the trigrams
#: starting with them; a single character is scanned with LIKE.
FTS_MIN_CHARS = 3
#: How many newest items the first SQLite step tests before falling back to the indexes
#: (fewer when a free-text term makes each test read the item's row).
WINDOW_ROWS = 1000
WINDOW_TEXT = 400
#: A two-character term starting more distinct trigrams than this is scanned instead.
MAX_PREFIX_TRIGRAMS = 400
#: The text index hands over at most this many ids; a term matching more is tested per row.
NARROW_CAP = 1000
#: Once the candidates are this few, the remaining clauses are tested per row.
PROBE_ENOUGH = 300
#: More candidates than this are cheaper to meet by walking newest first than to sort.
SORT_AT_MOST = 500
#: A tag or source set is read only if smaller than this (``COUNT_AT_MOST`` when the window
#: found nothing: scanning on for such a rare combination would be long).
SET_READ_MAX = 3000
#: A free-text set read as the only index set (nothing in the window) may be this large.
TEXT_SET_CAP = 8000
#: More candidates than this are cheaper to count through the indexes' own id sets.
COUNT_AT_MOST = 20_000


# -- the plain form (PostgreSQL; the reference) ----------------------------------------------


def where(query: Query, aliases: TagAliases, dialect: str) -> ColumnElement[bool] | None:
    """The WHERE condition on ``items`` for a query (None when the query is empty)."""
    conditions = [_plain(clause, aliases, dialect) for clause in query.clauses]
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else and_(*conditions)


def _plain(clause: Clause, aliases: TagAliases, dialect: str) -> ColumnElement[bool]:
    if clause.key == "tag":
        condition: ColumnElement[bool] = items.c.id.in_(tag_ids(clause, aliases))
    elif clause.key == TEXT:
        term = fold(str(clause.values[0]))
        condition = items.c.search_text.contains(term, autoescape=True)
        boundary = word_condition(items.c.search_text, term, dialect)
        if boundary is not None:
            condition = and_(condition, boundary)
    else:
        condition = column_condition(items.c, clause)
    return not_(condition) if clause.negated else condition


def word_condition(column: Any, term: str, dialect: str) -> ColumnElement[bool] | None:
    """The word-boundary half of a free-text match (``bot.query.text``), or None when the
    term needs no boundary (it ends in CJK or punctuation on both sides).

    SQLite: ``GLOB`` with ``[^a-z0-9]`` classes on the text after a newline (so the start
    of the text is a boundary; every field already ends in one). PostgreSQL: a regex.
    """
    start, end = word_edges(term)
    if not start and not end:
        return None
    if dialect == "sqlite":
        escaped = "".join(f"[{ch}]" if ch in "*?[" else ch for ch in term)
        edge = f"[^{WORD_CHARS}]"
        glob = f"*{edge if start else ''}{escaped}{edge if end else ''}*"
        return (literal("\n") + column).op("GLOB")(glob)
    escaped = "".join(ch if ch.isalnum() or ch == " " else "\\" + ch for ch in term)
    edge = f"[^{WORD_CHARS}]"
    regex = f"{f'(^|{edge})' if start else ''}{escaped}{f'($|{edge})' if end else ''}"
    return column.op("~")(regex)


def tag_ids(clause: Clause, aliases: TagAliases) -> Select[Any]:
    """Ids of the items carrying any of the clause's tags or their aliases."""
    variants: set[str] = set()
    for value in clause.values:
        variants |= aliases.variants(str(value))
    return select(item_tags.c.item_id).where(item_tags.c.normalized.in_(sorted(variants)))


def column_condition(c: Any, clause: Clause) -> ColumnElement[bool]:
    """source/org/date/since/until/stars: OR over the values, on plain columns."""
    if clause.key == "source":
        return c.source_norm.in_(sorted({name_key(str(v)) for v in clause.values}))
    if clause.key == "category":
        # coalesce: a NULL would make a negated term differ from the in-memory test.
        names = sorted({name_key(str(v)) for v in clause.values})
        return func.coalesce(c.category_norm, "").in_(names)
    parts = [_value_condition(c, clause.key, v) for v in clause.values]
    return parts[0] if len(parts) == 1 else or_(*parts)


def _value_condition(c: Any, key: str, value: Value) -> ColumnElement[bool]:
    if key == "org":
        return c.orgs_text.contains(name_key(str(value)), autoescape=True)
    if key == "date":
        return c.date == value
    if key == "since":
        return c.date >= value
    if key == "until":
        return c.date <= value
    if key == "stars":
        return func.coalesce(c.stars, 0) >= value
    raise ValueError(f"not a column key: {key}")


def order_by(c: Any = items.c) -> tuple[ColumnElement[Any], ...]:
    """Newest day first, then most stars, then the digest's own order."""
    return (c.date.desc(), func.coalesce(c.stars, 0).desc(), c.rank.asc())


# -- entry points (SQLite: planned by bot.archive.sqlite_plan) -------------------------------


def find_ids(
    conn: Connection, query: Query, aliases: TagAliases, *, limit: int, offset: int
) -> list[int]:
    """Ids of one page of hits, in result order."""
    if conn.dialect.name != "sqlite":
        stmt = select(items.c.id).order_by(*order_by()).limit(limit).offset(offset)
        condition = where(query, aliases, conn.dialect.name)
        return list(conn.execute(stmt if condition is None else stmt.where(condition)).scalars())
    from bot.archive.sqlite_plan import SqlitePlan  # builds on this module: import late

    return SqlitePlan(conn, query, aliases).ids(limit, offset)


def count(conn: Connection, query: Query, aliases: TagAliases, *, cap: int | None = None) -> int:
    """How many items match; with ``cap``, at most ``cap`` (exact below it, "at least" at
    it), so a common term stops after ``cap`` rows instead of visiting every match."""
    if cap is not None and cap < 1:
        raise ValueError(f"count cap must be positive, not {cap}")
    if conn.dialect.name == "sqlite":
        from bot.archive.sqlite_plan import SqlitePlan  # builds on this module: import late

        return SqlitePlan(conn, query, aliases).count(cap)
    clauses = query.clauses
    if len(clauses) == 1 and clauses[0].key == "tag" and not (cap and clauses[0].negated):
        # A lone tag is counted on its index alone (negated, uncapped: from the total).
        ids = tag_ids(Clause("tag", clauses[0].values), aliases)
        if cap is not None:
            return capped_count(conn, ids.distinct(), cap)
        distinct = select(func.count(ids.subquery().c.item_id.distinct()))
        tagged = int(conn.execute(distinct).scalar_one())
        if not clauses[0].negated:
            return tagged
        return int(conn.execute(select(func.count()).select_from(items)).scalar_one()) - tagged
    condition = where(query, aliases, conn.dialect.name)
    if cap is not None:
        rows = select(literal_column("1")).select_from(items)
        return capped_count(conn, rows if condition is None else rows.where(condition), cap)
    stmt = select(func.count()).select_from(items)
    return int(conn.execute(stmt if condition is None else stmt.where(condition)).scalar_one())


def capped_count(conn: Connection, rows: Select[Any], cap: int) -> int:
    """``SELECT count(*) FROM (rows LIMIT cap)``: stops reading at the cap."""
    stmt = select(func.count()).select_from(rows.limit(cap).subquery())
    return int(conn.execute(stmt).scalar_one())
