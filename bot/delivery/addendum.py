"""Items that appear in a day's file after that day was delivered: a short addendum.

Why: a digest delivered while its file was still growing (or edited later to add items)
would otherwise never bring the rest. A finished delivery remembers which items it carried
(``delivery_items``); when the day's digest holds more, the delivery is reopened with its
stored payloads plus the new items' payloads. The recorded messages keep their indices, so
the ordinary resume posts only the new ones (on Slack in the same thread), exactly once.
Transports that cannot store payloads (the console) get no addenda.

``deliverer`` is the calling ``Deliverer``, typed as the ``DeliveryHost`` protocol (naming
its class here would make a cycle, since the deliverer calls this module).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

from bot.archive import Kind, Status
from bot.delivery import snapshot as payload_snapshot
from bot.delivery.choice import horizon, local_today
from bot.delivery.plan import Plan, item_key

if TYPE_CHECKING:
    from bot.channels import Channel
    from bot.delivery.host import DeliveryHost
    from bot.delivery.result import DeliveryResult

log = logging.getLogger("bot.delivery")

#: Recent ledger rows of a channel looked at for addenda.
RECENT_ROWS = 8


async def deliver_addenda(
    deliverer: DeliveryHost, channel: Channel, *, deadline: dt.datetime | None = None
) -> list[DeliveryResult]:
    """Reopen and deliver every recent day of ``channel`` whose digest gained items."""
    dates = await asyncio.to_thread(reopen_grown, deliverer, channel)
    return [await deliverer.deliver(channel, date=date, deadline=deadline) for date in dates]


def reopen_grown(deliverer: DeliveryHost, channel: Channel) -> list[dt.date]:
    """The dates reopened for an addendum (delivered, within ``max_age``, with new items)."""
    ledger = deliverer.ledger
    now = deliverer.clock()
    cutoff = local_today(channel, now - deliverer.options.max_age)
    latest = horizon(channel, now, deliverer.options.max_future)
    reopened: list[dt.date] = []
    for record in ledger.history(channel.platform, channel.id, limit=RECENT_ROWS):
        if record.kind is not Kind.DAILY or record.status is not Status.DONE:
            continue  # a weekly rollup is whole as sent
        if not cutoff <= record.digest_date <= latest:
            continue
        if record.snapshot is None:
            continue
        keys = ledger.item_keys(record.delivery_id)
        if not keys:  # delivered before items were recorded: nothing to compare with
            continue
        planned = deliverer.planner.plan(channel, date=record.digest_date)
        if not isinstance(planned, Plan):
            continue
        new = [item for item in planned.digest.items if item_key(item) not in keys]
        if not new:
            continue
        transport = deliverer.transport(channel.platform)
        extra_digest = planned.digest.model_copy(
            update={"items": new, "title": f"{planned.digest.title} · +{len(new)}"}
        )
        extra = transport.addendum(transport.render(extra_digest, deliverer.templates))
        stored = payload_snapshot.decode(transport, record.snapshot)
        encoded = payload_snapshot.encode(transport, [*stored, *extra])
        if encoded is None or not ledger.reopen(record.delivery_id, encoded):
            continue
        log.info(
            "delivery %s %s: %d items were added after it was delivered; posting an addendum "
            "of %d messages",
            channel.key,
            record.digest_date,
            len(new),
            len(extra),
        )
        reopened.append(record.digest_date)
    return reopened
