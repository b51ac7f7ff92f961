"""The WHERE conditions of a search, shared by the plain statement and the SQLite plan.

Every condition here mirrors ``Query.matches`` (``bot.query``) exactly: the stored columns
hold the folded forms the in-memory path computes (``search_text``, ``orgs_text``,
``source_norm``, ``item_tags.normalized``, ``item_words``), and none is NULL where SQL's
three-valued logic could make a negation differ. The text indexes are created by
``bot.archive.schema``. ``words``: whether the archive has its word index (a read-only
archive of an older revision may not); without it one-word terms are matched on the text.
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
    not_,
    or_,
    select,
)

from bot.archive.schema import item_tags, items
from bot.archive.words import indexed, word_ids
from bot.query import (
    TEXT,
    WORD_CHARS,
    Clause,
    Query,
    TagAliases,
    Value,
    fold,
    name_key,
    word_edges,
)


def where(
    query: Query, aliases: TagAliases, dialect: str, *, words: bool = True
) -> ColumnElement[bool] | None:
    """The WHERE condition on ``items`` for a query (None when the query is empty)."""
    conditions = [_plain(clause, aliases, dialect, words) for clause in query.clauses]
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else and_(*conditions)


def _plain(clause: Clause, aliases: TagAliases, dialect: str, words: bool) -> ColumnElement[bool]:
    word = one_word(clause, words)
    if clause.key == "tag":
        condition: ColumnElement[bool] = items.c.id.in_(tag_ids(clause, aliases))
    elif word is not None:
        condition = items.c.id.in_(word_ids(word))
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


def one_word(clause: Clause, words: bool = True) -> str | None:
    """The folded term of a free-text clause the word index answers exactly, else None."""
    if not words or clause.key != TEXT:
        return None
    term = fold(str(clause.values[0]))
    return term if indexed(term) else None


def needs_words(clause: Clause, words: bool = True) -> bool:
    """Is this a free-text term whose index set is only a superset (word boundaries)?"""
    if clause.key != TEXT or one_word(clause, words) is not None:
        return False
    return any(word_edges(fold(str(clause.values[0]))))


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


def capped_count(conn: Connection, rows: Select[Any], cap: int) -> int:
    """``SELECT count(*) FROM (rows LIMIT cap)``: stops reading at the cap."""
    stmt = select(func.count()).select_from(rows.limit(cap).subquery())
    return int(conn.execute(stmt).scalar_one())
