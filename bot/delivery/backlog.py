"""A channel's backlog: unfinished days first, oldest first, then the newest new digest.

Why: a newer digest must not abandon an older, half-posted one (a crash at message 9 of
15, a release after a window of 429s, a paused platform). Each run of a channel finishes
what started within ``max_age`` before it starts the next day; what ran out of ``max_age``
is given up loudly. The service's sweep runs only the backlog (``backlog_only``); a new
digest waits for the channel's schedule.

``deliverer`` is the calling ``Deliverer``, typed as the ``DeliveryHost`` protocol (naming
its class here would make a cycle, since the deliverer calls this module).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot import metrics
from bot.delivery.result import DeliveryResult, Outcome
from bot.errors import DigestbotError

if TYPE_CHECKING:
    from bot.archive import DeliveryRecord
    from bot.channels import Channel
    from bot.delivery.host import DeliveryHost

log = logging.getLogger("bot.delivery")

#: Unfinished days one run finishes for a channel before the newest one (a backstop).
MAX_BACKLOG = 16
#: Outcomes after which the next unfinished or newer day may follow.
FINISHED = frozenset({Outcome.DELIVERED, Outcome.SKIPPED, Outcome.ALREADY})


async def deliver_due(
    deliverer: DeliveryHost,
    channel: Channel,
    *,
    deadline: dt.datetime | None = None,
    backlog_only: bool = False,
) -> list[DeliveryResult]:
    """Everything the channel is owed now: unfinished days oldest first, then the newest
    new digest, then an addendum for items added to a day it already got.

    ``backlog_only`` (the service's sweep, between scheduled times): only the unfinished
    days; a new digest waits for the channel's schedule. A weekly channel gets its
    rollup (``deliver``). A chat the config does not allow now gets nothing (``held``)."""
    held = deliverer.held(channel)
    if held is not None:
        return [held]
    if channel.kind == "weekly":
        if backlog_only:
            return [DeliveryResult(channel, Outcome.NOTHING_NEW)]
        return [await deliverer.deliver(channel, deadline=deadline)]
    results: list[DeliveryResult] = []
    seen: set[dt.date] = set()
    for _ in range(MAX_BACKLOG):
        try:
            choice = await asyncio.to_thread(deliverer.planner.choose, channel)
        except DigestbotError as exc:
            results.append(DeliveryResult(channel, Outcome.FAILED, error=str(exc)))
            return results
        await give_up(deliverer, channel, choice.stale)
        if choice.date is None or choice.date in seen or (backlog_only and not choice.resume):
            break
        seen.add(choice.date)
        result = await deliverer.deliver(channel, date=choice.date, deadline=deadline)
        results.append(result)
        if not (choice.resume and result.outcome in FINISHED):
            return results
    if all(result.outcome in FINISHED for result in results):
        results.extend(await deliverer.deliver_addenda(channel, deadline=deadline))
    if not results:  # nothing due: say why (nothing new, or missing or too old)
        results.append(
            DeliveryResult(channel, Outcome.NOTHING_NEW)
            if backlog_only
            else await deliverer.deliver(channel, deadline=deadline)
        )
    return results


async def give_up(
    deliverer: DeliveryHost, channel: Channel, stale: Iterable[DeliveryRecord]
) -> None:
    """Say loudly that an unfinished delivery ran out of ``max_age``."""
    for record in stale:
        reason = (
            f"not finished within max_age ({deliverer.options.max_age}); "
            f"{len(record.messages)} messages had been posted; last error: {record.error}"
        )
        if await asyncio.to_thread(deliverer.ledger.give_up, record.delivery_id, reason):
            metrics.DELIVERIES_GIVEN_UP.labels(channel.platform).inc()
            log.error(
                "delivery %s %s: GIVEN UP: %s. Retry it with: digestbot send --date %s "
                "--channel %s --retry",
                channel.key,
                record.digest_date,
                reason,
                record.digest_date,
                channel.key,
            )
