"""``digestbot send [--date D [--retry] | --week W] [--channel ID] [--dry-run]``: deliver
now, through the ledger.

It ingests ``sources`` first, then delivers to every effective channel (config plus
subscriptions) the newest digest it has not received (at most ``max_age`` old), or the
digest of ``--date`` (which ignores ``max_age``). The ledger makes a second run post
nothing new. ``--week 2026-W06`` posts that week's rollup instead, to every channel on
``digest: weekly|both`` (or to ``--channel``), once per channel and week. ``--dry-run``
shows what would be posted where and writes no ledger rows (it needs no tokens). The
console channel prints headlines; ``--show`` prints whole digests.

Exit status: 0 delivered or nothing to do; 1 a delivery failed, or no digest where one
was expected (none archived, or the newest older than ``max_age``: said which); 2 usage.

Without ``--date``, unfinished deliveries are finished first, oldest first; ``--date D
--retry`` tries a failed or given-up day again, from where it stopped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.archive import Archive, Kind
from bot.channels import Channel, load_channels, select_channels
from bot.cli.app import err, out, state
from bot.delivery import (
    FAILURES,
    Deliverer,
    DeliveryOptions,
    DeliveryResult,
    Outcome,
    Plan,
    describe_topics,
    ingest_horizon,
    settled_outcome,
)
from bot.errors import ConfigError, QueryError, UsageError
from bot.ingest import Formats, ingest_paths
from bot.platforms import Transports
from bot.query import IsoWeek
from bot.runtime import make_owner
from formatters import Templates, render_weekly

if TYPE_CHECKING:
    from rich.console import Console

    from bot.config import Settings

_STYLE = {
    Outcome.DELIVERED: "green",
    Outcome.ALREADY: "dim",
    Outcome.SKIPPED: "yellow",
    Outcome.BUSY: "yellow",
    Outcome.NO_DIGEST: "yellow",
    Outcome.NOTHING_NEW: "dim",
    Outcome.FAILED: "red",
    Outcome.DEACTIVATED: "red",
    Outcome.PAUSED: "red",
    Outcome.HELD: "yellow",
    Outcome.DRY_RUN: "cyan",
}


def parse_week(value: str | None, option: str = "--week") -> IsoWeek | None:
    if value is None:
        return None
    try:
        return IsoWeek.parse(value)
    except QueryError as exc:
        raise UsageError(f"{option}: {exc}", option=option) from None


def parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            f"--date: {value!r} is not a date (use YYYY-MM-DD)", option="--date"
        ) from None


def send(
    ctx: typer.Context,
    date: Annotated[
        str | None,
        typer.Option(
            "--date", help="Deliver this day's digest (ignores max_age).", metavar="YYYY-MM-DD"
        ),
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="Only this channel: its id or platform:id.", metavar="ID"),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show what would be posted where; post nothing (no tokens needed)."
        ),
    ] = False,
    show: Annotated[
        bool,
        typer.Option("--show", help="Console channels print whole digests, not headlines."),
    ] = False,
    week: Annotated[
        str | None,
        typer.Option(
            "--week",
            help="Post this ISO week's rollup (e.g. 2026-W06) instead of a daily digest.",
            metavar="YYYY-Www",
        ),
    ] = None,
    retry: Annotated[
        bool,
        typer.Option(
            "--retry",
            help="With --date: try a failed or given-up day again (resumes where it stopped).",
        ),
    ] = False,
) -> None:
    """Deliver the digest to every channel now (each channel gets it exactly once)."""
    settings = state(ctx).settings
    if date is not None and week is not None:
        raise UsageError("--date and --week: give one of them, not both", option="--week")
    if retry and date is None:
        raise UsageError("--retry needs --date D (the day to try again)", option="--retry")
    results = asyncio.run(
        run_send(
            settings,
            date=parse_date(date),
            channel=channel,
            dry_run=dry_run,
            console=out,
            week=parse_week(week),
            show=show,
            show_again=show,
            retry=retry,
        )
    )
    raise typer.Exit(exit_code(results))


def exit_code(results: Sequence[DeliveryResult]) -> int:
    """1 if a delivery failed or an expected digest was missing, else 0."""
    bad = FAILURES | {Outcome.NO_DIGEST}
    return 1 if any(result.outcome in bad for result in results) else 0


async def run_send(
    settings: Settings,
    *,
    date: dt.date | None = None,
    channel: str | None = None,
    dry_run: bool = False,
    console: Console = out,
    options: DeliveryOptions | None = None,
    week: IsoWeek | None = None,
    show: bool = True,
    show_again: bool = False,
    retry: bool = False,
) -> list[DeliveryResult]:
    """The body of ``send``, callable from tests and scripts; prints the summary table.

    ``show``: console channels print whole digests; ``show_again``: also the ones they
    already had."""
    archive = Archive.from_settings(settings)
    transports = Transports(
        settings, console=console, dry_run=dry_run, overrides={"console": {"full": show}}
    )
    try:
        await asyncio.to_thread(archive.create_schema)
        await asyncio.to_thread(_ingest_sources, settings, archive)
        channels = _channels(settings, archive, channel, weekly=week is not None)
        if date is not None and await asyncio.to_thread(archive.digest, date) is None:
            raise ConfigError(
                f"--date {date}: no digest for that day in the archive "
                f"(ingest it, or add its file to `sources`)"
            )
        templates = Templates(**settings.template_options())
        deliverer = Deliverer.from_settings(
            settings,
            archive,
            transports.get,
            templates=templates,
            render_weekly=lambda platform, rollup: render_weekly(platform, rollup, templates),
            owner=make_owner(),
            options=options,
        )
        if retry and date is not None and not dry_run:
            await asyncio.to_thread(_reopen_failed, archive, channels, date, console)
        if dry_run:
            results = await asyncio.to_thread(_dry_run, deliverer, channels, date, week, console)
        else:
            results = await _deliver(deliverer, channels, date, week)
            if show_again:
                await asyncio.to_thread(_show_again, deliverer, results, console)
    finally:
        await transports.close()
        archive.close()
    console.print(summary_table(results, dry_run=dry_run))
    for result in results:
        if not result.error:
            continue
        key = result.channel.key
        note = escape(result.error if result.error.startswith(key) else f"{key}: {result.error}")
        if result.outcome is Outcome.NO_DIGEST:
            err.print(f"[yellow]warning:[/yellow] {note}")
        elif result.ok:
            console.print(f"[dim]{note}[/dim]")
        else:
            err.print(f"[red]error:[/red] {note}")
    if not show and not dry_run and any(r.channel.platform == "console" for r in results):
        console.print("[dim]Headlines only: add --show to print whole digests.[/dim]")
    return results


def _show_again(deliverer: Deliverer, results: list[DeliveryResult], console: Console) -> None:
    """``--show`` on a console channel that already has the digest: print it anyway (a
    terminal, not a chat; the ledger is not touched)."""
    for result in results:
        if result.channel.platform != "console" or result.outcome is not Outcome.ALREADY:
            continue
        planned = deliverer.plan(result.channel, date=result.digest_date)
        if isinstance(planned, Plan):
            for payload in planned.payloads:
                console.print(payload, soft_wrap=False)


def _ingest_sources(settings: Settings, archive: Archive) -> None:
    if not settings.sources:
        return
    summary = ingest_paths(
        archive,
        list(settings.sources),
        progress=True,
        console=err,
        base=settings.base_dir(),
        formats=Formats.from_settings(settings),
        settle=settings.sources_settle,
        not_after=ingest_horizon(settings),
        date_conflict=settings.date_conflict,
    )
    for path in summary.unsettled:
        err.print(
            f"[yellow]warning:[/yellow] {escape(path)}: still being written (modified less "
            f"than sources_settle ago); not ingested yet"
        )
    for problem in summary.problems:
        where = str(problem) if problem.line > 0 else f"{problem.path}: {problem.message}"
        err.print(f"[yellow]warning:[/yellow] {escape(where)}")


def _reopen_failed(
    archive: Archive, channels: list[Channel], date: dt.date, console: Console
) -> None:
    """``--retry``: make that day's failed or given-up deliveries retryable again."""
    for channel in channels:
        before = archive.ledger.retry(channel.platform, channel.id, date)
        if before is not None and before.status.value in ("failed", "given_up"):
            console.print(
                f"[dim]{escape(channel.key)} {date}: retrying ({escape(before.status.value)}: "
                f"{escape(before.error or '')})[/dim]"
            )


