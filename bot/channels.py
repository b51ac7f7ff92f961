"""The effective channel list: config ``channels`` merged with the subscriptions table.

Why merge here, once: the scheduler, ``digestbot send`` and ``/healthz`` must agree on who
receives what. A subscriptions row overrides the config channel of the same
(platform, id): its non-null schedule/timezone/thread win, its topics replace the config's,
and ``active=False`` drops the channel. Rows for channels not in the config are channels
added at runtime (``/ai subscribe``). Schedule and timezone default to the top-level keys.

A channel on ``digest: weekly`` or ``both`` also gets the weekly rollup at its
``weekly_schedule``: ``delivery_jobs`` turns each channel into the scheduled deliveries it
needs (a daily one, a weekly one, or both), told apart by ``Channel.kind``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.config import DEFAULT_WEEKLY_SCHEDULE, check_cron
from bot.cron import check_timezone
from bot.registry import chat_platforms

if TYPE_CHECKING:
    from bot.archive import Subscription, SubscriptionStore
    from bot.config import ChannelSettings, Settings

log = logging.getLogger(__name__)

#: Where a channel comes from; "default" is a chat known to neither (not subscribed).
Origin = Literal["config", "subscription", "config+subscription", "default"]
DIGEST_MODES = ("daily", "weekly", "both")


@dataclass(frozen=True)
class Channel:
    """One destination with everything needed to schedule, filter and post to it: the one
    channel model of the core, merged from a ``channels[]`` entry and a subscriptions row."""

    platform: str
    id: str
    schedule: str
    timezone: str
    topics: tuple[str, ...] = ()
    thread_id: int | None = None
    path: str | None = None
    origin: Origin = "config"
    digest: str = "daily"
    """``daily``, ``weekly`` or ``both``: which deliveries the channel gets."""
    weekly_schedule: str = DEFAULT_WEEKLY_SCHEDULE
    kind: Literal["daily", "weekly"] = "daily"
    """Which delivery this is (see ``delivery_jobs``); ``schedule`` is that delivery's."""
    #: False for a chat that unsubscribed or whose channel is gone (the scheduler never
    #: sees those: ``effective_channels`` leaves them out); the reason says which.
    active: bool = True
    inactive_reason: str | None = None

    @property
    def key(self) -> str:
        """Stable identity used for scheduler jobs and log lines: ``platform:id`` for the
        daily delivery, ``platform:id/weekly`` for the weekly rollup."""
        base = f"{self.platform}:{self.id}"
        return f"{base}/weekly" if self.kind == "weekly" else base

    @property
    def wants_daily(self) -> bool:
        return self.digest in ("daily", "both")

    @property
    def wants_weekly(self) -> bool:
        return self.digest in ("weekly", "both")

    def as_weekly(self) -> Channel:
        """This channel's weekly rollup delivery, scheduled at its ``weekly_schedule``."""
        return dataclasses.replace(self, kind="weekly", schedule=self.weekly_schedule)

    def timing(self) -> tuple[str, str]:
        """What the scheduler cares about: a change here means the job must be rescheduled."""
        return (self.schedule, self.timezone)

    def __str__(self) -> str:
        return self.key


def effective_channels(
    settings: Settings, subscriptions: Iterable[Subscription] = ()
) -> list[Channel]:
    """Merge config channels with subscription rows (see the module docstring)."""
    rows = {(row.platform, row.channel_id): row for row in subscriptions}
    merged: list[Channel] = []
    seen: set[tuple[str, str]] = set()
    for conf in settings.channels:
        key = (conf.platform, conf.id)
        if key in seen:
            log.warning("channels: %s:%s is listed twice in the config; using the first", *key)
            continue
        seen.add(key)
        row = rows.get(key)
        if row is not None and not row.active:
            continue
        channel = merge_channel(settings, conf, row)
        if channel is not None:
            merged.append(channel)
    for key, row in rows.items():
        if key in seen or not row.active:
            continue
        channel = merge_channel(settings, None, row)
        if channel is not None:
            merged.append(channel)
    return merged


