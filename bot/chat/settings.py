"""What one chat's settings are right now: its subscriptions row over its config entry.

Commands (``/ai subscriptions``, ``date:today`` in the chat's zone) and the CLI
(``digestbot subscriptions``) must resolve a channel's schedule, timezone and topics the
same way as the scheduler, so this reuses the one merge rule in ``bot.channels``: row
value, else ``channels[]`` value, else the top-level default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.channels import config_channel, merge_channel
from bot.config import DEFAULT_WEEKLY_SCHEDULE

if TYPE_CHECKING:
    from bot.archive.subscriptions import Subscription
    from bot.config import Settings

__all__ = ["EffectiveChannel", "config_channel", "effective_channel"]


@dataclass(frozen=True)
class EffectiveChannel:
    """What a channel receives: its row over its config entry over the global defaults."""

    schedule: str
    timezone: str
    topics: list[str]
    subscribed: bool
    digest: str = "daily"
    weekly_schedule: str = DEFAULT_WEEKLY_SCHEDULE


def effective_channel(
    settings: Settings, row: Subscription | None, platform: str, channel_id: str
) -> EffectiveChannel:
    """The merge rule of ``bot.channels`` for one chat, plus whether it is subscribed."""
    channel = merge_channel(settings, config_channel(settings, platform, channel_id), row)
    subscribed = row.active if row is not None else channel is not None
    if channel is None:
        topics = list(row.topics) if row is not None else []
        return EffectiveChannel(
            settings.schedule,
            settings.timezone,
            topics,
            subscribed,
            weekly_schedule=settings.weekly_schedule,
        )
    return EffectiveChannel(
        channel.schedule,
        channel.timezone,
        list(channel.topics),
        subscribed,
        digest=channel.digest,
        weekly_schedule=channel.weekly_schedule,
    )
