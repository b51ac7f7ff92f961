"""The query language (``tag:RL -tag:开源 since:…``) and the bilingual tag alias table.

Both the archive's SQL search and the in-memory topic filter read the same ``Query``,
so ``/ai`` and subscriptions always agree on what matches. ``tokens`` splits the text into
terms, ``language`` makes them a ``Query``, ``text`` holds the folded forms and the
free-word rule (whole ASCII words, CJK substrings) that the SQL states again.
"""

from __future__ import annotations

from bot.query.language import (
    KEYS,
    TEXT,
    Clause,
    Query,
    Value,
    fold,
    item_search_text,
    name_key,
    orgs_text,
    parse_query,
)
from bot.query.tags import TagAliases, normalize
from bot.query.text import WORD_CHARS, is_word, term_matches, word_edges, words
from bot.query.weeks import IsoWeek, weeks_between

__all__ = [
    "KEYS",
    "TEXT",
    "WORD_CHARS",
    "Clause",
    "IsoWeek",
    "Query",
    "TagAliases",
    "Value",
    "fold",
    "is_word",
    "item_search_text",
    "name_key",
    "normalize",
    "orgs_text",
    "parse_query",
    "term_matches",
    "weeks_between",
    "word_edges",
    "words",
]
