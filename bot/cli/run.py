"""``digestbot run``: the long-running service (scheduler, deliveries, listeners, /healthz)."""

from __future__ import annotations

import typer

from bot.cli.app import state
from bot.runtime import run as run_service


def run(ctx: typer.Context) -> None:
    """Run the scheduler and chat listeners until SIGTERM/SIGINT."""
    code = run_service(state(ctx).settings)
    if code:
        raise typer.Exit(code)
