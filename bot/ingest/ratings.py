"""Ratings as pipelines write them → a raw score with its scale, and 0–5 stars from it.

``🌟🌟🌟``, ``⭐⭐⭐⭐``, ``★★★☆☆``, ``8.3/10``, ``**8/10**``, ``88/100``, ``(8.15)``, a plain
``4``: each keeps what was written (``score`` out of ``scale``) and derives ``stars`` the
same way, ``round_half_up(score / scale * 5)``, so ``stars:4`` means one thing whatever the
pipeline's scale.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.errors import FieldError

__all__ = ["MARKS", "MAX_MARKS", "Rating", "find_rating", "parse_rating"]

#: Star marks counted as one point each (out of 5).
MARKS = ("🌟", "⭐", "★")
#: Empty marks that still tell the scale (``★★★☆☆`` is 3 of 5).
_EMPTY_MARKS = ("☆",)
#: More marks than this is a pipeline printing a number as marks (one printed 529 ⭐):
#: stars are capped at 5 and the count is kept as the score.
MAX_MARKS = 5

_FRACTION = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*/\s*(5|10|100)(?![\d.])")
_PAREN = re.compile(r"[(（]\s*(\d{1,2}(?:\.\d+)?)\s*[)）]")
_NUMBER = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)(?![\d.])")


@dataclass(frozen=True)
class Rating:
    """One rating: ``score`` out of ``scale``, and the derived 0–5 ``stars``."""

    score: float
    scale: float

    @property
    def stars(self) -> int:
        if self.scale <= 0:
            return 0
        return max(0, min(5, math.floor(self.score / self.scale * 5 + 0.5)))


def _scale_for(number: float) -> float | None:
    """The scale a bare number is most likely out of."""
    if number <= 5:
        return 5.0
    if number <= 10:
        return 10.0
    if number <= 100:
        return 100.0
    return None


def _marks(text: str) -> Rating | None:
    """Counted marks: out of 5, or out of full + empty marks (``★★★★★★★★☆☆`` is 8 of 10);
    more than 5 marks with no empty ones is capped at 5 of 5."""
    full = sum(text.count(mark) for mark in MARKS)
    if not full:
        return None
    total = full + sum(text.count(mark) for mark in _EMPTY_MARKS)
    if total > full and total in (5, 10):
        return Rating(score=float(full), scale=float(total))
    return Rating(score=float(min(full, MAX_MARKS)), scale=5.0)


def find_rating(text: str) -> Rating | None:
    """A rating anywhere in a short text (a meta line, a heading tail), or None."""
    match = _FRACTION.search(text)
    if match is not None:
        score, scale = float(match[1]), float(match[2])
        return Rating(score=min(score, scale), scale=scale)
    paren = _PAREN.search(text)
    if paren is not None:
        score = float(paren[1])
        scale = _scale_for(score)
        if scale is not None and "." in paren[1]:
            return Rating(score=score, scale=10.0 if scale == 5.0 else scale)
    return _marks(text)


def parse_rating(value: str) -> Rating | None:
    """The rating of a labelled value (``**价值**: 🌟🌟🌟``); None if empty.

    Raises FieldError for a value that is there but is no rating (``很高``, a 20-digit
    number), so the parser can report it where it stands.
    """
    value = value.strip()
    if not value:
        return None
    found = find_rating(value)
    if found is not None:
        return found
    number = _NUMBER.match(value)
    if number is not None:
        score = float(number[1])
        scale = _scale_for(score)
        if scale is not None:
            return Rating(score=score, scale=scale)
    raise FieldError(
        f"unrecognised rating {value[:40]!r} (expected 🌟 marks, ★★★☆☆, 8/10, 88/100 or a number)"
    )
