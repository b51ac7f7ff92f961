"""The archive: digests, items and tags, plus subscriptions and the delivery ledger.

``store`` is the facade (``Archive``); ``bulk`` stores many days in one transaction;
``conditions`` turns a ``Query`` into SQL conditions that ``search`` runs directly on
PostgreSQL and ``sqlite_plan`` plans on SQLite; ``subscriptions`` and ``ledger`` are the
runtime tables (``claims``: the ledger's rows as values). Every database error leaves
this package as ``ArchiveError``.
"""

from __future__ import annotations

from bot.archive.claims import Claim, DeliveryRecord, Status, utcnow
from bot.archive.ledger import Ledger
from bot.archive.sqlite_plan import PlanLimits
from bot.archive.store import Archive
from bot.archive.subscriptions import Subscription, SubscriptionStore

__all__ = [
    "Archive",
    "Claim",
    "DeliveryRecord",
    "Ledger",
    "PlanLimits",
    "Status",
    "Subscription",
    "SubscriptionStore",
    "utcnow",
]
