"""Keeping promises between scheduled runs: finish what a dead run left, tell the truth.

Why: a delivery claimed by a process that was killed (``kill -9``, OOM, a power cut) is
only "in progress elsewhere" until its lease expires; nobody scheduled looks again before
the next morning. The sweep runs every half lease (at most a minute): it finishes every
unfinished delivery whose lease has run out or that was released (a window of 429s, a
platform that refused our token and works again), and posts addenda for items that
appeared in a day already delivered. At start, each platform's credentials are checked
and said in one log line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from bot.archive import Status
from bot.errors import ConfigError, DigestbotError, PlatformUnavailable
from bot.registry import PLATFORMS

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.channels import Channel
    from bot.delivery import Deliverer, PlatformStates

log = logging.getLogger("bot.runtime")

#: Bounds of the sweep's period (half the lease in between).
MIN_SWEEP = dt.timedelta(seconds=0.5)
MAX_SWEEP = dt.timedelta(seconds=60)


def sweep_interval(lease: dt.timedelta) -> dt.timedelta:
    """Half the lease, within [MIN_SWEEP, MAX_SWEEP]: a dead run's work resumes within a
    lease and a half of its last renewal."""
    return max(MIN_SWEEP, min(MAX_SWEEP, lease / 2))


def due_channels(archive: Archive, channels: dict[str, Channel], now: dt.datetime) -> list[Channel]:
    """Channels with an unfinished delivery nobody holds a live lease on."""
    due: dict[str, Channel] = {}
    for record in archive.ledger.unfinished():
        held = record.lease_until is not None and record.lease_until > now
        if record.status is Status.CLAIMED and held:
            continue
        channel = channels.get(f"{record.platform}:{record.channel_id}")
        if channel is not None:
            due[channel.key] = channel
    return list(due.values())


def overdue(archive: Archive, window: dt.timedelta, now: dt.datetime) -> dict[str, str]:
    """Deliveries unfinished for longer than ``window``, and those given up: for /healthz."""
    found: dict[str, str] = {}
    for record in archive.ledger.unfinished():
        if record.created_at < now - window:
            found[f"{record.platform}:{record.channel_id} {record.digest_date}"] = (
                f"unfinished since {record.created_at.isoformat(timespec='seconds')}: "
                f"{record.error or record.status.value}"
            )
    for record in archive.ledger.given_up(limit=20):
        if record.status is Status.GIVEN_UP and record.updated_at > now - dt.timedelta(days=7):
            found[f"{record.platform}:{record.channel_id} {record.digest_date}"] = (
                f"given up: {record.error}"
            )
    return found


async def sweep(
    archive: Archive,
    channels: dict[str, Channel],
    paused: dict[str, Channel],
    deliver: Callable[[Channel, bool], Awaitable[Any]],
    addenda: Callable[[Channel], Awaitable[Any]] | None,
    *,
    now: dt.datetime,
    busy: Callable[[Channel], bool],
) -> list[str]:
    """One pass: finish due deliveries (only those: ``deliver(channel, True)``) and retry
    channels ``paused`` with their platform in full (``deliver(channel, False)``; each
    platform re-checks its credentials at most every ``recheck``); with ``addenda``, check
    every other channel for them."""
    try:
        due = await asyncio.to_thread(due_channels, archive, channels, now)
    except DigestbotError as exc:
        log.warning("sweep: cannot read the ledger: %s", exc)
        return []
    for channel in due:
        if not busy(channel):
            log.info("sweep: %s has an unfinished delivery; finishing it", channel.key)
    retry = [c for key, c in paused.items() if key in channels and c not in due]
    started = [c for c in due if not busy(c)]
    retried = [c for c in retry if not busy(c)]
    jobs = [deliver(channel, True) for channel in started]
    jobs += [deliver(channel, False) for channel in retried]
    started += retried
    if addenda is not None:
        jobs += [addenda(c) for c in channels.values() if c not in started and not busy(c)]
    await asyncio.gather(*jobs, return_exceptions=True)
    return [channel.key for channel in started]


async def check_platforms(
    deliverer: Deliverer,
    platforms: PlatformStates,
    channels: Iterable[Channel],
) -> dict[str, str]:
    """Check the credentials of every platform that has channels; one log line each.

    Returns platform → its line ("on: …", "off: …", "failing: …")."""
    counts: dict[str, int] = {}
    for platform, _id in {(channel.platform, channel.id) for channel in channels}:
        counts[platform] = counts.get(platform, 0) + 1
    lines: dict[str, str] = {}
    for name in PLATFORMS:
        count = counts.get(name, 0)
        if not count:
            lines[name] = "off: no channels configured or subscribed"
            log.info("platform %s: %s", name, lines[name])
            continue
        try:
            who = await deliverer.transport(name).check()
        except ConfigError as exc:
            lines[name] = f"off: {exc}"
            log.error("platform %s: %d channels, but %s", name, count, lines[name])
            continue
        except PlatformUnavailable as exc:
            platforms.down(name, str(exc))
            lines[name] = f"failing: {exc}"
            log.error("platform %s: %s (%d channels wait)", name, lines[name], count)
            continue
        except DigestbotError as exc:
            lines[name] = f"failing: {exc}"
            log.warning("platform %s: %s; will retry at delivery time", name, lines[name])
            continue
        platforms.up(name)
        lines[name] = f"on: {who}, {count} channels"
        log.info("platform %s: %s", name, lines[name])
    return lines