def _channels(
    settings: Settings, archive: Archive, wanted: str | None, *, weekly: bool = False
) -> list[Channel]:
    """The channels to deliver to: daily deliveries by default (channels on ``digest:
    weekly`` get no daily digest); with ``weekly``, the rollup deliveries of the channels on
    ``weekly``/``both``, or of ``--channel`` whatever its setting."""
    channels = load_channels(settings, archive.subscriptions)
    if not channels:
        where = settings.config_path or "<defaults>"
        raise ConfigError(f"{where}: channels: no channels configured or subscribed")
    selected = select_channels(channels, wanted)
    if not selected:
        known = ", ".join(c.key for c in channels)
        raise UsageError(f"--channel {wanted}: no such channel (known: {known})", "--channel")
    if weekly:
        chosen = [c for c in selected if wanted or c.wants_weekly]
        if not chosen:
            raise ConfigError(
                "--week: no channel is on `digest: weekly` or `both` (name one with --channel)"
            )
        return [c.as_weekly() for c in chosen]
    return [c for c in selected if wanted or c.wants_daily]


async def _deliver(
    deliverer: Deliverer, channels: list[Channel], date: dt.date | None, week: IsoWeek | None
) -> list[DeliveryResult]:
    # The console channel prints to the terminal itself; a live bar would tear through it.
    show = len(channels) > 1 and not any(c.platform == "console" for c in channels)
    if not show:
        return await deliverer.deliver_all(channels, date=date, week=week)
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with progress:
        task = progress.add_task("delivering", total=len(channels))

        def advance(result: DeliveryResult) -> None:
            progress.update(task, advance=1, description=escape(result.channel.key))

        return await deliverer.deliver_all(channels, date=date, on_result=advance, week=week)


