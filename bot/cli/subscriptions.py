"""``digestbot subscriptions list|add|activate|remove``: the subscriptions table from the shell.

The same rows ``/ai subscribe`` writes, through the same code (``SubscriptionCommands.add``),
so an operator can fix a channel without opening a chat and gets the chat's answer for the
same mistake. Each option is checked with the chat grammar on its own (``--schedule
"08:30 weekdays"`` works as well as a cron expression), so an error names its option.
``list`` also shows deliveries that started and have not finished, and those given up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from bot.archive import Archive
from bot.chat import (
    CommandCore,
    CommandRequest,
    check_zone,
    effective_channel,
    parse_digest,
    parse_schedule,
    parse_weekly,
)
from bot.cli.app import out, state
from bot.errors import CommandError, ConfigError
from bot.platforms import make_transport
from bot.registry import PLATFORMS, chat_platforms

if TYPE_CHECKING:
    from bot.archive import DeliveryRecord
    from bot.channels import Channel
    from bot.config import Settings
    from bot.delivery import Transport

T = TypeVar("T")

subscriptions_app = typer.Typer(
    name="subscriptions",
    help="List, add or remove channel subscriptions (the table /ai subscribe writes).",
    no_args_is_help=True,
)


def _archive(settings: Settings) -> Archive:
    archive = Archive.from_settings(settings)
    archive.create_schema()
    return archive


def _check_platform(platform: str) -> str:
    """Only chat platforms have subscriptions: the scheduler ignores rows of any other."""
    platforms = chat_platforms()
    if platform not in platforms:
        raise ConfigError(
            f"PLATFORM: {platform!r} channels cannot be subscribed (use one of "
            f"{', '.join(platforms)}); robot, console and file channels belong in the config's "
            "`channels`"
        )
    return platform


def _option(key: str, check: Callable[[str], T], value: str) -> T:
    """Check one option with the chat grammar; its message, prefixed with the option."""
    try:
        return check(value)
    except CommandError as exc:
        raise ConfigError(f"{key}: {exc}") from exc


@subscriptions_app.command("list")
def list_subscriptions(
    ctx: typer.Context,
    platform: str | None = typer.Option(None, "--platform", "-p", help="Only this platform."),
) -> None:
    """Show every stored subscription with its effective schedule and timezone."""
    settings = state(ctx).settings
    if platform:
        _check_platform(platform)
    archive = _archive(settings)
    try:
        rows = archive.subscriptions.list(platform)
        unfinished = archive.ledger.unfinished(platform)
        given_up = archive.ledger.given_up(platform, limit=50)
    finally:
        archive.close()
    if unfinished or given_up:
        out.print(deliveries_table(unfinished, given_up))
    if not rows:
        out.print("No subscriptions stored. Add one with: digestbot subscriptions add slack C0123")
        return
    transports: dict[str, Transport] = {}
    table = Table(title="Subscriptions", show_lines=False)
    for column in ("platform", "channel", "topics", "schedule", "timezone", "status"):
        table.add_column(column, overflow="fold")
    for row in rows:
        effective = effective_channel(settings, row, row.platform, row.channel_id)
        channel = row.channel_id + (f" (thread {row.thread_id})" if row.thread_id else "")
        status = "active"
        held = _held(settings, effective, transports) if row.active else None
        if held is not None:
            status = f"held: {held}"
        if not row.active:
            when = row.updated_at.isoformat(timespec="minutes") if row.updated_at else "?"
            status = f"inactive since {when}: {row.inactive_reason or '?'}"
        # Topics and reasons come from chat users: text, never rich markup.
        table.add_row(
            Text(row.platform),
            Text(channel),
            Text("\n".join(row.topics) or "(whole digest)"),
            Text(_schedule_cell(effective)),
            Text(effective.timezone),
            Text(status),
        )
    out.print(table)


def _held(settings: Settings, channel: Channel, transports: dict[str, Transport]) -> str | None:
    """Why an active channel gets nothing now (``Transport.held``), as delivery sees it; the
    transports are built for reading the rule only (``dry_run``: no token, no connection)."""
    if channel.platform not in transports:
        try:
            transports[channel.platform] = make_transport(channel.platform, settings, dry_run=True)
        except ConfigError:
            return None  # that platform is not set up: `send` and `doctor` say so
    return transports[channel.platform].held(channel)


def _schedule_cell(channel: Channel) -> str:
    """The daily digest's time if it gets one, and ``weekly CRON`` if it gets the rollup."""
    lines = [channel.schedule] if channel.wants_daily else []
    if channel.wants_weekly:
        lines.append(f"weekly {channel.weekly_schedule}")
    return "\n".join(lines)


