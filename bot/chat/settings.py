"""What one chat's settings are right now: its subscriptions row over its config entry.

Commands (``/ai subscriptions``, ``date:today`` in the chat's zone) and the CLI
(``digestbot subscriptions``) must resolve a channel's schedule, timezone and topics the
same way as the scheduler, so this reuses the one merge rule in ``bot.channels``: row
value, else ``channels[]`` value, else the top-level default.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bot.channels import Channel, config_channel, merge_channel

if TYPE_CHECKING:
    from bot.archive import Subscription
    from bot.config import Settings


def effective_channel(
    settings: Settings, row: Subscription | None, platform: str, channel_id: str
) -> Channel:
    """The merge rule of ``bot.channels`` for one chat; ``active`` says whether it is
    subscribed (a chat known to neither the config nor the table is not)."""
    channel = merge_channel(settings, config_channel(settings, platform, channel_id), row)
    if channel is None:
        topics = tuple(row.topics) if row is not None else ()
        return Channel(
            platform,
            channel_id,
            settings.schedule,
            settings.timezone,
            topics,
            origin="default",
            weekly_schedule=settings.weekly_schedule,
            active=row.active if row is not None else False,
            inactive_reason=row.inactive_reason if row is not None else None,
        )
    if row is None:
        return channel
    return dataclasses.replace(channel, active=row.active, inactive_reason=row.inactive_reason)
