"""What one chat's settings are right now: its subscriptions row over its config entry.

Commands (``/ai subscriptions``, ``date:today`` in the chat's zone) and the CLI
(``digestbot subscriptions``) must resolve a channel's schedule, timezone and topics the
same way, so the precedence rule lives here once: row value, else ``channels[]`` value,
else the top-level default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.archive.subscriptions import Subscription
    from bot.config import ChannelSettings, Settings


@dataclass(frozen=True)
class EffectiveChannel:
    """What a channel receives: its row over its config entry over the global defaults."""

    schedule: str
    timezone: str
    topics: list[str]
    subscribed: bool


def config_channel(settings: Settings, platform: str, channel_id: str) -> ChannelSettings | None:
    """The ``channels[]`` entry for this channel, if the config names it."""
    for channel in settings.channels:
        if channel.platform == platform and channel.id == channel_id:
            return channel
    return None


def effective_channel(
    settings: Settings, row: Subscription | None, platform: str, channel_id: str
) -> EffectiveChannel:
    """Row value, else config channel value, else top-level ``schedule``/``timezone``."""
    configured = config_channel(settings, platform, channel_id)
    schedule = (row and row.schedule) or (configured and configured.schedule) or settings.schedule
    timezone = (row and row.timezone) or (configured and configured.timezone) or settings.timezone
    if row is not None:
        topics, subscribed = list(row.topics), row.active
    else:
        topics, subscribed = list(configured.topics) if configured else [], configured is not None
    return EffectiveChannel(schedule, timezone, topics, subscribed)