def deliveries_table(unfinished: list[DeliveryRecord], given_up: list[DeliveryRecord]) -> Table:
    """Deliveries that started and have not finished, and those that never will."""
    table = Table(title="Deliveries needing attention", show_lines=False)
    for column in ("channel", "digest", "status", "messages posted", "since", "last error"):
        table.add_column(column, overflow="fold")
    for record in [*unfinished, *given_up]:
        status = {"claimed": "in progress", "retry": "unfinished, will resume"}.get(
            record.status.value, record.status.value.replace("_", " ")
        )
        table.add_row(
            Text(f"{record.platform}:{record.channel_id}"),
            record.digest_date.isoformat(),
            status,
            str(len(record.messages)),
            record.updated_at.isoformat(timespec="minutes"),
            Text(record.error or ""),
        )
    table.caption = "retry a failed day: digestbot send --date D --channel PLATFORM:ID --retry"
    return table


@subscriptions_app.command("activate", context_settings={"ignore_unknown_options": True})
def activate_subscription(
    ctx: typer.Context,
    platform: str = typer.Argument(..., help=f"one of: {', '.join(PLATFORMS)}"),
    channel: str = typer.Argument(..., help="Channel id"),
) -> None:
    """Bring back a channel that was deactivated (after fixing why), keeping its settings."""
    settings = state(ctx).settings
    if platform not in PLATFORMS:  # config channels of any platform can be deactivated
        raise ConfigError(
            f"PLATFORM: unknown platform {platform!r} (use one of {', '.join(PLATFORMS)})"
        )
    archive = _archive(settings)
    try:
        existing = archive.subscriptions.get(platform, channel)
        if existing is None:
            raise ConfigError(f"CHANNEL: no subscription stored for {platform}:{channel}")
        if existing.active:
            out.print(f"{platform}:{channel} is already active")
            return
        archive.subscriptions.upsert(platform, channel, active=True, inactive_reason=None)
    finally:
        archive.close()
    out.print(
        Text(f"Activated {platform}:{channel} (was: {existing.inactive_reason or 'inactive'})")
    )


@subscriptions_app.command("add", context_settings={"ignore_unknown_options": True})
def add_subscription(
    ctx: typer.Context,
    platform: str = typer.Argument(..., help=f"one of: {', '.join(chat_platforms())}"),
    channel: str = typer.Argument(..., help="Channel id (Slack C…, Telegram chat id, Feishu oc_…)"),
    topic: list[str] = typer.Option(  # noqa: B008
        [], "--topic", "-t", help="A query; repeat for several topics (any of them matches)."
    ),
    schedule: str | None = typer.Option(
        None, "--schedule", "-s", help='Cron ("30 8 * * mon-fri") or "08:30 weekdays".'
    ),
    timezone: str | None = typer.Option(
        None, "--timezone", "-z", help="IANA zone, e.g. Europe/Berlin."
    ),
    thread_id: int | None = typer.Option(
        None, "--thread-id", min=1, max=2**31 - 1, help="Telegram forum topic id."
    ),
    digest: str | None = typer.Option(
        None,
        "--digest",
        "-d",
        help="daily (the digest), weekly (the rollup only) or both.",
    ),
    weekly_schedule: str | None = typer.Option(
        None,
        "--weekly-schedule",
        "-w",
        help='When the rollup goes out: cron ("0 17 * * fri") or "fri 17:00"; as '
        "/ai schedule weekly, it turns the rollup on (digest both unless --digest says).",
    ),
) -> None:
    """Subscribe a channel (or re-activate it), adding topics and setting its times."""
    settings = state(ctx).settings
    _check_platform(platform)
    spec = _option("--schedule", parse_schedule, schedule) if schedule is not None else None
    zone = _option("--timezone", check_zone, timezone) if timezone is not None else None
    mode = _option("--digest", parse_digest, digest) if digest is not None else None
    weekly = (
        _option("--weekly-schedule", parse_weekly, weekly_schedule)
        if weekly_schedule is not None
        else None
    )
    request = CommandRequest(platform, channel, "cli", True, "", thread_id=thread_id)
    archive = _archive(settings)
    try:
        row, existed = CommandCore(archive, settings).subscriptions.add(
            request, topic, schedule=spec, timezone=zone, digest=mode, weekly=weekly
        )
    finally:
        archive.close()
    verb = "Updated" if existed else "Added"
    shown = ", ".join(row.topics) or "the whole digest"
    out.print(Text(f"{verb} {platform}:{channel}: {shown}"))


@subscriptions_app.command("remove", context_settings={"ignore_unknown_options": True})
def remove_subscription(
    ctx: typer.Context,
    platform: str = typer.Argument(..., help=f"one of: {', '.join(chat_platforms())}"),
    channel: str = typer.Argument(..., help="Channel id"),
) -> None:
    """Delete a channel's stored subscription (a config channel reverts to its config)."""
    settings = state(ctx).settings
    _check_platform(platform)
    archive = _archive(settings)
    try:
        removed = archive.subscriptions.remove(platform, channel)
    finally:
        archive.close()
    if not removed:
        raise ConfigError(f"CHANNEL: no subscription stored for {platform}:{channel}")
    out.print(Text(f"Removed {platform}:{channel}"))
