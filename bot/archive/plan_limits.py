"""The SQLite plan's tuning limits (bot/archive/sqlite_plan.py), one value object the
archive is given, so tests can pass small ones and force every branch of the plan."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanLimits:
    """The SQLite plan's tuning limits: one value object, so tests can pass small ones."""

    #: Trigram tokens need three characters; two-character terms expand to the trigrams
    #: starting with them; a single character is scanned with LIKE.
    fts_min_chars: int = 3
    #: How many newest items the first SQLite step tests before falling back to the indexes
    #: (fewer when a free-text term makes each test read the item's row).
    window_rows: int = 1000
    window_text: int = 400
    #: A two-character term starting more distinct trigrams than this is scanned instead.
    max_prefix_trigrams: int = 400
    #: The text index hands over at most this many ids; a term matching more is tested per row.
    narrow_cap: int = 1000
    #: Once the candidates are this few, the remaining clauses are tested per row.
    probe_enough: int = 300
    #: More candidates than this are cheaper to meet by walking newest first than to sort.
    sort_at_most: int = 500
    #: A tag or source set is read only if smaller than this (``count_at_most`` when the window
    #: found nothing: scanning on for such a rare combination would be long).
    set_read_max: int = 3000
    #: A free-text set read as the only index set (nothing in the window) may be this large.
    text_set_cap: int = 8000
    #: More candidates than this are cheaper to count through the indexes' own id sets.
    count_at_most: int = 20_000
