"""``digestbot doctor``: check everything once (config, archive, sources, platforms,
channels) and say what is wrong, before the morning delivery finds out.

Every check is a row (``Check``): ok, warn (works, but something is off) or fail (a
delivery or a command will not work). Platform checks live with their platform
(``bot.platforms.checks``); this module only runs them and adds what is common.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from bot.archive import Archive
from bot.channels import Channel, load_channels
from bot.cron import cron_trigger
from bot.errors import DigestbotError
from bot.ingest import date_in_name, expand_paths
from bot.platforms import Check, platform_check

if TYPE_CHECKING:
    from bot.archive import SubscriptionStore
    from bot.config import Settings


async def diagnose(settings: Settings, *, now: dt.datetime | None = None) -> list[Check]:
    """All the doctor's rows, in the order of the table."""
    now = now or dt.datetime.now(dt.UTC)
    rows = [Check("config", "ok", settings.config_path or "built-in defaults (no config file)")]
    archive = Archive.from_settings(settings)
    try:
        archive_rows, store = await asyncio.to_thread(_archive, archive)
        rows += archive_rows
        rows += await asyncio.to_thread(_sources, settings)
        channels = load_channels(settings, store)
        rows += await _platforms_and_channels(settings, channels, now)
    finally:
        archive.close()
    return rows


def _archive(archive: Archive) -> tuple[list[Check], SubscriptionStore | None]:
    try:
        schema = archive.schema_state()
        dates = archive.dates() if schema.has_tables else []
    except DigestbotError as exc:
        return [Check("archive", "fail", str(exc))], None
    where = archive.where
    held = f"{len(dates)} digests, newest {dates[-1]}" if dates else "no digests yet"
    if schema.up_to_date:
        return [Check("archive", "ok", f"{where}: schema {schema.describe()}; {held}")], (
            archive.subscriptions
        )
    detail = f"{where}: schema {schema.describe()}; upgraded at start or by `digestbot db upgrade`"
    return [Check("archive", "warn", detail)], (archive.subscriptions if dates else None)


def _sources(settings: Settings) -> list[Check]:
    if not settings.sources:
        return [Check("sources", "warn", "no `sources`: ingest digest files by hand")]
    files, missing = expand_paths(settings.sources, base=settings.base_dir())
    rows = [Check("sources", "fail", f"{p.path}: {p.message}") for p in missing]
    dates = sorted(d for d in (date_in_name(f.name) for f in files) if d is not None)
    newest = f", newest {dates[-1]}" if dates else ""
    if files:
        rows.insert(0, Check("sources", "ok", f"{len(files)} files{newest}"))
    return rows


async def _platforms_and_channels(
    settings: Settings, channels: list[Channel], now: dt.datetime
) -> list[Check]:
    platforms = {c.platform for c in channels}
    if settings.slack.bot_token is not None:
        platforms.add("slack")
    if settings.telegram.token is not None:
        platforms.add("telegram")
    if settings.feishu.app_id:
        platforms.add("feishu")
    rows: list[Check] = []
    posting: dict[str, Check] = {}
    for platform in sorted(platforms):
        check = platform_check(platform)
        if check is None:
            continue
        mine = [c for c in channels if c.platform == platform]
        for row in await check(settings, mine):
            if row.area in {c.key for c in mine}:
                posting[row.area] = row
            else:
                rows.append(row)
    if not channels:
        rows.append(Check("channels", "warn", "no channels configured or subscribed"))
    for channel in channels:
        rows.append(_channel_row(channel, posting.get(channel.key), settings, now))
    return rows


def _channel_row(
    channel: Channel, posting: Check | None, settings: Settings, now: dt.datetime
) -> Check:
    try:
        trigger = cron_trigger(channel.schedule, channel.timezone)
        fire = trigger.get_next_fire_time(None, now)
        when = f"next {fire:%Y-%m-%d %H:%M %Z}" if fire else "never fires"
    except ValueError as exc:
        return Check(channel.key, "fail", f"schedule {channel.schedule!r}: {exc}")
    if posting is None:
        posting = _local_posting(channel, settings)
    topics = f"; topics {' | '.join(channel.topics)}" if channel.topics else ""
    return Check(channel.key, posting.status, f"{when}{topics}; {posting.detail}")


def _local_posting(channel: Channel, settings: Settings) -> Check:
    if channel.platform == "file":
        if not channel.path:
            return Check(channel.key, "fail", "channels[].path is required for the file platform")
        path = Path(channel.path).expanduser()
        return Check(channel.key, "ok", f"appends to {settings.base_dir() / path}")
    if channel.platform == "console":
        return Check(channel.key, "ok", "prints to the terminal")
    return Check(channel.key, "fail", f"unknown platform {channel.platform!r}")
