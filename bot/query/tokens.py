"""Splitting query text into terms: whitespace (full-width too), quotes as people type them.

``bot.query.language`` turns the terms into clauses; this module only finds where each
term starts and ends, which quotes open a phrase, and which colon may start a key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bot.errors import QueryError

__all__ = ["ALL_QUOTES", "COLONS", "DOUBLE", "MINUS", "QUOTES", "Term", "show", "terms"]

#: Opening quote → the characters that close it (curly and full-width quotes mix freely).
DOUBLE = '"“”＂'
QUOTES = {'"': DOUBLE, "“": DOUBLE, "＂": DOUBLE, "「": "」", "『": "』"}
ALL_QUOTES = frozenset(DOUBLE + "「」『』")
COLONS = ":："
MINUS = "-－"


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
            quoted = _quoted(text, i, start, valid)
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
            quoted = _quoted(text, i + colon + 1, start, valid)
            if quoted is not None:
                content, end = quoted
                yield Term(text[start:end], word[: colon + 1] + content, negated, colon)
                i = end
                continue
        yield Term(text[start:end], word, negated, colon)
        i = end


def _quoted(text: str, opened: int, start: int, valid: str) -> tuple[str, int] | None:
    """Read the phrase opened at ``opened``: (content, end), or None if the quote is content.

    Raises QueryError when the quote is never closed at all.
    """
    closers = QUOTES[text[opened]]
    chars: list[str] = []
    i, n = opened + 1, len(text)
    seen_closer = False
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and (text[i + 1] in closers or text[i + 1] == "\\"):
            chars.append(text[i + 1])
            i += 2
            continue
        if ch in closers:
            seen_closer = True
            if i + 1 >= n or text[i + 1].isspace():
                return "".join(chars), i + 1
        chars.append(ch)
        i += 1
    if seen_closer:
        return None
    term = text[start:]
    raise QueryError(
        f"unbalanced quote in {show(term)}: add the closing {closers[0]}; valid keys: {valid}",
        term=term,
    )


def show(term: str) -> str:
    """A term quoted for an error message."""
    return f"'{term}'" if '"' in term else f'"{term}"'
