"""Delivery: what each channel gets, posted exactly once through the ledger.

``plan`` decides which digest a channel gets today, ``deliverer`` claims the ledger row
and hands the work to ``run`` (post → record → complete, with retries), ``result`` names
the outcomes, ``snapshot`` pins the first rendering of a claim, ``scheduler`` fires each
channel's cron in its own timezone. ``choice`` picks the next date (unfinished first),
``addendum`` reopens a delivered day that gained items, ``platform_state`` pauses a
platform that refuses our credentials.
"""

from __future__ import annotations

from bot.delivery.choice import ingest_horizon
from bot.delivery.deliverer import Deliverer
from bot.delivery.plan import DeliveryOptions, Plan, Planner, describe_topics
from bot.delivery.platform_state import PlatformStates
from bot.delivery.result import FAILURES, WAITING, DeliveryResult, Outcome, settled_outcome
from bot.delivery.scheduler import DeliveryScheduler, last_fire_within
from bot.delivery.transport import Transport

__all__ = [
    "FAILURES",
    "WAITING",
    "Deliverer",
    "DeliveryOptions",
    "DeliveryResult",
    "DeliveryScheduler",
    "Outcome",
    "Plan",
    "Planner",
    "PlatformStates",
    "Transport",
    "describe_topics",
    "ingest_horizon",
    "last_fire_within",
    "settled_outcome",
]
