"""``digestbot doctor``: check the config, archive, sources, platforms and channels once,
print one table, and exit 1 if anything would fail."""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table
from rich.text import Text

from bot.cli.app import out, state
from bot.errors import ConfigError
from bot.platforms import Check

_MARK = {"ok": ("✓ ok", "green"), "warn": ("! warn", "yellow"), "fail": ("✗ fail", "red")}


def doctor(ctx: typer.Context) -> None:
    """Check everything once and print a table; exit 1 if any check fails."""
    from bot.runtime import diagnose

    try:
        settings = state(ctx).settings
    except ConfigError as exc:
        rows = [Check("config", "fail", str(exc))]
    else:
        rows = asyncio.run(diagnose(settings))
    out.print(doctor_table(rows))
    failed = sum(row.status == "fail" for row in rows)
    if failed:
        out.print(Text(f"{failed} check(s) failed", style="red"))
        raise typer.Exit(1)


def doctor_table(rows: list[Check]) -> Table:
    """Everything printed as Text: details quote config values and platform answers."""
    table = Table(title="digestbot doctor")
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for row in rows:
        mark, style = _MARK[row.status]
        table.add_row(Text(row.area), Text(mark, style=style), Text(row.detail))
    return table
