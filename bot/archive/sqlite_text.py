"""SQLite's id sets for free-text terms: the word index for one-word terms, FTS5 trigrams
for the rest.

A one-word term (``RL``, ``agent``) is read from ``item_words``, exactly. Other terms of
3+ characters are FTS5 trigram phrases; 2-character ones (``强化``) the trigrams that start
with them (``search_text`` ends with a newline, so every occurrence starts one). Trigrams
find substrings, so a term with an ASCII end still needs its word boundary checked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, column, false, select, table

from bot.archive.conditions import one_word, word_condition
from bot.archive.plan_limits import PlanLimits
from bot.archive.schema import FTS_TABLE, VOCAB_TABLE, items
from bot.archive.words import word_ids
from bot.query import TEXT, Clause

_fts = table(FTS_TABLE, column("rowid"))
_vocab = table(VOCAB_TABLE, column("term"))


class TextSets:
    """The id sets of free-text terms for one search (each built once)."""

    def __init__(self, conn: Connection, limits: PlanLimits, *, words: bool) -> None:
        self.conn = conn
        self.limits = limits
        self.words = words
        self._cache: dict[tuple[str, bool], Select[Any] | None] = {}

    def ids(self, term: str, *, exact: bool = True) -> Select[Any] | None:
        """Ids of items whose text matches ``term``: a one-word term's exact set from the
        word index; otherwise via the trigram index, or None if it cannot answer (a single
        character, or a very common two-character prefix).

        Trigrams find substrings; for a term that must sit on word boundaries, ``exact``
        also checks the boundary on each of those rows (reading them), while ``exact=False``
        hands over the cheap superset for the caller to test per row."""
        key = (term, exact)
        if key not in self._cache and one_word(Clause(TEXT, (term,)), self.words) is not None:
            self._cache[key] = word_ids(term)
        if key not in self._cache:
            found = self._substring_select(term)
            boundary = word_condition(items.c.search_text, term, "sqlite")
            if found is not None and boundary is not None and exact:
                found = select(items.c.id).where(items.c.id.in_(found), boundary)
            self._cache[key] = found
        return self._cache[key]

    def _substring_select(self, term: str) -> Select[Any] | None:
        if len(term) >= self.limits.fts_min_chars:
            return self._match(_phrase(term))
        if len(term) < 2:
            return None
        upper = term + "\U0010ffff"
        trigrams = list(
            self.conn.execute(
                select(_vocab.c.term)
                .where(_vocab.c.term >= term, _vocab.c.term < upper)
                .limit(self.limits.max_prefix_trigrams + 1)
            ).scalars()
        )
        if len(trigrams) > self.limits.max_prefix_trigrams:
            return None
        if not trigrams:
            return select(_fts.c.rowid).where(false())
        return self._match(" OR ".join(_phrase(trigram) for trigram in trigrams))

    def _match(self, expression: str) -> Select[Any]:
        return select(_fts.c.rowid).where(column(FTS_TABLE).op("MATCH")(expression))


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'
