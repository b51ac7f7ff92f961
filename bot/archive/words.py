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

from sqlalchemy import Connection, Select, func, insert, select

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


def word_rows(item_id: int, search_text: str) -> list[dict[str, Any]]:
    """The ``item_words`` rows of one item, from its folded ``search_text``."""
    return [
        {"item_id": item_id, "word": word}
        for word in sorted(words(search_text))
        if len(word) <= WORD_MAX_CHARS
    ]


def insert_words(conn: Connection, texts: Iterable[tuple[int, str]]) -> None:
    """Write the word rows of items given as (id, search_text)."""
    rows = [row for item_id, text in texts for row in word_rows(item_id, text)]
    if rows:
        conn.execute(insert(item_words), rows)


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
