"""``digestbot subscriptions list|add|activate|remove``: the subscriptions table from the shell.

The same rows ``/ai subscribe`` writes, validated the same way (queries by the query
parser, schedules by the chat command grammar, so ``--schedule "08:30 weekdays"`` works
as well as a cron expression), so an operator can fix a channel without opening a chat.
``list`` also shows deliveries that started and have not finished, and those given up.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer
from rich.table import Table
from rich.text import Text

from bot.cli.app import app, out, state
from bot.errors import CommandError, ConfigError
from bot.registry import PLATFORMS as REGISTERED

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.archive.ledger import DeliveryRecord
    from bot.config import Settings

PLATFORMS = tuple(REGISTERED)

subscriptions_app = typer.Typer(
    name="subscriptions",
    help="List, add or remove channel subscriptions (the table /ai subscribe writes).",
    no_args_is_help=True,
)
app.add_typer(subscriptions_app, name="subscriptions")


def _archive(settings: Settings) -> Archive:
    from bot.archive import Archive

    archive = Archive.from_settings(settings)
    archive.create_schema()
    return archive


def _check_platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise ConfigError(
            f"PLATFORM: unknown platform {platform!r} (use one of {', '.join(PLATFORMS)})"
        )
    return platform


@subscriptions_app.command("list")
def list_subscriptions(
    ctx: typer.Context,
    platform: str | None = typer.Option(None, "--platform", "-p", help="Only this platform."),
) -> None:
    """Show every stored subscription with its effective schedule and timezone."""
    from bot.chat.core import effective_channel

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
    table = Table(title="Subscriptions", show_lines=False)
    for column in ("platform", "channel", "topics", "schedule", "timezone", "status"):
        table.add_column(column, overflow="fold")
    for row in rows:
        effective = effective_channel(settings, row, row.platform, row.channel_id)
        channel = row.channel_id + (f" (thread {row.thread_id})" if row.thread_id else "")
        status = "active"
        if not row.active:
            when = row.updated_at.isoformat(timespec="minutes") if row.updated_at else "?"
            status = f"inactive since {when}: {row.inactive_reason or '?'}"
        # Topics and reasons come from chat users: text, never rich markup.
        table.add_row(
            Text(row.platform),
            Text(channel),
            Text("\n".join(row.topics) or "(whole digest)"),
            Text(effective.schedule),
            Text(effective.timezone),
            Text(status),
        )
    out.print(table)


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
    platform: str = typer.Argument(..., help="slack, telegram, console or file"),
    channel: str = typer.Argument(..., help="Channel id"),
) -> None:
    """Bring back a channel that was deactivated (after fixing why), keeping its settings."""
    settings = state(ctx).settings
    _check_platform(platform)
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
    platform: str = typer.Argument(..., help=f"one of: {', '.join(PLATFORMS)}"),
    channel: str = typer.Argument(..., help="Channel id (Slack C…, Telegram chat id)"),
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
) -> None:
    """Subscribe a channel (or re-activate it), adding topics and setting its time."""
    from bot.chat.grammar import check_zone, normalize_text, parse_schedule
    from bot.query import parse_query

    settings = state(ctx).settings
    _check_platform(platform)
    today = dt.datetime.now(dt.UTC).date()
    topics = [normalize_text(t) for t in topic if t.strip()]
    for text in topics:
        parse_query(text, today=today)  # QueryError names the bad term
    fields: dict[str, object] = {"active": True, "inactive_reason": None}
    try:
        if schedule is not None:
            spec = parse_schedule(schedule)
            fields["schedule"] = spec.cron
            if spec.timezone is not None:
                fields["timezone"] = spec.timezone
        if timezone is not None:
            fields["timezone"] = check_zone(timezone)
    except CommandError as exc:
        key = "--timezone" if "timezone" in str(exc).lower() else "--schedule"
        raise ConfigError(f"{key}: {exc}") from exc
    if thread_id is not None:
        fields["thread_id"] = thread_id
    archive = _archive(settings)
    try:
        existing = archive.subscriptions.get(platform, channel)
        current = list(existing.topics) if existing else _config_topics(settings, platform, channel)
        fields["topics"] = current + [t for t in topics if t not in current]
        if existing is None:
            fields["created_by"] = "cli"
        row = archive.subscriptions.upsert(platform, channel, **fields)
    finally:
        archive.close()
    verb = "Updated" if existing else "Added"
    shown = ", ".join(row.topics) or "the whole digest"
    out.print(Text(f"{verb} {platform}:{channel}: {shown}"))


def _config_topics(settings: Settings, platform: str, channel: str) -> list[str]:
    from bot.chat.core import config_channel

    configured = config_channel(settings, platform, channel)
    return list(configured.topics) if configured else []


@subscriptions_app.command("remove", context_settings={"ignore_unknown_options": True})
def remove_subscription(
    ctx: typer.Context,
    platform: str = typer.Argument(..., help=f"one of: {', '.join(PLATFORMS)}"),
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
