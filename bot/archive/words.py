"""The word index: which items contain which whole ASCII word.

Whole-word matching (``RL`` must not match "Starlink") cannot be answered by a substring
index alone: every item containing the substring would have to be read to check the
boundaries. ``item_words`` holds ``bot.query.words`` of each item's ``search_text`` — the
same tokenizer the in-memory matcher uses — so a one-word term is an exact id set read from
the index on ``word``. Terms that are not one word (``gpt-4``, phrases, Chinese) keep the
substring indexes (bot/archive/conditions.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select, text

from bot.archive.migrate import Report
from bot.archive.schema import WORD_MAX_CHARS, item_words, items
from bot.query import is_word, words

log = logging.getLogger(__name__)

#: What a backfill calls its work in progress reports.
BACKFILL = "indexing words"

#: Items read, tokenized and written per round of a backfill.
BACKFILL_BATCH = 2000


def indexed(term: str) -> bool:
    """Does the word index answer this folded term exactly (one word, not too long)?"""
    return len(term) <= WORD_MAX_CHARS and is_word(term)


def word_ids(term: str) -> Select[Any]:
    """Ids of the items containing ``term`` as a whole word (``indexed(term)`` holds)."""
    return select(item_words.c.item_id).where(item_words.c.word == term)


def indexed_words(search_text: str) -> list[str]:
    """The words of one item's folded ``search_text`` that the index keeps, sorted (rows
    then go into the key's b-tree in order)."""
    return sorted(word for word in words(search_text) if len(word) <= WORD_MAX_CHARS)


def word_rows(item_id: int, search_text: str) -> list[dict[str, Any]]:
    """The ``item_words`` rows of one item, as dictionaries for ``insert(item_words)``."""
    return [{"item_id": item_id, "word": word} for word in indexed_words(search_text)]


def insert_words(conn: Connection, texts: Iterable[tuple[int, str]]) -> None:
    """Write the word rows of items given as (id, search_text).

    About fifty rows per item, so the plain Core executemany costs more than the inserts
    (250,000 rows: 0.9 of 1.6 CPU-s on SQLite; PostgreSQL tripled the store's time). SQLite
    gets the driver's ``executemany`` with plain tuples; PostgreSQL one statement that
    unnests two array parameters."""
    pairs = [(item_id, word) for item_id, text in texts for word in indexed_words(text)]
    if not pairs:
        return
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_SQLITE_INSERT, pairs)
    elif conn.dialect.name == "postgresql":
        ids, found = zip(*pairs, strict=True)
        conn.execute(_PG_INSERT, {"ids": list(ids), "words": list(found)})
    else:
        conn.execute(insert(item_words), [{"item_id": i, "word": w} for i, w in pairs])


_SQLITE_INSERT = f"INSERT INTO {item_words.name} (item_id, word) VALUES (?, ?)"
_PG_INSERT = text(
    f"INSERT INTO {item_words.name} (item_id, word)"
    " SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:words AS text[]))"
)


def backfill(conn: Connection, report: Report | None = None) -> int:
    """Index the words of every item (an archive made before the index); returns the
    number of items. Reads in id order, a batch at a time, so memory stays flat."""
    total = int(conn.execute(select(func.count()).select_from(items)).scalar_one())
    log.info("indexing the words of %d archived items", total)
    done, last = 0, -1
    if report is not None:
        report(BACKFILL, 0, total)
    while True:
        batch = conn.execute(
            select(items.c.id, items.c.search_text)
            .where(items.c.id > last)
            .order_by(items.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not batch:
            break
        insert_words(conn, ((row.id, row.search_text or "") for row in batch))
        done += len(batch)
        last = batch[-1].id
        if report is not None:
            report(BACKFILL, done, total)
    return total
