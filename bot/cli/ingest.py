"""``digestbot ingest [PATH...]``: parse digest files and store them in the archive."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from bot.archive import Archive
from bot.cli.app import err, out, state
from bot.cli.parse import coverage_line
from bot.delivery import ingest_horizon
from bot.errors import ConfigError
from bot.ingest import Formats, ingest_paths
from bot.models import Problem
from formatters import strip_controls


def _located(problem: Problem) -> str:
    """``FILE:LINE: message``; a pattern that matched nothing has no line to show."""
    if problem.line > 0:
        return str(problem)
    return f"{problem.path}: {problem.message}"


def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Digest files, directories (all *.md inside) or globs. "
            "Default: the config's `sources`.",
            metavar="PATH...",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Parse digest files and store them; a coverage line per file and in total goes to
    stderr; exits non-zero if anything was reported (a dropped item always is)."""
    settings = state(ctx).settings
    base = None
    if not paths:
        if not settings.sources:
            where = settings.config_path or "<defaults>"
            raise ConfigError(f"{where}: sources: no PATH given and no `sources` configured")
        paths, base = list(settings.sources), settings.base_dir()
    archive = Archive.from_settings(settings)
    try:
        archive.create_schema()
        summary = ingest_paths(
            archive,
            paths,
            progress=True,
            console=err,
            base=base,
            formats=Formats.from_settings(settings),
            not_after=ingest_horizon(settings),
            date_conflict=settings.date_conflict,
        )
    finally:
        archive.close()
    for problem in summary.problems:
        typer.echo(strip_controls(_located(problem)), err=True)
    for path, coverage in summary.coverage.items():
        typer.echo(coverage_line(path, coverage), err=True)
    if len(summary.coverage) != 1:
        typer.echo(coverage_line("total", summary.total), err=True)
    out.print(Text(summary.line(), style="green" if summary.ok else "red"))
    if not summary.ok:
        raise typer.Exit(1)
