"""``digestbot query QUERY [--json] [--limit N] [--offset N]``: search the archive."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from bot.archive import Archive
from bot.cli.app import out, state
from bot.models import Hit
from bot.query import parse_query
from formatters import safe_json

#: How far past the shown page ``query`` counts matches before it says "N+".
COUNT_CAP = 1000
#: Bounds of ``--limit`` and ``--offset``: beyond them a number is a typo, or an attack on
#: the database's integer range, and gets a usage error (exit 2) rather than a traceback.
MAX_LIMIT = 1_000
MAX_OFFSET = 1_000_000


def hits_table(hits: list[Hit], *, title: str) -> Table:
    """One row per hit; all digest text goes through Text so rich markup is never applied."""
    table = Table(title=Text(title), show_lines=False)
    table.add_column("Date", no_wrap=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Stars", no_wrap=True)
    table.add_column("Title", ratio=3, overflow="fold")
    table.add_column("Tags", ratio=2, overflow="fold")
    table.add_column("Source", no_wrap=True)
    for hit in hits:
        table.add_row(
            hit.date.isoformat(),
            str(hit.rank),
            "🌟" * hit.stars if hit.stars else "-",
            Text(hit.title),
            Text(" ".join(f"[{tag}]" for tag in hit.tags)),
            Text(hit.source or "-"),
        )
    return table


def query(
    ctx: typer.Context,
    text: Annotated[
        str,
        typer.Argument(
            help='A query, e.g. "tag:RL source:量子位 since:2026-02-01 -org:Google QAT".',
            metavar="QUERY",
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the hits as a JSON list (with their date).")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=MAX_LIMIT, help="At most N hits (up to 1000).")
    ] = 20,
    offset: Annotated[
        int, typer.Option("--offset", min=0, max=MAX_OFFSET, help="Skip the first N hits.")
    ] = 0,
) -> None:
    """Search the archive: newest day first, then most stars, then rank."""
    settings = state(ctx).settings
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    parsed = parse_query(text, today=today)
    archive = Archive.from_settings(settings)
    try:
        archive.open_for_reading()
        hits = archive.search(parsed, limit=limit, offset=offset)
        # Counting every match of a common word costs a scan; past COUNT_CAP it says "N+".
        cap = offset + limit + COUNT_CAP
        total = archive.count(parsed, cap=cap) if hits and not as_json else len(hits)
    finally:
        archive.close()
    if as_json:
        data = [hit.model_dump(mode="json") for hit in hits]
        typer.echo(safe_json(data, indent=2))
        return
    if not hits:
        where = f" (after skipping {offset})" if offset else ""
        out.print(Text(f"No items match {str(parsed) or '(everything)'}{where}."))
        return
    shown = f"{offset + 1}-{offset + len(hits)} of {total}{'+' if total >= cap else ''}"
    out.print(hits_table(hits, title=f"{parsed} — {shown}"))