def config_channel(settings: Settings, platform: str, channel_id: str) -> ChannelSettings | None:
    """The ``channels[]`` entry for this channel, if the config names it."""
    for channel in settings.channels:
        if channel.platform == platform and channel.id == channel_id:
            return channel
    return None


def merge_channel(
    settings: Settings, conf: ChannelSettings | None, row: Subscription | None
) -> Channel | None:
    """One channel by the merge rule (ignoring ``active``); None if there is nothing to merge."""
    if conf is not None:
        return _from_config(settings, conf, row)
    return _from_row(settings, row) if row is not None else None


def load_channels(settings: Settings, store: SubscriptionStore | None) -> list[Channel]:
    """Read the subscriptions table (if there is one) and merge it with the config."""
    rows = store.list() if store is not None else []
    return effective_channels(settings, rows)


def delivery_jobs(channels: Iterable[Channel]) -> list[Channel]:
    """The scheduled deliveries of these channels: daily, weekly, or both per ``digest``."""
    jobs: list[Channel] = []
    for channel in channels:
        if channel.wants_daily:
            jobs.append(channel)
        if channel.wants_weekly:
            jobs.append(channel.as_weekly())
    return jobs


def select_channels(channels: Iterable[Channel], wanted: str | None) -> list[Channel]:
    """Filter by ``--channel``: an id (``C123``) or ``platform:id`` (``slack:C123``)."""
    channels = list(channels)
    if not wanted:
        return channels
    return [c for c in channels if wanted in (c.id, c.key, f"{c.platform}:{c.id}")]


def _from_config(
    settings: Settings, conf: ChannelSettings, row: Subscription | None
) -> Channel | None:
    schedule = conf.schedule or settings.schedule
    timezone = conf.timezone or settings.timezone
    topics = tuple(conf.topics)
    thread_id = conf.thread_id
    digest = conf.digest or "daily"
    weekly = conf.weekly_schedule or settings.weekly_schedule
    origin: Origin = "config"
    if row is not None:
        origin = "config+subscription"
        schedule = _valid(row.schedule, check_cron, row, "schedule") or schedule
        timezone = _valid(row.timezone, check_timezone, row, "timezone") or timezone
        topics = tuple(row.topics)
        thread_id = row.thread_id if row.thread_id is not None else thread_id
        digest = _valid(row.digest, _check_mode, row, "digest") or digest
        weekly = _valid(row.weekly_schedule, check_cron, row, "weekly_schedule") or weekly
    return Channel(
        platform=conf.platform,
        id=conf.id,
        schedule=schedule,
        timezone=timezone,
        topics=topics,
        thread_id=thread_id,
        path=conf.path,
        origin=origin,
        digest=digest,
        weekly_schedule=weekly,
    )


def _from_row(settings: Settings, row: Subscription) -> Channel | None:
    if row.platform not in chat_platforms():
        log.warning(
            "subscriptions: %s:%s has platform %r, which cannot be added at runtime; ignored",
            row.platform,
            row.channel_id,
            row.platform,
        )
        return None
    return Channel(
        platform=row.platform,
        id=row.channel_id,
        schedule=_valid(row.schedule, check_cron, row, "schedule") or settings.schedule,
        timezone=_valid(row.timezone, check_timezone, row, "timezone") or settings.timezone,
        topics=tuple(row.topics),
        thread_id=row.thread_id,
        origin="subscription",
        digest=_valid(row.digest, _check_mode, row, "digest") or "daily",
        weekly_schedule=_valid(row.weekly_schedule, check_cron, row, "weekly_schedule")
        or settings.weekly_schedule,
    )


def _check_mode(value: str) -> str:
    if value not in DIGEST_MODES:
        raise ValueError(f"{value!r} is not one of {', '.join(DIGEST_MODES)}")
    return value


def _valid(
    value: str | None, check: Callable[[str], object], row: Subscription, key: str
) -> str | None:
    """A bad stored schedule/timezone falls back to the default, loudly, not to silence."""
    if value is None:
        return None
    try:
        check(value)
    except ValueError as exc:
        log.warning(
            "subscriptions: %s:%s: %s: %s; using the default",
            row.platform,
            row.channel_id,
            key,
            exc,
        )
        return None
    return value
