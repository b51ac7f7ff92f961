"""The archive: digests, items and tags, plus subscriptions and the delivery ledger.

``store`` is the facade (``Archive``); ``bulk`` stores many days in one transaction;
``conditions`` turns a ``Query`` into SQL conditions that ``search`` runs directly on
PostgreSQL and ``sqlite_plan`` plans on SQLite; ``subscriptions`` and ``ledger`` are the
runtime tables (``ledger_records``: the ledger's rows as values); ``migrate`` keeps the
schema current. ``rollup`` picks a week's best items, ``trends`` counts tags per week;
both read the archive through the same query language as search. Every database error
leaves this package as ``ArchiveError``.
"""

from __future__ import annotations

from bot.archive.browse import Stamp, TagCount
from bot.archive.ledger import Ledger
from bot.archive.ledger_records import Claim, DeliveryRecord, Kind, Status, utcnow
from bot.archive.plan_limits import PlanLimits
from bot.archive.rollup import DEFAULT_TOP, Rollup, RollupDay, select_rollup
from bot.archive.store import Archive
from bot.archive.subscriptions import Subscription, SubscriptionStore
from bot.archive.trends import TagSeries, Trends, count_trends

__all__ = [
    "DEFAULT_TOP",
    "Archive",
    "Claim",
    "DeliveryRecord",
    "Kind",
    "Ledger",
    "PlanLimits",
    "Rollup",
    "RollupDay",
    "Stamp",
    "Status",
    "Subscription",
    "SubscriptionStore",
    "TagCount",
    "TagSeries",
    "Trends",
    "count_trends",
    "select_rollup",
    "utcnow",
]
