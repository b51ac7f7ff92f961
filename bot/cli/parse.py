"""``digestbot parse FILE [--json]``: check one digest file and show what the bot will see."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from bot.cli.app import out, state
from bot.ingest import Coverage, Formats, parse_file
from bot.models import Digest, Problem
from formatters import safe_json, strip_controls


def report_problems(problems: list[Problem]) -> None:
    """Print ``FILE:LINE: message`` lines to stderr, unwrapped, so editors can jump to them."""
    for problem in problems:
        typer.echo(strip_controls(str(problem)), err=True)


def digest_table(digest: Digest) -> Table:
    """A compact overview: one row per item."""
    table = Table(title=Text(f"{digest.title} | {digest.date.isoformat()}"), show_lines=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("价值", no_wrap=True)
    table.add_column("Orgs", overflow="fold")
    table.add_column("Title", ratio=3, overflow="fold")
    table.add_column("Tags", ratio=2, overflow="fold")
    for item in digest.items:
        table.add_row(
            str(item.rank),
            "🌟" * item.stars if item.stars else "-",
            Text(" / ".join(item.orgs)),
            Text(item.title),
            Text(" ".join(f"[{tag}]" for tag in item.tags)),
        )
    return table


def coverage_line(path: str, coverage: Coverage) -> str:
    """``FILE: 14 items, 0 dropped; missing: url 1; 0 problems`` for stderr."""
    return f"{path}: {coverage.line()}"


def parse(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A digest file (markdown, or contract JSON).", metavar="FILE")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the parsed digest as JSON.")
    ] = False,
) -> None:
    """Parse a digest file; print its items (or JSON), report problems as FILE:LINE and a
    coverage line (items, missing fields, problems) on stderr; exit 1 if anything was lost."""
    formats = Formats.from_settings(state(ctx).settings)
    result = parse_file(file, formats.options_for(file))
    if as_json:
        data = result.digest.model_dump(mode="json")
        typer.echo(safe_json(data, indent=2))
    else:
        out.print(digest_table(result.digest))
        out.print(
            Text(
                f"{len(result.digest.items)} items, {len(result.problems)} problems",
                style="red" if result.problems else "green",
            )
        )
    report_problems(result.problems)
    typer.echo(coverage_line(str(file), Coverage.of(result)), err=True)
    if result.problems:
        raise typer.Exit(1)
