"""Splitting query text into terms: whitespace (full-width too), quotes as people type them.

``bot.query.language`` turns the terms into clauses; this module only finds where each
term starts and ends, which quotes open a phrase, and which colon may start a key.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from bot.errors import QueryError

__all__ = ["ALL_QUOTES", "COLONS", "DOUBLE", "MINUS", "QUOTES", "Term", "show", "terms"]

#: Opening quote → the characters that close it (curly and full-width quotes mix freely).
DOUBLE = '"“”＂'
QUOTES = {'"': DOUBLE, "“": DOUBLE, "＂": DOUBLE, "「": "」", "『": "』"}
ALL_QUOTES = frozenset(DOUBLE + "「」『』")
COLONS = ":："
MINUS = "-－"
_CLOSER_SETS = tuple(dict.fromkeys(QUOTES.values()))


@dataclass(frozen=True)
class Term:
    """One whitespace-separated term, quotes resolved."""

    raw: str
    """The term as typed (for error messages)."""
    text: str
    negated: bool
    colon: int | None
    """Index in ``text`` of the first colon typed before any quote (a possible key)."""


def terms(text: str, valid: str) -> Iterator[Term]:
    """Split on whitespace (full-width too), honouring quotes the way people type them.

    A quote opens a phrase only at the start of a term or right after ``key:``, and closes
    at a matching quote followed by whitespace or the end. Quotes elsewhere are content
    (``称为「异形互联网」``, ``“非参数化”能力``), so pasted Chinese text searches as typed.
    """
    i, n = 0, len(text)
    phrases = PhraseIndex(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        negated = text[i] in MINUS
        if negated:
            i += 1
            if i >= n or text[i].isspace():
                raise QueryError(
                    f'nothing after "-" in {show(text[start:i])}: write -tag:RL or -word to '
                    f"exclude; valid keys: {valid}",
                    term=text[start:i],
                )
        if text[i] in QUOTES:
            quoted = _quoted(phrases, i, start, valid)
            if quoted is not None:
                content, end = quoted
                yield Term(text[start:end], content, negated, None)
                i = end
                continue
        end = i
        while end < n and not text[end].isspace():
            end += 1
        word = text[i:end]
        colon = next((k for k, ch in enumerate(word) if ch in COLONS), None)
        if colon is not None and colon + 1 < len(word) and word[colon + 1] in QUOTES:
            quoted = _quoted(phrases, i + colon + 1, start, valid)
            if quoted is not None:
                content, end = quoted
                yield Term(text[start:end], word[: colon + 1] + content, negated, colon)
                i = end
                continue
        yield Term(text[start:end], word, negated, colon)
        i = end


def _quoted(phrases: PhraseIndex, opened: int, start: int, valid: str) -> tuple[str, int] | None:
    """Read the phrase opened at ``opened``: (content, end), or None if the quote is content.

    Raises QueryError when the quote is never closed at all.
    """
    found = phrases.phrase(opened)
    if found is not False:
        return found
    term = phrases.text[start:]
    closers = QUOTES[phrases.text[opened]]
    raise QueryError(
        f"unbalanced quote in {show(term)}: add the closing {closers[0]}; valid keys: {valid}",
        term=term,
    )


class PhraseIndex:
    """Where each kind of quote can close a phrase, found in one pass over the text.

    Scanning ahead from every opening quote made a query full of quotes quadratic (40,000
    characters took 12 s). A closing quote is one not escaped by an odd run of backslashes;
    it closes a phrase when followed by whitespace or the end. Both are properties of the
    position alone, so they are indexed once and each phrase is a binary search.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._closing: dict[str, list[int]] = {}
        self._last: dict[str, int] = {}
        backslashes = 0
        n = len(text)
        for i, ch in enumerate(text):
            if ch == "\\":
                backslashes += 1
                continue
            if backslashes % 2 == 0:
                for closers in _CLOSER_SETS:
                    if ch in closers:
                        self._last[closers] = i
                        if i + 1 >= n or text[i + 1].isspace():
                            self._closing.setdefault(closers, []).append(i)
            backslashes = 0

    def phrase(self, opened: int) -> tuple[str, int] | Literal[False] | None:
        """The phrase opened at ``opened``: (content, end); None when the quote is content
        (a closing quote follows, but none before whitespace); False when none follows."""
        closers = QUOTES[self.text[opened]]
        positions = self._closing.get(closers, [])
        index = bisect.bisect_right(positions, opened)
        if index < len(positions):
            close = positions[index]
            body = self.text[opened + 1 : close]
            unescape = re.compile(r"\\([\\" + re.escape(closers) + "])")
            return unescape.sub(r"\1", body), close + 1
        if self._last.get(closers, -1) > opened:
            return None
        return False


def show(term: str) -> str:
    """A term quoted for an error message."""
    return f"'{term}'" if '"' in term else f'"{term}"'
