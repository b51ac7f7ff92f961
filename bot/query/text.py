"""Folded text and how a free word matches it, shared by memory and both databases.

Free words and phrases match the folded ``item_search_text``. An end of the term that is an
ASCII letter or digit must sit on a word boundary (the character next to it, if any, is
no ASCII letter or digit), so ``RL`` does not match "Starlink" but matches "RL训练" and
"(RL)"; terms that end in CJK (``强化``) match anywhere, as substrings.

A word is a maximal run of ``WORD_CHARS``; ``words`` finds them. A term that is one word
matches exactly when it is among the text's words, which is how the archive answers it
(its ``item_words`` table holds ``words(search_text)`` per item). Other terms are matched by
the pattern below in memory and by the same rule in SQL (``bot.archive.conditions``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from bot.models import Item

__all__ = [
    "WORD_CHARS",
    "fold",
    "is_word",
    "item_search_text",
    "name_key",
    "orgs_text",
    "term_matches",
    "word_edges",
    "words",
]

#: The characters a word boundary is drawn between (ASCII letters and digits, folded).
WORD_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_WORD = re.compile(f"[{WORD_CHARS}]+")


def fold(text: str) -> str:
    """Case-, width- and spacing-insensitive form used for free-text matching."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def name_key(name: str) -> str:
    """Comparable form of a source, org or category name: NFKC, case-folded, no whitespace."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def orgs_text(orgs: Iterable[str]) -> str:
    """Orgs as one string for ``org:`` substring matching (one ``name_key`` per line)."""
    return "\n".join(name_key(org) for org in orgs)


def item_search_text(item: Item) -> str:
    """Everything free text can match, folded, one field per line (each ending in one).

    Lines keep a phrase from matching across two fields (a folded term has no newline); the
    final newline lets the archive find two-character terms through trigrams that start
    with them (bot/archive/search.py).
    """
    fields: list[str | None] = [item.title, item.summary]
    fields += [section.markdown for section in item.sections]
    for resource in item.resources:
        fields += [resource.title, resource.url]
    fields += [*item.tags, *item.orgs, item.source]
    return "".join(fold(text) + "\n" for text in fields if text)


def words(folded: str) -> set[str]:
    """The distinct words of folded text: maximal runs of ASCII letters and digits.

    The one tokenizer: the in-memory matcher and the archive's word index both use it, so
    a one-word term finds the same items everywhere."""
    return set(_WORD.findall(folded))


def is_word(term: str) -> bool:
    """Is a folded term exactly one word (``rl``, ``qat``, ``2025``), not ``gpt-4`` or ``强化``?"""
    return _WORD.fullmatch(term) is not None


def word_edges(term: str) -> tuple[bool, bool]:
    """Which ends of a folded term need a word boundary (an ASCII letter or digit there)."""
    return (bool(term) and term[0] in WORD_CHARS, bool(term) and term[-1] in WORD_CHARS)


@lru_cache(maxsize=256)
def _pattern(term: str) -> re.Pattern[str] | None:
    start, end = word_edges(term)
    if not start and not end:
        return None
    before = f"(?<![{WORD_CHARS}])" if start else ""
    after = f"(?![{WORD_CHARS}])" if end else ""
    return re.compile(before + re.escape(term) + after)


def term_matches(term: str, text: str) -> bool:
    """Does a folded free-text term match folded ``text`` (see the module docstring)?"""
    if term not in text:
        return False
    if is_word(term):
        return term in words(text)
    pattern = _pattern(term)
    return pattern is None or pattern.search(text) is not None
