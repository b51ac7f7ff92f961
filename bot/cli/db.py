"""``digestbot db upgrade|current``: the archive's schema version, and upgrading it.

``run``, ``send`` and ``ingest`` upgrade in place at start anyway; these commands let an
operator do it (or check it) on purpose, e.g. before switching replicas to a new release.
"""

from __future__ import annotations

import typer
from rich.text import Text

from bot.archive import Archive
from bot.cli.app import out, state

db_app = typer.Typer(
    name="db",
    help="The archive's schema version: show it, or upgrade in place (Alembic).",
    no_args_is_help=True,
)


@db_app.command("current")
def current(ctx: typer.Context) -> None:
    """Print the archive's schema revision and this release's head; exit 1 if behind."""
    archive = Archive.from_settings(state(ctx).settings)
    try:
        schema = archive.schema_state()
    finally:
        archive.close()
    out.print(Text(f"{archive.where}: schema {schema.describe()}"))
    if not schema.up_to_date:
        raise typer.Exit(1)


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Create or upgrade the archive's tables to this release (safe to repeat)."""
    archive = Archive.from_settings(state(ctx).settings)
    try:
        before, after = archive.create_schema(progress=True)
    finally:
        archive.close()
    if before.current == after.current and before.has_tables:
        out.print(Text(f"{archive.where}: schema {after.describe()}, nothing to do"))
    else:
        was = before.current or ("0.1.0 (unversioned)" if before.has_tables else "empty")
        out.print(Text(f"{archive.where}: schema upgraded from {was} to {after.current}"))