def _dry_run(
    deliverer: Deliverer,
    channels: list[Channel],
    date: dt.date | None,
    week: IsoWeek | None,
    console: Console,
) -> list[DeliveryResult]:
    """Plan every channel and print its payloads; reads the ledger, never writes it."""
    results = []
    for channel in channels:
        try:
            planned = deliverer.plan(channel, date=date, week=week)
        except Exception as exc:  # a bad topic or a missing token: show it, keep going
            results.append(DeliveryResult(channel, Outcome.FAILED, date, error=str(exc)))
            continue
        if not isinstance(planned, Plan):
            results.append(planned)
            continue
        results.append(_show_plan(deliverer, planned, console))
    return results


def _show_plan(deliverer: Deliverer, plan: Plan, console: Console) -> DeliveryResult:
    channel = plan.channel
    record = deliverer.ledger.status(
        channel.platform, channel.id, plan.digest_date, kind=Kind(plan.kind)
    )
    outcome, note = Outcome.DRY_RUN, None
    settled = settled_outcome(record)
    if settled is not None and settled[0] is not Outcome.FAILED:
        # A failed row is retried by the next real run, so a dry run shows what it would post.
        outcome, note = settled
    elif plan.empty:
        outcome, note = Outcome.SKIPPED, "no item matches the topics"
    done = set(record.messages) if record else set()
    console.print(
        f"[bold]{escape(channel.key)}[/bold] · {plan.digest_date} · "
        f"{len(plan.digest.items)}/{plan.total_items} items ({escape(describe_topics(channel))}) · "
        f"{len(plan.payloads)} messages"
    )
    transport = deliverer.transport(channel.platform)
    for index, payload in enumerate(plan.payloads):
        mark = "✓ posted" if index in done else "→"
        console.print(f"  {mark} #{index}: {escape(transport.describe(payload))}")
    return DeliveryResult(
        channel, outcome, plan.digest_date, total=len(plan.payloads), error=note, plan=plan
    )


def summary_table(results: Sequence[DeliveryResult], *, dry_run: bool = False) -> Table:
    table = Table(title="dry run: nothing was posted" if dry_run else "delivery summary")
    table.add_column("channel")
    table.add_column("digest")
    table.add_column("messages", justify="right")
    table.add_column("status")
    for result in results:
        messages = str(result.total) if dry_run else f"{result.posted}/{result.total}"
        if result.reconciled:
            messages += f" (+{result.reconciled} found)"
        status = f"[{_STYLE[result.outcome]}]{escape(result.outcome.value)}[/]"
        table.add_row(
            escape(result.channel.key),
            _when(result),
            messages,
            status,
        )
    return table


def _when(result: DeliveryResult) -> str:
    """The digest's day, or the rollup's ISO week (its ledger rows are keyed by Monday)."""
    if result.digest_date is None:
        return "-"
    if result.channel.kind == "weekly":
        return str(IsoWeek.of(result.digest_date))
    return result.digest_date.isoformat()
