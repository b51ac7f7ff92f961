"""The archive: digests, items and tags, plus subscriptions and the delivery ledger.

``rollup`` picks a week's best items, ``trends`` counts tags per week; both read the
archive through the same query language as search.
"""

from __future__ import annotations

from bot.archive.browse import Stamp, TagCount
from bot.archive.ledger_records import Kind
from bot.archive.rollup import DEFAULT_TOP, Rollup, RollupDay, select_rollup
from bot.archive.store import Archive
from bot.archive.trends import TagSeries, Trends, count_trends

__all__ = [
    "DEFAULT_TOP",
    "Archive",
    "Kind",
    "Rollup",
    "RollupDay",
    "Stamp",
    "TagCount",
    "TagSeries",
    "Trends",
    "count_trends",
    "select_rollup",
]
